// Kernel tests: every forward against a naive float64 reference written here,
// every backward against central finite differences of that reference, the
// transposed convolution against the adjoint identity, and bad arguments.
import XCTest
@testable import RWCNN

/// Naive float64 references, written from the definitions (loops over every
/// output or input element), independent of the kernels under test.
enum Naive {
    static func conv(_ x: [Double], _ xs: [Int], _ w: [Double], _ ws: [Int], _ bias: [Double]?,
                     stride s: Int, padding p: Int) -> (values: [Double], shape: [Int]) {
        let (n, cin, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (cout, kh, kw) = (ws[0], ws[2], ws[3])
        let ho = (h + 2 * p - kh) / s + 1, wo = (wd + 2 * p - kw) / s + 1
        var y = [Double](repeating: 0, count: n * cout * ho * wo)
        for b in 0..<n { for co in 0..<cout { for oh in 0..<ho { for ow in 0..<wo {
            var acc = bias?[co] ?? 0
            for ci in 0..<cin { for ki in 0..<kh { for kj in 0..<kw {
                let ih = oh * s - p + ki, iw = ow * s - p + kj
                guard ih >= 0, ih < h, iw >= 0, iw < wd else { continue }
                acc += x[((b * cin + ci) * h + ih) * wd + iw] * w[((co * cin + ci) * kh + ki) * kw + kj]
            } } }
            y[((b * cout + co) * ho + oh) * wo + ow] = acc
        } } } }
        return (y, [n, cout, ho, wo])
    }

    /// Transposed convolution by its scatter definition: input cell (ih, iw)
    /// adds x * w[ci, co, ki, kj] to output cell (ih*s - p + ki, iw*s - p + kj).
    static func convTranspose(_ x: [Double], _ xs: [Int], _ w: [Double], _ ws: [Int], _ bias: [Double]?,
                              stride s: Int, padding p: Int) -> (values: [Double], shape: [Int]) {
        let (n, cin, h, wd) = (xs[0], xs[1], xs[2], xs[3])
        let (cout, kh, kw) = (ws[1], ws[2], ws[3])
        let ho = (h - 1) * s - 2 * p + kh, wo = (wd - 1) * s - 2 * p + kw
        var y = [Double](repeating: 0, count: n * cout * ho * wo)
        for b in 0..<n { for co in 0..<cout { for i in 0..<(ho * wo) { y[(b * cout + co) * ho * wo + i] = bias?[co] ?? 0 } } }
        for b in 0..<n { for ci in 0..<cin { for ih in 0..<h { for iw in 0..<wd {
            let v = x[((b * cin + ci) * h + ih) * wd + iw]
            for co in 0..<cout { for ki in 0..<kh { for kj in 0..<kw {
                let oh = ih * s - p + ki, ow = iw * s - p + kj
                guard oh >= 0, oh < ho, ow >= 0, ow < wo else { continue }
                y[((b * cout + co) * ho + oh) * wo + ow] += v * w[((ci * cout + co) * kh + ki) * kw + kj]
            } } }
        } } } }
        return (y, [n, cout, ho, wo])
    }

    static func maxPool(_ x: [Double], _ xs: [Int], kernel k: Int, stride s: Int)
        -> (values: [Double], switches: [Int], shape: [Int]) {
        let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3])
        let ho = (h - k) / s + 1, wo = (w - k) / s + 1
        var y: [Double] = [], sw: [Int] = []
        for plane in 0..<(n * c) { for oh in 0..<ho { for ow in 0..<wo {
            var best = -Double.infinity, arg = -1
            for i in 0..<k { for j in 0..<k {
                let idx = (oh * s + i) * w + ow * s + j
                if arg < 0 || x[plane * h * w + idx] > best { best = x[plane * h * w + idx]; arg = idx }
            } }
            y.append(best); sw.append(arg)
        } } }
        return (y, sw, [n, c, ho, wo])
    }

    static func unpool(_ x: [Double], _ xs: [Int], mode: UnpoolMode, kernel k: Int, stride s: Int,
                       outH: Int, outW: Int, switches: [Int]) -> [Double] {
        let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3])
        var y = [Double](repeating: 0, count: n * c * outH * outW)
        for plane in 0..<(n * c) { for i in 0..<h { for j in 0..<w {
            let e = (plane * h + i) * w + j, v = x[e], base = plane * outH * outW
            switch mode {
            case .switches: y[base + switches[e]] += v
            case .zeros: y[base + i * s * outW + j * s] += v
            case .nearest:
                for a in 0..<k { for b in 0..<k { y[base + (i * s + a) * outW + j * s + b] += v } }
            }
        } } }
        return y
    }
}

private func doubles(_ t: Tensor) -> [Double] { t.data.map(Double.init) }
private func doubles(_ a: [Float]) -> [Double] { a.map(Double.init) }

