// Winograd F(4x4, 3x3) path of conv2dForward: against a naive float64
// convolution written here, and against the im2col path.
import XCTest
@testable import RWCNN

final class WinogradTests: XCTestCase {
    /// Naive float64 cross-correlation with zero padding, stride 1, 3x3.
    private func reference(_ x: [Float], _ w: [Float], _ bias: [Float]?,
                           n: Int, cin: Int, h: Int, wd: Int, cout: Int, pad: Int) -> [Double] {
        let ho = h + 2 * pad - 2, wo = wd + 2 * pad - 2
        var y = [Double](repeating: 0, count: n * cout * ho * wo)
        for b in 0..<n {
            for co in 0..<cout {
                for i in 0..<ho {
                    for j in 0..<wo {
                        var s = bias.map { Double($0[co]) } ?? 0
                        for ci in 0..<cin {
                            for ki in 0..<3 {
                                let yy = i + ki - pad
                                if yy < 0 || yy >= h { continue }
                                for kj in 0..<3 {
                                    let xx = j + kj - pad
                                    if xx < 0 || xx >= wd { continue }
                                    s += Double(x[((b * cin + ci) * h + yy) * wd + xx])
                                        * Double(w[((co * cin + ci) * 3 + ki) * 3 + kj])
                                }
                            }
                        }
                        y[((b * cout + co) * ho + i) * wo + j] = s
                    }
                }
            }
        }
        return y
    }

    /// Normwise relative error ||y - ref|| / ||ref||, and the largest
    /// elementwise error relative to the largest |ref|.
    private func errors(_ y: [Float], _ ref: [Double]) -> (norm: Double, max: Double) {
        var num = 0.0, den = 0.0, maxDiff = 0.0, maxRef = 0.0
        for (a, b) in zip(y, ref) {
            let d = Double(a) - b
            num += d * d; den += b * b
            maxDiff = Swift.max(maxDiff, abs(d)); maxRef = Swift.max(maxRef, abs(b))
        }
        return ((num / Swift.max(den, 1e-300)).squareRoot(), maxDiff / Swift.max(maxRef, 1e-300))
    }

    /// The Winograd kernel itself (whatever the size rule of the dispatch says).
    private func winograd(_ x: Tensor, _ w: Tensor, _ b: Tensor?, pad: Int) throws -> Tensor {
        let call = try convCall(op: "test", input: x.shape, weight: w.shape, stride: 1, padding: pad)
        return try winogradConv2d(call, input: x, weight: w, bias: b)
    }

