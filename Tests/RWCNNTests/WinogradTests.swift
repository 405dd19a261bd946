// Winograd F(4x4, 3x3) paths (conv2d forward, convTranspose2d forward and
// the backward-data passes of both): against naive float64 references and
// against the im2col path.
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

    /// The Winograd kernel itself (whatever the size rule of the dispatch says).
    private func winograd(_ x: Tensor, _ w: Tensor, _ b: Tensor?, pad: Int,
                          context: ExecutionContext = ExecutionContext()) throws -> Tensor {
        let call = try convCall(op: "test", input: x.shape, weight: w.shape, stride: 1, padding: pad,
                                tuning: context.tuning)
        return try winogradConv2d(call, input: x, weight: w, bias: b, context: context)
    }

    /// A context whose Winograd switch is `enabled`; when enabled, every
    /// supported forward and backward-data call takes it (no tile
    /// threshold). Weight gradients stay on GEMM here, so the tests below can
    /// check that they do not depend on the data path; their own Winograd
    /// path is tested in WinogradGradientTests.
    private func context(winograd enabled: Bool) -> ExecutionContext {
        var c = ExecutionContext()
        c.tuning.winograd = enabled
        c.tuning.winogradMinTiles = 1
        c.tuning.winogradMinTilesCached = 1
        c.tuning.winogradGradientMinTiles = Int.max
        return c
    }

    /// conv2dForward with the Winograd path `enabled` or not.
    private func conv(_ x: Tensor, _ w: Tensor, _ b: Tensor?, pad: Int, winograd enabled: Bool) throws -> Tensor {
        try conv2dForward(input: x, weight: w, bias: b, stride: 1, padding: pad, context: context(winograd: enabled))
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
            let t = KernelTuning()
            return winogradApplies(try convCall(op: "test", input: x, weight: w, stride: stride, padding: pad, tuning: t),
                                   tuning: t)
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
        XCTAssertLessThan(normwiseAndMaxErrors(fast.data, plain.data.map(Double.init)).norm, 1e-5)
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
            let e = normwiseAndMaxErrors(y.data, ref)
            // The documented bound (Winograd.swift): normwise under 3e-6, elementwise under 7e-6.
            XCTAssertLessThan(e.norm, 3e-6, "\(c): normwise relative error \(e.norm)")
            XCTAssertLessThan(e.max, 7e-6, "\(c): max error relative to max |ref| \(e.max)")
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
            let e = normwiseAndMaxErrors(fast.data, ref)
            XCTAssertLessThan(e.norm, 2e-5, "\(c): Winograd vs im2col \(e.norm)")
        }
    }

    func testBlocksAndChannelGroupsGiveTheSameResult() throws {
        // A tiny block budget forces one tile row per block, across image boundaries.
        // Only sgemm's shapes change (BLAS may then sum in another order), hence the tolerance.
        var rng = KernelTestRNG(seed: 3)
        let x = rng.tensor([3, 8, 10, 9]), w = rng.tensor([8, 8, 3, 3]), b = rng.tensor([8])
        let whole = try winograd(x, w, b, pad: 1)
        for threads in [1, 2, 3] {
            var small = ExecutionContext(threads: threads)
            (small.tuning.winogradBlockFloats, small.tuning.winogradMinBlockTiles) = (1, 1)
            let split = try winograd(x, w, b, pad: 1, context: small)
            XCTAssertLessThan(normwiseAndMaxErrors(split.data, whole.data.map(Double.init)).norm, 1e-6, "\(threads) threads")
            // And one output channel per weight-transform group.
            small.tuning.winogradWeightFloats = 1
            let grouped = try winograd(x, w, b, pad: 1, context: small)
            XCTAssertLessThan(normwiseAndMaxErrors(grouped.data, whole.data.map(Double.init)).norm, 1e-6, "\(threads) threads")
        }
    }

    // MARK: transposed convolution and backward-data passes

    /// He-scaled weights and post-ReLU-like inputs, as in the float64 test above.
    private func heCase(_ rng: inout KernelTestRNG, x xs: [Int], w ws: [Int], fanIn: Int) -> (Tensor, Tensor) {
        let x = (0..<xs.reduce(1, *)).map { _ in Float(rng.uniform(0, 1)) }
        let scale = (2.0 / Double(fanIn * 9)).squareRoot() * 3.0.squareRoot()
        let w = (0..<ws.reduce(1, *)).map { _ in Float(rng.uniform(-scale, scale)) }
        return ((try? Tensor(shape: xs, data: x))!, (try? Tensor(shape: ws, data: w))!)
    }

    /// (batch, channels in, channels out, height, width, padding): odd sizes and channel counts.
    private let transposedCases: [(Int, Int, Int, Int, Int, Int)] = [
        (1, 9, 5, 13, 7, 1), (2, 16, 11, 9, 17, 1), (3, 8, 3, 10, 9, 1), (1, 13, 8, 6, 11, 0),
        (2, 24, 9, 5, 5, 2), (1, 64, 3, 16, 16, 1),
    ]

    func testTransposedForwardMatchesFloat64Reference() throws {
        var rng = KernelTestRNG(seed: 51)
        let fast = context(winograd: true)
        for (n, cin, cout, h, w, p) in transposedCases {
            // convTranspose2d weight [Cin_t, Cout_t, 3, 3]; its fan-in is Cin_t * 9.
            let (x, wt) = heCase(&rng, x: [n, cin, h, w], w: [cin, cout, 3, 3], fanIn: cin)
            let b = rng.tensor([cout])
            let call = try convTransposeCall(op: "test", input: x.shape, weight: wt.shape, stride: 1, padding: p,
                                             tuning: fast.tuning)
            XCTAssertTrue(winogradAppliesTransposed(call, tuning: fast.tuning), "case takes the Winograd path")
            let y = try convTranspose2dForward(input: x, weight: wt, bias: b, stride: 1, padding: p, context: fast)
            let ref = Naive.convTranspose(x.data.map(Double.init), x.shape, wt.data.map(Double.init), wt.shape,
                                          b.data.map(Double.init), stride: 1, padding: p)
            XCTAssertEqual(y.shape, ref.shape)
            let e = normwiseAndMaxErrors(y.data, ref.values)
            XCTAssertLessThan(e.norm, 3e-6, "\((n, cin, cout, h, w, p)): normwise \(e.norm)")
            XCTAssertLessThan(e.max, 7e-6, "\((n, cin, cout, h, w, p)): elementwise \(e.max)")
        }
    }

    func testConvInputGradientMatchesFloat64Reference() throws {
        // The input gradient of conv2d is the transposed convolution of gradOutput.
        var rng = KernelTestRNG(seed: 52)
        let fast = context(winograd: true)
        for (n, cout, cin, h, w, p) in transposedCases where p <= 1 {
            let (x, wt) = heCase(&rng, x: [n, cin, h + 2, w + 2], w: [cout, cin, 3, 3], fanIn: cout)
            let gyShape = [n, cout, h + 2 + 2 * p - 2, w + 2 + 2 * p - 2]
            let gy = (try? Tensor(shape: gyShape, data: (0..<gyShape.reduce(1, *)).map { _ in Float(rng.uniform(0, 1)) }))!
            let g = try conv2dBackward(input: x, weight: wt, gradOutput: gy, stride: 1, padding: p, context: fast)
            let ref = Naive.convTranspose(gy.data.map(Double.init), gy.shape, wt.data.map(Double.init), wt.shape,
                                          nil, stride: 1, padding: p)
            XCTAssertEqual(ref.shape, x.shape)
            let e = normwiseAndMaxErrors(g.input!.data, ref.values)
            XCTAssertLessThan(e.norm, 3e-6, "\((n, cout, cin, h, w, p)): normwise \(e.norm)")
            XCTAssertLessThan(e.max, 7e-6, "\((n, cout, cin, h, w, p)): elementwise \(e.max)")
            // The weight gradient (GEMM) is unchanged by the path of the input gradient.
            let plain = try conv2dBackward(input: x, weight: wt, gradOutput: gy, stride: 1, padding: p,
                                           context: context(winograd: false))
            XCTAssertEqual(g.weight, plain.weight)
            XCTAssertEqual(g.bias, plain.bias)
            XCTAssertLessThan(normwiseAndMaxErrors(g.input!.data, plain.input!.data.map(Double.init)).norm, 2e-5)
        }
    }

    func testTransposedInputGradientMatchesFloat64Reference() throws {
        // The input gradient of convTranspose2d is the convolution of gradOutput.
        var rng = KernelTestRNG(seed: 53)
        let fast = context(winograd: true)
        // The convolution Winograd runs reads gradOutput: its channels (cout here) are the first count.
        for (n, cout, cin, h, w, p) in transposedCases where p <= 1 {
            // Transposed conv [N, cin, h, w] -> [N, cout, h + 2 - 2p, w + 2 - 2p]; gy is its output gradient.
            let (x, wt) = heCase(&rng, x: [n, cin, h, w], w: [cin, cout, 3, 3], fanIn: cout)
            let gyShape = [n, cout, h + 2 - 2 * p, w + 2 - 2 * p]
            let gy = (try? Tensor(shape: gyShape, data: (0..<gyShape.reduce(1, *)).map { _ in Float(rng.uniform(0, 1)) }))!
            let g = try convTranspose2dBackward(input: x, weight: wt, gradOutput: gy, stride: 1, padding: p,
                                                context: fast)
            let ref = Naive.conv(gy.data.map(Double.init), gy.shape, wt.data.map(Double.init), wt.shape,
                                 nil, stride: 1, padding: p)
            XCTAssertEqual(ref.shape, x.shape)
            let e = normwiseAndMaxErrors(g.input!.data, ref.values)
            XCTAssertLessThan(e.norm, 3e-6, "\((n, cin, cout, h, w, p)): normwise \(e.norm)")
            XCTAssertLessThan(e.max, 7e-6, "\((n, cin, cout, h, w, p)): elementwise \(e.max)")
            let plain = try convTranspose2dBackward(input: x, weight: wt, gradOutput: gy, stride: 1, padding: p,
                                                    context: context(winograd: false))
            XCTAssertEqual(g.weight, plain.weight)
            XCTAssertEqual(g.bias, plain.bias)
        }
    }

    func testFusedReluAndCachedWeightsMatchSeparatePasses() throws {
        var rng = KernelTestRNG(seed: 54)
        let fast = context(winograd: true)
        let x = rng.tensor([2, 16, 12, 10]), w = rng.tensor([12, 16, 3, 3]), b = rng.tensor([12])
        let plain = try conv2dForward(input: x, weight: w, bias: b, stride: 1, padding: 1, context: fast)
        let call = try convCall(op: "test", input: x.shape, weight: w.shape, stride: 1, padding: 1, tuning: fast.tuning)
        let shape = WinogradShape(conv: call)
        var u = [Float](repeating: 0, count: winogradTransformedCount(shape))
        w.data.withUnsafeBufferPointer { wb in
            u.withUnsafeMutableBufferPointer { ub in
                winogradTransformedWeights(shape, filters: .conv(wb.baseAddress!), into: ub.baseAddress!, threads: 2)
            }
        }
        let fused = try conv2dForward(input: x, weight: w, bias: b, stride: 1, padding: 1, relu: true,
                                      transformed: u, context: fast)
        XCTAssertEqual(fused.data, reluForward(plain).data, "same transform, same sums: bit-identical")
        // Transposed, flipped weights: the cached transform equals the on-the-fly one.
        let xt = rng.tensor([2, 12, 9, 11])
        let tplain = try convTranspose2dForward(input: xt, weight: w, bias: nil, stride: 1, padding: 1, context: fast)
        let tcall = try convTransposeCall(op: "test", input: xt.shape, weight: w.shape, stride: 1, padding: 1,
                                          tuning: fast.tuning)
        let tshape = WinogradShape(transposed: tcall)
        var ut = [Float](repeating: 0, count: winogradTransformedCount(tshape))
        w.data.withUnsafeBufferPointer { wb in
            ut.withUnsafeMutableBufferPointer { ub in
                winogradTransformedWeights(tshape, filters: .transposed(wb.baseAddress!), into: ub.baseAddress!, threads: 1)
            }
        }
        let tfused = try convTranspose2dForward(input: xt, weight: w, bias: nil, stride: 1, padding: 1, relu: true,
                                                transformed: ut, context: fast)
        XCTAssertEqual(tfused.data, reluForward(tplain).data)
    }
}