private func dot(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
}

/// Central differences of `loss` at `x`, element by element.
private func finiteDifferences(_ x: [Double], eps: Double = 1e-3, _ loss: ([Double]) -> Double) -> [Double] {
    var x = x
    var g = [Double](repeating: 0, count: x.count)
    for i in x.indices {
        let v = x[i]
        x[i] = v + eps; let up = loss(x)
        x[i] = v - eps; let down = loss(x)
        x[i] = v
        g[i] = (up - down) / (2 * eps)
    }
    return g
}

/// Runs `body` with the default column tiles and again with one output row
/// per tile, so that tile boundaries in im2col/col2im are exercised.
private func withEachTiling(_ body: (String, ExecutionContext) throws -> Void) rethrows {
    try body("default tiles", ExecutionContext())
    var small = ExecutionContext()
    small.tuning.columnTileBytes = 1
    small.tuning.minTileColumns = 1
    try body("one-row tiles", small)
}

/// A convolution configuration; H and W are drawn at random per test.
private struct ConvCase {
    let batch: Int, cin: Int, cout: Int, kh: Int, kw: Int, stride: Int, padding: Int
}

private let forwardCases: [ConvCase] = [
    ConvCase(batch: 1, cin: 3, cout: 4, kh: 3, kw: 3, stride: 1, padding: 1),
    ConvCase(batch: 2, cin: 2, cout: 5, kh: 3, kw: 3, stride: 2, padding: 1),
    ConvCase(batch: 3, cin: 4, cout: 3, kh: 5, kw: 5, stride: 1, padding: 2),
    ConvCase(batch: 2, cin: 3, cout: 2, kh: 5, kw: 5, stride: 2, padding: 0),
    ConvCase(batch: 1, cin: 5, cout: 6, kh: 1, kw: 1, stride: 1, padding: 0),
    ConvCase(batch: 2, cin: 3, cout: 4, kh: 1, kw: 1, stride: 2, padding: 0),
    ConvCase(batch: 3, cin: 2, cout: 3, kh: 1, kw: 1, stride: 1, padding: 1),
    ConvCase(batch: 1, cin: 3, cout: 2, kh: 3, kw: 1, stride: 1, padding: 2),
    ConvCase(batch: 2, cin: 4, cout: 4, kh: 3, kw: 3, stride: 2, padding: 2),
    ConvCase(batch: 2, cin: 2, cout: 3, kh: 3, kw: 3, stride: 1, padding: 0),
]

private let gradientCases: [ConvCase] = [
    ConvCase(batch: 2, cin: 2, cout: 3, kh: 3, kw: 3, stride: 1, padding: 1),
    ConvCase(batch: 1, cin: 3, cout: 2, kh: 3, kw: 3, stride: 2, padding: 0),
    ConvCase(batch: 2, cin: 2, cout: 2, kh: 5, kw: 5, stride: 1, padding: 2),
    ConvCase(batch: 3, cin: 2, cout: 3, kh: 1, kw: 1, stride: 1, padding: 0),
    ConvCase(batch: 1, cin: 2, cout: 2, kh: 3, kw: 3, stride: 2, padding: 2),
    ConvCase(batch: 2, cin: 3, cout: 2, kh: 1, kw: 1, stride: 2, padding: 1),
]

/// Throws XCTest failures unless `body` throws `RWCNNError.argument`.
private func assertArgumentError(_ label: String, _ body: () throws -> Any,
                                 file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("\(label): no error thrown", file: file, line: line)
    } catch let e as RWCNNError {
        if case .argument = e { return }
        XCTFail("\(label): \(e) is not .argument", file: file, line: line)
    } catch {
        XCTFail("\(label): unexpected error \(error)", file: file, line: line)
    }
}

final class KernelTests: XCTestCase {
    // MARK: convolution

    func testConvForwardMatchesNaiveReference() throws {
        var rng = KernelTestRNG(seed: 1)
        try withEachTiling { tiling, ctx in
            for c in forwardCases {
                let h = max(1, c.kh - 2 * c.padding) + rng.int(0...9)
                let w = max(1, c.kw - 2 * c.padding) + rng.int(0...9)
                let x = rng.tensor([c.batch, c.cin, h, w])
                let wt = rng.tensor([c.cout, c.cin, c.kh, c.kw])
                let b = rng.tensor([c.cout])
                let y = try conv2dForward(input: x, weight: wt, bias: b, stride: c.stride, padding: c.padding, context: ctx)
                let ref = Naive.conv(doubles(x), x.shape, doubles(wt), wt.shape, doubles(b),
                                     stride: c.stride, padding: c.padding)
                XCTAssertEqual(y.shape, ref.shape, "\(c) \(h)x\(w)")
                XCTAssertLessThan(relativeError(doubles(y), ref.values), 1e-5, "\(tiling) \(c) \(h)x\(w)")
                let noBias = try conv2dForward(input: x, weight: wt, bias: nil, stride: c.stride, padding: c.padding, context: ctx)
                let refNoBias = Naive.conv(doubles(x), x.shape, doubles(wt), wt.shape, nil,
                                           stride: c.stride, padding: c.padding)
                XCTAssertLessThan(relativeError(doubles(noBias), refNoBias.values), 1e-5, "\(tiling) \(c) no bias")
            }
        }
    }