    /// conv2dForward with the Winograd switch set to `enabled`, restored after.
    private func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, pad: Int, winograd enabled: Bool) throws -> Tensor {
        let saved = winogradEnabled
        winogradEnabled = enabled
        defer { winogradEnabled = saved }
        return try conv2dForward(input: x, weight: w, bias: b, stride: 1, padding: pad)
    }

    private struct Case {
        let n, cin, h, w, cout, pad: Int
        let bias: Bool
    }

    private let cases: [Case] = [
        Case(n: 1, cin: 8, h: 13, w: 7, cout: 5, pad: 1, bias: true),
        Case(n: 2, cin: 16, h: 9, w: 17, cout: 8, pad: 1, bias: false),
        Case(n: 3, cin: 8, h: 13, w: 8, cout: 12, pad: 1, bias: true),
        Case(n: 1, cin: 64, h: 16, w: 16, cout: 64, pad: 1, bias: true),
        Case(n: 2, cin: 32, h: 11, w: 14, cout: 9, pad: 0, bias: true),
        Case(n: 1, cin: 24, h: 21, w: 10, cout: 64, pad: 0, bias: false),
        Case(n: 1, cin: 9, h: 3, w: 5, cout: 7, pad: 0, bias: true),
        Case(n: 1, cin: 512, h: 14, w: 14, cout: 16, pad: 1, bias: true),
    ]

    func testDispatchRule() throws {
        func applies(_ x: [Int], _ w: [Int], stride: Int = 1, pad: Int = 1) throws -> Bool {
            winogradApplies(try convCall(op: "test", input: x, weight: w, stride: stride, padding: pad))
        }
        XCTAssertTrue(try applies([1, 64, 56, 56], [64, 64, 3, 3]))
        XCTAssertTrue(try applies([8, 64, 28, 28], [64, 64, 3, 3], pad: 0))
        XCTAssertFalse(try applies([1, 3, 224, 224], [64, 3, 3, 3]), "3-channel first layers stay on im2col")
        XCTAssertFalse(try applies([1, 16, 64, 64], [16, 16, 3, 3], stride: 2))
        XCTAssertFalse(try applies([1, 16, 64, 64], [16, 16, 5, 5], pad: 2))
        XCTAssertFalse(try applies([1, 16, 64, 64], [16, 16, 3, 3], pad: 2))
        XCTAssertFalse(try applies([1, 512, 14, 14], [512, 512, 3, 3]), "too few tiles to pay off")
    }

    func testDispatchedPathMatchesIm2col() throws {
        // 1 x 64 x 64: 256 tiles, so conv2dForward takes the Winograd path.
        var rng = KernelTestRNG(seed: 11)
        let x = rng.tensor([1, 16, 64, 64]), w = rng.tensor([24, 16, 3, 3]), b = rng.tensor([24])
        let fast = try conv(x, w, b, pad: 1, winograd: true)
        let plain = try conv(x, w, b, pad: 1, winograd: false)
        XCTAssertNotEqual(fast.data, plain.data, "the two paths should round differently")
        XCTAssertLessThan(errors(fast.data, plain.data.map(Double.init)).norm, 1e-5)
    }

    func testMatchesFloat64ReferenceWithHeScaledWeights() throws {
        var rng = KernelTestRNG(seed: 41)
        for c in cases {
            // Inputs like post-ReLU activations; He-scaled weights (std sqrt(2 / fan_in)).
            let x = (0..<(c.n * c.cin * c.h * c.w)).map { _ in Float(rng.uniform(0, 1)) }
            let scale = (2.0 / Double(c.cin * 9)).squareRoot() * 3.0.squareRoot()
            let w = (0..<(c.cout * c.cin * 9)).map { _ in Float(rng.uniform(-scale, scale)) }
            let b: [Float]? = c.bias ? (0..<c.cout).map { _ in Float(rng.uniform(-0.5, 0.5)) } : nil
            let y = try winograd(Tensor(shape: [c.n, c.cin, c.h, c.w], data: x),
                                 Tensor(shape: [c.cout, c.cin, 3, 3], data: w),
                                 b.map { try Tensor(shape: [c.cout], data: $0) }, pad: c.pad)
            let ho = c.h + 2 * c.pad - 2, wo = c.w + 2 * c.pad - 2
            XCTAssertEqual(y.shape, [c.n, c.cout, ho, wo])
            let ref = reference(x, w, b, n: c.n, cin: c.cin, h: c.h, wd: c.w, cout: c.cout, pad: c.pad)
            let e = errors(y.data, ref)
            XCTAssertLessThan(e.norm, 1e-4, "\(c): normwise relative error \(e.norm)")
            XCTAssertLessThan(e.max, 1e-4, "\(c): max error relative to max |ref| \(e.max)")
        }
    }

    func testAgreesWithIm2colPath() throws {
        var rng = KernelTestRNG(seed: 7)
        for c in cases {
            let x = rng.tensor([c.n, c.cin, c.h, c.w])
            let w = rng.tensor([c.cout, c.cin, 3, 3])
            let b = c.bias ? rng.tensor([c.cout]) : nil
            let fast = try winograd(x, w, b, pad: c.pad)
            let plain = try conv(x, w, b, pad: c.pad, winograd: false)
            XCTAssertEqual(fast.shape, plain.shape)
            let ref = plain.data.map(Double.init)
            let e = errors(fast.data, ref)
            XCTAssertLessThan(e.norm, 1e-4, "\(c): Winograd vs im2col \(e.norm)")
        }
    }

    func testBlocksAndChannelGroupsGiveTheSameResult() throws {
        // A tiny block budget forces one tile row per block, across image boundaries.
        // Only sgemm's shapes change (BLAS may then sum in another order), hence the tolerance.
        var rng = KernelTestRNG(seed: 3)
        let x = rng.tensor([3, 8, 10, 9]), w = rng.tensor([8, 8, 3, 3]), b = rng.tensor([8])
        let whole = try winograd(x, w, b, pad: 1)
        let saved = (winogradBlockFloats, winogradMinBlockTiles, winogradWeightFloats)
        defer { (winogradBlockFloats, winogradMinBlockTiles, winogradWeightFloats) = saved }
        (winogradBlockFloats, winogradMinBlockTiles) = (1, 1)
        let split = try winograd(x, w, b, pad: 1)
        XCTAssertLessThan(errors(split.data, whole.data.map(Double.init)).norm, 1e-6)
        // And one output channel per weight-transform group.
        winogradWeightFloats = 1
        let grouped = try winograd(x, w, b, pad: 1)
        XCTAssertLessThan(errors(grouped.data, whole.data.map(Double.init)).norm, 1e-6)
    }
}