    func testConvBackwardMatchesFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 2)
        try withEachTiling { tiling, ctx in
            for c in gradientCases {
                let h = max(1, c.kh - 2 * c.padding) + rng.int(0...4)
                let w = max(1, c.kw - 2 * c.padding) + rng.int(0...4)
                let x = rng.tensor([c.batch, c.cin, h, w])
                let wt = rng.tensor([c.cout, c.cin, c.kh, c.kw])
                let b = rng.tensor([c.cout])
                let outShape = Naive.conv(doubles(x), x.shape, doubles(wt), wt.shape, nil,
                                          stride: c.stride, padding: c.padding).shape
                let gy = rng.tensor(outShape)
                let g = try conv2dBackward(input: x, weight: wt, gradOutput: gy, stride: c.stride, padding: c.padding, context: ctx)
                let (xd, wd, bd, gyd) = (doubles(x), doubles(wt), doubles(b), doubles(gy))
                let xs = x.shape
                func loss(_ xv: [Double], _ wv: [Double], _ bv: [Double]) -> Double {
                    dot(gyd, Naive.conv(xv, xs, wv, wt.shape, bv, stride: c.stride, padding: c.padding).values)
                }
                let fdX = finiteDifferences(xd) { loss($0, wd, bd) }
                let fdW = finiteDifferences(wd) { loss(xd, $0, bd) }
                let fdB = finiteDifferences(bd) { loss(xd, wd, $0) }
                let label = "\(tiling) \(c) \(h)x\(w)"
                XCTAssertEqual(g.input?.shape, x.shape, label)
                XCTAssertEqual(g.weight.shape, wt.shape, label)
                XCTAssertEqual(g.bias.shape, b.shape, label)
                XCTAssertLessThan(relativeError(doubles(g.input ?? Tensor(checkedZeros: [0])), fdX), 1e-3, "input grad \(label)")
                XCTAssertLessThan(relativeError(doubles(g.weight), fdW), 1e-3, "weight grad \(label)")
                XCTAssertLessThan(relativeError(doubles(g.bias), fdB), 1e-3, "bias grad \(label)")

                let noInput = try conv2dBackward(input: x, weight: wt, gradOutput: gy, stride: c.stride,
                                                 padding: c.padding, needInputGradient: false, context: ctx)
                XCTAssertNil(noInput.input, label)
                XCTAssertLessThan(relativeError(doubles(noInput.weight), fdW), 1e-3, "weight grad without input \(label)")
                XCTAssertEqual(noInput.bias, g.bias, label)
            }
        }
    }

    // MARK: transposed convolution

    func testConvTransposeForwardMatchesNaiveReference() throws {
        var rng = KernelTestRNG(seed: 3)
        try withEachTiling { tiling, ctx in
            for c in forwardCases {
                // Input [N, cout, h, w] -> output [N, cin, Ho, Wo]; Ho >= 1 needs (h-1)*s + kh > 2p.
                var h = 1 + rng.int(0...8), w = 1 + rng.int(0...8)
                while (h - 1) * c.stride - 2 * c.padding + c.kh < 1 { h += 1 }
                while (w - 1) * c.stride - 2 * c.padding + c.kw < 1 { w += 1 }
                let x = rng.tensor([c.batch, c.cout, h, w])
                let wt = rng.tensor([c.cout, c.cin, c.kh, c.kw])
                let b = rng.tensor([c.cin])
                let y = try convTranspose2dForward(input: x, weight: wt, bias: b, stride: c.stride, padding: c.padding, context: ctx)
                let ref = Naive.convTranspose(doubles(x), x.shape, doubles(wt), wt.shape, doubles(b),
                                              stride: c.stride, padding: c.padding)
                XCTAssertEqual(y.shape, ref.shape, "\(c) \(h)x\(w)")
                XCTAssertLessThan(relativeError(doubles(y), ref.values), 1e-5, "\(tiling) \(c) \(h)x\(w)")
            }
        }
    }

    func testConvTransposeIsAdjointOfConv() throws {
        var rng = KernelTestRNG(seed: 4)
        try withEachTiling { tiling, ctx in
            for c in forwardCases {
                // (H + 2p - k) divisible by the stride: then convT maps back to exactly [H, W].
                var m = rng.int(0...5), n = rng.int(0...5)
                while c.kh - 2 * c.padding + c.stride * m < 1 { m += 1 }
                while c.kw - 2 * c.padding + c.stride * n < 1 { n += 1 }
                let h = c.kh - 2 * c.padding + c.stride * m, w = c.kw - 2 * c.padding + c.stride * n
                let x = rng.tensor([c.batch, c.cin, h, w])
                let wt = rng.tensor([c.cout, c.cin, c.kh, c.kw])
                let cx = try conv2dForward(input: x, weight: wt, bias: nil, stride: c.stride, padding: c.padding, context: ctx)
                let y = rng.tensor(cx.shape)
                let ty = try convTranspose2dForward(input: y, weight: wt, bias: nil, stride: c.stride, padding: c.padding, context: ctx)
                XCTAssertEqual(ty.shape, x.shape, "\(c)")
                let lhs = dot(doubles(cx), doubles(y)), rhs = dot(doubles(x), doubles(ty))
                XCTAssertLessThan(relativeError([lhs], [rhs]), 1e-5, "\(tiling) \(c) \(h)x\(w): \(lhs) vs \(rhs)")
            }
        }
    }

    func testConvTransposeBackwardMatchesFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 5)
        try withEachTiling { tiling, ctx in
            for c in gradientCases {
                var h = 1 + rng.int(0...3), w = 1 + rng.int(0...3)
                while (h - 1) * c.stride - 2 * c.padding + c.kh < 1 { h += 1 }
                while (w - 1) * c.stride - 2 * c.padding + c.kw < 1 { w += 1 }
                let xs = [c.batch, c.cout, h, w]
                let x = rng.tensor(xs)
                let wt = rng.tensor([c.cout, c.cin, c.kh, c.kw])
                let b = rng.tensor([c.cin])
                let outShape = Naive.convTranspose(doubles(x), xs, doubles(wt), wt.shape, nil,
                                                   stride: c.stride, padding: c.padding).shape
                let gy = rng.tensor(outShape)
                let g = try convTranspose2dBackward(input: x, weight: wt, gradOutput: gy, stride: c.stride, padding: c.padding, context: ctx)
                let (xd, wd, bd, gyd) = (doubles(x), doubles(wt), doubles(b), doubles(gy))
                func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
                    dot(gyd, Naive.convTranspose(x, xs, w, wt.shape, b, stride: c.stride, padding: c.padding).values)
                }
                let label = "\(tiling) \(c) \(h)x\(w)"
                XCTAssertEqual(g.input?.shape, x.shape, label)
                XCTAssertEqual(g.weight.shape, wt.shape, label)
                XCTAssertEqual(g.bias.shape, b.shape, label)
                XCTAssertLessThan(relativeError(doubles(g.input ?? Tensor(checkedZeros: [0])),
                                                finiteDifferences(xd) { loss($0, wd, bd) }), 1e-3, "input grad \(label)")
                XCTAssertLessThan(relativeError(doubles(g.weight),
                                                finiteDifferences(wd) { loss(xd, $0, bd) }), 1e-3, "weight grad \(label)")
                XCTAssertLessThan(relativeError(doubles(g.bias),
                                                finiteDifferences(bd) { loss(xd, wd, $0) }), 1e-3, "bias grad \(label)")
                let noInput = try convTranspose2dBackward(input: x, weight: wt, gradOutput: gy, stride: c.stride,
                                                          padding: c.padding, needInputGradient: false, context: ctx)
                XCTAssertNil(noInput.input, label)
                XCTAssertLessThan(relativeError(doubles(noInput.weight), doubles(g.weight)), 1e-6, label)
            }
        }
    }

    // MARK: activation

    func testReluForwardAndBackward() throws {
        var rng = KernelTestRNG(seed: 6)
        for shape in [[1, 1, 1, 1], [2, 3, 5, 7], [3, 4, 33, 17], [1, 2, 300, 301]] {
            // Keep values away from the kink so that finite differences are exact.
            let n = shape.reduce(1, *)
            let x = try Tensor(shape: shape, data: (0..<n).map { _ in
                let v = Float(rng.uniform(0.05, 1)); return rng.unit() < 0.5 ? -v : v
            })
            let y = reluForward(x)
            XCTAssertEqual(y.shape, shape)
            XCTAssertEqual(doubles(y), doubles(x).map { max($0, 0) }, "\(shape)")
            var z = x
            reluInPlace(&z)
            XCTAssertEqual(z, y)
            guard n <= 2000 else { continue }
            let gy = rng.tensor(shape)
            let g = try reluBackward(output: y, gradOutput: gy)
            let fd = finiteDifferences(doubles(x), eps: 1e-4) { xd in dot(doubles(gy), xd.map { max($0, 0) }) }
            XCTAssertLessThan(relativeError(doubles(g), fd), 1e-3, "\(shape)")
        }
        var nan = try Tensor(shape: [1, 1, 1, 3], data: [.nan, -1, 2])
        reluInPlace(&nan)
        XCTAssertTrue(nan.data[0].isNaN)
        XCTAssertEqual(Array(nan.data[1...]), [0, 2])
    }

    // MARK: pooling

    private let poolCases: [(kernel: Int, stride: Int)] = [(2, 2), (3, 2), (3, 1), (1, 1), (2, 1), (3, 3)]

    func testMaxPoolForwardMatchesNaiveReference() throws {
        var rng = KernelTestRNG(seed: 7)
        for (k, s) in poolCases {
            let shape = [rng.int(1...3), rng.int(1...4), k + rng.int(0...10), k + rng.int(0...10)]
            let x = rng.tensor(shape)
            let p = try maxPoolForward(input: x, kernel: k, stride: s)
            let ref = Naive.maxPool(doubles(x), shape, kernel: k, stride: s)
            XCTAssertEqual(p.output.shape, ref.shape, "k\(k) s\(s) \(shape)")
            XCTAssertEqual(doubles(p.output), ref.values, "k\(k) s\(s) \(shape)")
            XCTAssertEqual(p.switches.map(Int.init), ref.switches, "k\(k) s\(s) \(shape)")
        }
    }

    func testMaxPoolSwitchesOnHandMadeExample() throws {
        let x = try Tensor(shape: [1, 1, 4, 4], data: [
            1, 3, 2, 2,
            4, 0, 2, 1,
            5, 5, 0, -1,
            5, 5, -2, -1,
        ])
        let p = try maxPoolForward(input: x, kernel: 2, stride: 2)
        XCTAssertEqual(p.output.shape, [1, 1, 2, 2])
        XCTAssertEqual(p.output.data, [4, 2, 5, 0])
        XCTAssertEqual(p.switches, [4, 2, 8, 10])  // ties go to the first in row-major order

        let q = try maxPoolForward(input: x, kernel: 3, stride: 1)
        XCTAssertEqual(q.output.data, [5, 5, 5, 5])
        XCTAssertEqual(q.switches, [8, 9, 8, 9])
        // Overlapping windows add their gradients at shared switches.
        let g = try maxPoolBackward(gradOutput: Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4]),
                                    switches: q.switches, inputShape: [1, 1, 4, 4])
        var expected = [Float](repeating: 0, count: 16)
        expected[8] = 4; expected[9] = 6
        XCTAssertEqual(g.data, expected)

        // A NaN in a window is propagated, with its position.
        let withNaN = try maxPoolForward(input: Tensor(shape: [1, 1, 2, 4], data: [1, .nan, 7, 8, 9, 2, 3, .nan]),
                                         kernel: 2, stride: 2)
        XCTAssertTrue(withNaN.output.data[0].isNaN)
        XCTAssertTrue(withNaN.output.data[1].isNaN)
        XCTAssertEqual(withNaN.switches, [1, 7])

        // Floor mode: a 5x5 input pooled 2x2/2 gives 2x2, the last row and column unused.
        let r = try maxPoolForward(input: Tensor(shape: [1, 1, 5, 5], data: (0..<25).map(Float.init)), kernel: 2, stride: 2)
        XCTAssertEqual(r.output.data, [6, 8, 16, 18])
        XCTAssertEqual(r.switches, [6, 8, 16, 18])
    }

    func testMaxPoolBackwardMatchesFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 8)
        for (k, s) in poolCases {
            let shape = [rng.int(1...2), rng.int(1...3), k + rng.int(0...5), k + rng.int(0...5)]
            let x = rng.tensor(shape)
            let p = try maxPoolForward(input: x, kernel: k, stride: s)
            let gy = rng.tensor(p.output.shape)
            let g = try maxPoolBackward(gradOutput: gy, switches: p.switches, inputShape: shape)
            XCTAssertEqual(g.shape, shape)
            let fd = finiteDifferences(doubles(x), eps: 1e-6) { xd in
                dot(doubles(gy), Naive.maxPool(xd, shape, kernel: k, stride: s).values)
            }
            XCTAssertLessThan(relativeError(doubles(g), fd), 1e-3, "k\(k) s\(s) \(shape)")
        }
    }

    // MARK: unpooling

    /// Random unpooling problems: pooled input, output size and the switches
    /// of a naive max pool over a random tensor of the output size.
    private func unpoolProblems(_ rng: inout KernelTestRNG)
        -> [(x: Tensor, k: Int, s: Int, outH: Int, outW: Int, switches: [Int])] {
        poolCases.map { (k, s) in
            let big = [rng.int(1...2), rng.int(1...3), k + rng.int(0...6), k + rng.int(0...6)]
            let pooled = Naive.maxPool(doubles(rng.tensor(big)), big, kernel: k, stride: s)
            return (rng.tensor(pooled.shape), k, s, big[2], big[3], pooled.switches)
        }
    }

    func testUnpoolForwardMatchesNaiveReference() throws {
        var rng = KernelTestRNG(seed: 9)
        for mode in UnpoolMode.allCases {
            for p in unpoolProblems(&rng) {
                let y = try unpoolForward(input: p.x, mode: mode, kernel: p.k, stride: p.s, outputHeight: p.outH,
                                          outputWidth: p.outW, switches: p.switches.map { Int32($0) })
                XCTAssertEqual(y.shape, [p.x.shape[0], p.x.shape[1], p.outH, p.outW])
                let ref = Naive.unpool(doubles(p.x), p.x.shape, mode: mode, kernel: p.k, stride: p.s,
                                       outH: p.outH, outW: p.outW, switches: p.switches)
                XCTAssertLessThan(relativeError(doubles(y), ref), 1e-6, "\(mode) k\(p.k) s\(p.s) \(p.x.shape)")
            }
        }
        // Switches are optional except in switch mode.
        let x = try Tensor(shape: [1, 1, 1, 1], data: [3])
        let z = try unpoolForward(input: x, mode: .zeros, kernel: 2, stride: 2, outputHeight: 3, outputWidth: 2, switches: nil)
        XCTAssertEqual(z.data, [3, 0, 0, 0, 0, 0])
        let n = try unpoolForward(input: x, mode: .nearest, kernel: 2, stride: 2, outputHeight: 3, outputWidth: 2, switches: nil)
        XCTAssertEqual(n.data, [3, 3, 3, 3, 0, 0])
    }

    func testUnpoolBackwardMatchesFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 10)
        for mode in UnpoolMode.allCases {
            for p in unpoolProblems(&rng) {
                let sw = p.switches.map { Int32($0) }
                let gy = rng.tensor([p.x.shape[0], p.x.shape[1], p.outH, p.outW])
                let g = try unpoolBackward(gradOutput: gy, mode: mode, kernel: p.k, stride: p.s,
                                           inputShape: p.x.shape, switches: sw)
                XCTAssertEqual(g.shape, p.x.shape)
                let fd = finiteDifferences(doubles(p.x)) { xd in
                    dot(doubles(gy), Naive.unpool(xd, p.x.shape, mode: mode, kernel: p.k, stride: p.s,
                                                  outH: p.outH, outW: p.outW, switches: p.switches))
                }
                XCTAssertLessThan(relativeError(doubles(g), fd), 1e-3, "\(mode) k\(p.k) s\(p.s) \(p.x.shape)")
            }
        }
    }

    // MARK: loss

    func testMSEForwardAndBackward() throws {
        var rng = KernelTestRNG(seed: 11)
        for shape in [[1], [2, 3, 5, 7], [1, 3, 129, 131]] {
            let p = rng.tensor(shape), t = rng.tensor(shape)
            let (pd, td) = (doubles(p), doubles(t))
            func naive(_ p: [Double]) -> Double { zip(p, td).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(p.count) }
            let loss = try mseForward(prediction: p, target: t)
            XCTAssertLessThan(relativeError([loss], [naive(pd)]), 1e-12, "\(shape)")
            let g = mseBackward(prediction: p, target: t)
            XCTAssertEqual(g.shape, p.shape)
            if p.count <= 300 {
                XCTAssertLessThan(relativeError(doubles(g), finiteDifferences(pd, naive)), 1e-3, "\(shape)")
            } else {
                XCTAssertLessThan(relativeError(doubles(g), zip(pd, td).map { 2 * ($0 - $1) / Double(p.count) }), 1e-6)
            }
        }
        // Mismatched shapes: mseBackward gives zeros of the prediction's shape.
        let g = mseBackward(prediction: Tensor(checkedZeros: [2, 2]), target: Tensor(checkedZeros: [4]))
        XCTAssertEqual(g, Tensor(checkedZeros: [2, 2]))
    }

    // MARK: determinism and arguments

    func testNonBLASResultsDoNotDependOnThreadCount() throws {
        var rng = KernelTestRNG(seed: 12)
        let saved = Threads.count
        defer { Threads.set(saved) }
        let x = rng.tensor([2, 8, 131, 67]), t = rng.tensor([2, 8, 131, 67])
        func run() throws -> (Double, Tensor, PoolOutput, Tensor, Tensor) {
            let loss = try mseForward(prediction: x, target: t)
            let bias = try conv2dBackward(input: x, weight: Tensor(zeros: [3, 8, 3, 3]), gradOutput: x.sliceChannels(3),
                                          stride: 1, padding: 1, needInputGradient: false).bias
            let pool = try maxPoolForward(input: x, kernel: 3, stride: 2)
            let unpooled = try unpoolForward(input: pool.output, mode: .nearest, kernel: 3, stride: 2,
                                             outputHeight: 131, outputWidth: 67, switches: nil)
            return (loss, bias, pool, unpooled, reluForward(x))
        }
        Threads.set(1)
        let one = try run()
        Threads.set(3)
        let three = try run()
        XCTAssertEqual(one.0, three.0)
        XCTAssertEqual(one.1, three.1)
        XCTAssertEqual(one.2.output, three.2.output)
        XCTAssertEqual(one.2.switches, three.2.switches)
        XCTAssertEqual(one.3, three.3)
        XCTAssertEqual(one.4, three.4)
    }

    func testBadArgumentsThrowArgumentErrors() throws {
        let x = Tensor(checkedZeros: [2, 3, 5, 5]), w = Tensor(checkedZeros: [4, 3, 3, 3])
        let cases: [(String, () throws -> Any)] = [
            ("conv input rank 3", { try conv2dForward(input: Tensor(zeros: [3, 5, 5]), weight: w, bias: nil, stride: 1, padding: 0) }),
            ("conv weight rank 2", { try conv2dForward(input: x, weight: Tensor(zeros: [4, 27]), bias: nil, stride: 1, padding: 0) }),
            ("conv channel mismatch", { try conv2dForward(input: x, weight: Tensor(zeros: [4, 2, 3, 3]), bias: nil, stride: 1, padding: 0) }),
            ("conv kernel larger than padded input", { try conv2dForward(input: x, weight: Tensor(zeros: [4, 3, 7, 7]), bias: nil, stride: 1, padding: 0) }),
            ("conv kernel larger than padded input (width)", { try conv2dForward(input: Tensor(zeros: [1, 3, 9, 2]), weight: Tensor(zeros: [4, 3, 5, 5]), bias: nil, stride: 1, padding: 1) }),
            ("conv stride 0", { try conv2dForward(input: x, weight: w, bias: nil, stride: 0, padding: 0) }),
            ("conv negative padding", { try conv2dForward(input: x, weight: w, bias: nil, stride: 1, padding: -1) }),
            ("conv zero-size dimension", { try conv2dForward(input: Tensor(zeros: [0, 3, 5, 5]), weight: w, bias: nil, stride: 1, padding: 0) }),
            ("conv bias shape", { try conv2dForward(input: x, weight: w, bias: Tensor(zeros: [3]), stride: 1, padding: 0) }),
            ("conv backward gradOutput shape", { try conv2dBackward(input: x, weight: w, gradOutput: Tensor(zeros: [2, 4, 5, 5]), stride: 1, padding: 0) }),
            ("conv backward stride 0", { try conv2dBackward(input: x, weight: w, gradOutput: Tensor(zeros: [2, 4, 3, 3]), stride: 0, padding: 0) }),
            ("convT channel mismatch", { try convTranspose2dForward(input: x, weight: w, bias: nil, stride: 1, padding: 0) }),
            ("convT output below 1", { try convTranspose2dForward(input: Tensor(zeros: [1, 4, 1, 1]), weight: Tensor(zeros: [4, 3, 1, 1]), bias: nil, stride: 1, padding: 1) }),
            ("convT stride 0", { try convTranspose2dForward(input: Tensor(zeros: [1, 4, 3, 3]), weight: w, bias: nil, stride: 0, padding: 0) }),
            ("convT input rank 5", { try convTranspose2dForward(input: Tensor(zeros: [1, 1, 4, 3, 3]), weight: w, bias: nil, stride: 1, padding: 0) }),
            ("convT bias shape", { try convTranspose2dForward(input: Tensor(zeros: [1, 4, 3, 3]), weight: w, bias: Tensor(zeros: [4]), stride: 1, padding: 0) }),
            ("convT backward gradOutput shape", { try convTranspose2dBackward(input: Tensor(zeros: [1, 4, 3, 3]), weight: w, gradOutput: Tensor(zeros: [1, 3, 3, 3]), stride: 1, padding: 0) }),
            ("relu backward shape", { try reluBackward(output: x, gradOutput: Tensor(zeros: [2, 3, 5, 4])) }),
            ("maxpool rank 3", { try maxPoolForward(input: Tensor(zeros: [3, 5, 5]), kernel: 2, stride: 2) }),
            ("maxpool kernel 0", { try maxPoolForward(input: x, kernel: 0, stride: 2) }),
            ("maxpool stride 0", { try maxPoolForward(input: x, kernel: 2, stride: 0) }),
            ("maxpool kernel larger than input", { try maxPoolForward(input: x, kernel: 6, stride: 1) }),
            ("maxpool backward switch count", { try maxPoolBackward(gradOutput: Tensor(zeros: [2, 3, 2, 2]), switches: [Int32](repeating: 0, count: 23), inputShape: [2, 3, 5, 5]) }),
            ("maxpool backward switch out of plane", { try maxPoolBackward(gradOutput: Tensor(zeros: [1, 1, 1, 1]), switches: [25], inputShape: [1, 1, 5, 5]) }),
            ("maxpool backward negative switch", { try maxPoolBackward(gradOutput: Tensor(zeros: [1, 1, 1, 1]), switches: [-1], inputShape: [1, 1, 5, 5]) }),
            ("maxpool backward channel mismatch", { try maxPoolBackward(gradOutput: Tensor(zeros: [1, 2, 1, 1]), switches: [0, 0], inputShape: [1, 1, 5, 5]) }),
            ("unpool switches missing", { try unpoolForward(input: Tensor(zeros: [1, 1, 2, 2]), mode: .switches, kernel: 2, stride: 2, outputHeight: 4, outputWidth: 4, switches: nil) }),
            ("unpool switch count", { try unpoolForward(input: Tensor(zeros: [1, 1, 2, 2]), mode: .switches, kernel: 2, stride: 2, outputHeight: 4, outputWidth: 4, switches: [0, 1, 2]) }),
            ("unpool switch out of plane", { try unpoolForward(input: Tensor(zeros: [1, 1, 1, 1]), mode: .switches, kernel: 2, stride: 2, outputHeight: 2, outputWidth: 2, switches: [4]) }),
            ("unpool windows do not fit", { try unpoolForward(input: Tensor(zeros: [1, 1, 3, 3]), mode: .nearest, kernel: 2, stride: 2, outputHeight: 5, outputWidth: 6, switches: nil) }),
            ("unpool output size 0", { try unpoolForward(input: Tensor(zeros: [1, 1, 1, 1]), mode: .zeros, kernel: 1, stride: 1, outputHeight: 0, outputWidth: 1, switches: nil) }),
            ("unpool kernel 0", { try unpoolForward(input: Tensor(zeros: [1, 1, 2, 2]), mode: .zeros, kernel: 0, stride: 2, outputHeight: 4, outputWidth: 4, switches: nil) }),
            ("unpool stride 0", { try unpoolForward(input: Tensor(zeros: [1, 1, 2, 2]), mode: .zeros, kernel: 2, stride: 0, outputHeight: 4, outputWidth: 4, switches: nil) }),
            ("unpool input rank 2", { try unpoolForward(input: Tensor(zeros: [2, 2]), mode: .zeros, kernel: 2, stride: 2, outputHeight: 4, outputWidth: 4, switches: nil) }),
            ("unpool backward switch count", { try unpoolBackward(gradOutput: Tensor(zeros: [1, 1, 4, 4]), mode: .switches, kernel: 2, stride: 2, inputShape: [1, 1, 2, 2], switches: [0]) }),
            ("unpool backward switches missing", { try unpoolBackward(gradOutput: Tensor(zeros: [1, 1, 4, 4]), mode: .switches, kernel: 2, stride: 2, inputShape: [1, 1, 2, 2], switches: nil) }),
            ("unpool backward channel mismatch", { try unpoolBackward(gradOutput: Tensor(zeros: [1, 2, 4, 4]), mode: .nearest, kernel: 2, stride: 2, inputShape: [1, 1, 2, 2], switches: nil) }),
            ("unpool backward windows do not fit", { try unpoolBackward(gradOutput: Tensor(zeros: [1, 1, 3, 4]), mode: .zeros, kernel: 2, stride: 2, inputShape: [1, 1, 2, 2], switches: nil) }),
            ("mse shape mismatch", { try mseForward(prediction: Tensor(zeros: [2, 2]), target: Tensor(zeros: [4])) }),
            ("mse empty", { try mseForward(prediction: Tensor(zeros: [0]), target: Tensor(zeros: [0])) }),
        ]
        for (label, body) in cases { assertArgumentError(label, body) }
    }
}

private extension Tensor {
    /// The first `c` channels of an [N, C, H, W] tensor, as a new tensor.
    func sliceChannels(_ c: Int) -> Tensor {
        let (n, ch, plane) = (shape[0], shape[1], shape[2] * shape[3])
        var out: [Float] = []
        for b in 0..<n { out += data[(b * ch * plane)..<((b * ch + c) * plane)] }
        return (try? Tensor(shape: [n, c, shape[2], shape[3]], data: out)) ?? Tensor(checkedZeros: [0])
    }
}
