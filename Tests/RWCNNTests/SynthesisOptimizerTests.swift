// Pixel optimisers and start images: L-BFGS reaches the exact minimum of a
// convex quadratic (solved directly here) and of Rosenbrock's function, copes
// with non-finite trial values, respects its clamp and budgets; Adam
// decreases a quadratic; the white-noise start is seeded (and matches the
// uniform golden values of docs/RANDOMNESS.md); the coarse-to-fine helper
// visits its sizes in order.
import XCTest
@testable import RWCNN

/// Solves A x = b (A n x n, row-major) by Gaussian elimination with partial pivoting, in float64.
private func solve(_ a: [Double], _ b: [Double], n: Int) -> [Double] {
    var m = a, x = b
    for col in 0..<n {
        let pivot = (col..<n).max { abs(m[$0 * n + col]) < abs(m[$1 * n + col]) }!
        if pivot != col {
            for j in 0..<n { m.swapAt(col * n + j, pivot * n + j) }
            x.swapAt(col, pivot)
        }
        for r in (col + 1)..<n {
            let f = m[r * n + col] / m[col * n + col]
            for j in col..<n { m[r * n + j] -= f * m[col * n + j] }
            x[r] -= f * x[col]
        }
    }
    for r in stride(from: n - 1, through: 0, by: -1) {
        var acc = x[r]
        for j in (r + 1)..<n { acc -= m[r * n + j] * x[j] }
        x[r] = acc / m[r * n + r]
    }
    return x
}

/// A random convex quadratic f = x^T A x / 2 - b^T x with A = B^T B / n + I.
private struct Quadratic {
    let n: Int, a: [Double], b: [Double]

    init(n: Int, rng: inout KernelTestRNG) {
        let bm = (0..<(n * n)).map { _ in rng.uniform(-1, 1) }
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n {
            var acc = 0.0
            for k in 0..<n { acc += bm[k * n + i] * bm[k * n + j] }
            a[i * n + j] = acc / Double(n) + (i == j ? 1 : 0)
        } }
        self.n = n; self.a = a
        b = (0..<n).map { _ in rng.uniform(-2, 2) }
    }

    func callAsFunction(_ x: [Float], _ g: inout [Float]) -> Double {
        var f = 0.0
        for i in 0..<n {
            var ax = 0.0
            for j in 0..<n { ax += a[i * n + j] * Double(x[j]) }
            g[i] = Float(ax - b[i])
            f += Double(x[i]) * (0.5 * ax - b[i])
        }
        return f
    }
}

/// The extended Rosenbrock function (independent pairs), minimum 0 at (1, ..., 1).
private func rosenbrock(_ x: [Float], _ g: inout [Float]) -> Double {
    var f = 0.0
    for i in stride(from: 0, to: x.count, by: 2) {
        let u = Double(x[i]), v = Double(x[i + 1])
        let t = v - u * u, r = 1 - u
        f += 100 * t * t + r * r
        g[i] = Float(-400 * u * t - 2 * r)
        g[i + 1] = Float(200 * t)
    }
    return f
}

final class SynthesisOptimizerTests: XCTestCase {
    // MARK: L-BFGS

    func testLBFGSReachesTheMinimumOfAConvexQuadratic() throws {
        var rng = KernelTestRNG(seed: 41)
        for (n, history) in [(1, 10), (20, 10), (50, 3)] {
            let q = Quadratic(n: n, rng: &rng)
            let exact = solve(q.a, q.b, n: n)
            var options = LBFGSOptions()
            options.historySize = history
            options.maxIterations = 500
            options.gradientTolerance = 1e-5
            let r = try lbfgsMinimize(start: [Float](repeating: 0, count: n), options: options) { q($0, &$1) }
            // Float storage: the gradient is exact to ~1e-7, the condition number
            // of A is below 10, so x is within ~1e-6 of the solution; 1e-4 leaves room.
            XCTAssertLessThan(relativeError(Check.doubles(r.x), exact), 1e-4, "n \(n) m \(history): \(r.stop)")
            XCTAssertEqual(r.stop, .gradientTolerance, "n \(n) m \(history)")
            XCTAssertEqual(r.values.count, r.iterations + 1)
            // The values never rise without a clamp (sufficient decrease at every step).
            for (a, b) in zip(r.values, r.values.dropFirst()) { XCTAssertLessThanOrEqual(b, a) }
        }
    }

    func testLBFGSReachesTheMinimumOfRosenbrock() throws {
        for n in [2, 10] {
            var start = [Float]()
            for _ in 0..<(n / 2) { start += [-1.2, 1] }
            var options = LBFGSOptions()
            options.maxIterations = 1000
            options.gradientTolerance = 1e-4
            let r = try lbfgsMinimize(start: start, options: options, objective: rosenbrock)
            // Near the minimum the Hessian's small eigenvalue is ~0.4, so a gradient of
            // 1e-4 (plus float rounding of 400 u t) leaves x within ~1e-3 of 1.
            for v in r.x { XCTAssertEqual(Double(v), 1, accuracy: 2e-3, "n \(n): \(r.stop) after \(r.iterations)") }
            XCTAssertLessThan(r.value, 1e-6, "n \(n)")
            XCTAssertEqual(r.stop, .gradientTolerance)
            // About 35 iterations and 45 evaluations here (as for other L-BFGS codes
            // from this start); a line search that failed to take Wolfe steps would need
            // many more.
            XCTAssertLessThan(r.iterations, 100, "n \(n)")
        }
    }

    func testLBFGSShrinksStepsThatReachNonFiniteValues() throws {
        // f = scale (x - centre)^2 for x < 0.5 and +infinity beyond. The first trial
        // (a step of unit length from 0) lands in the infinite region.
        func wall(centre: Double, scale: Double) -> ([Float], inout [Float]) -> Double {
            { x, g in
                let v = Double(x[0])
                guard v < 0.5 else { g[0] = .nan; return .infinity }
                g[0] = Float(2 * scale * (v - centre))
                return scale * (v - centre) * (v - centre)
            }
        }
        // Minimum inside the finite region: the search backs off and converges.
        let inside = try lbfgsMinimize(start: [0], objective: wall(centre: 0.3, scale: 100))
        XCTAssertEqual(Double(inside.x[0]), 0.3, accuracy: 1e-4, "\(inside.stop)")
        // Infimum at the wall: no step meets the curvature condition; the best
        // sufficient-decrease steps are taken, the value never rises and the run
        // ends finite, just inside the wall.
        let edge = try lbfgsMinimize(start: [0], objective: wall(centre: 3, scale: 1))
        XCTAssertTrue(edge.value.isFinite)
        XCTAssertLessThan(edge.x[0], 0.5)
        XCTAssertGreaterThan(edge.x[0], 0.45, "\(edge.stop)")
        for (a, b) in zip(edge.values, edge.values.dropFirst()) { XCTAssertLessThanOrEqual(b, a) }
    }

    func testLBFGSClampKeepsTheResultInTheBox() throws {
        // A separable quadratic: its minimum over [0, 1]^n is the clamped unconstrained one.
        let centers: [Double] = [-0.5, 0.25, 1.7, 0.9, 2.0, -3.0, 0.5]
        let weights: [Double] = [1, 2, 0.5, 3, 1, 0.7, 1.5]
        let f: ([Float], inout [Float]) -> Double = { x, g in
            var v = 0.0
            for i in x.indices {
                let d = Double(x[i]) - centers[i]
                v += weights[i] * d * d
                g[i] = Float(2 * weights[i] * d)
            }
            return v
        }
        var options = LBFGSOptions()
        options.clamp = 0...1
        options.maxIterations = 200
        let r = try lbfgsMinimize(start: [Float](repeating: 0.5, count: centers.count), options: options, objective: f)
        for (v, c) in zip(r.x, centers) {
            XCTAssertGreaterThanOrEqual(v, 0); XCTAssertLessThanOrEqual(v, 1)
            XCTAssertEqual(Double(v), min(max(c, 0), 1), accuracy: 1e-4, "\(r.stop)")
        }
        // Converged (on the projected gradient or on a stalled value), not cut off.
        XCTAssertTrue([.gradientTolerance, .valueTolerance].contains(r.stop), "\(r.stop)")
    }

    func testLBFGSBudgetsAndStopping() throws {
        var rng = KernelTestRNG(seed: 42)
        let q = Quadratic(n: 30, rng: &rng)
        var calls = 0
        let counted: ([Float], inout [Float]) -> Double = { x, g in calls += 1; return q(x, &g) }
        for clamp: ClosedRange<Float>? in [nil, -10...10] {
            var options = LBFGSOptions()
            options.maxEvaluations = 7
            options.clamp = clamp
            calls = 0
            let r = try lbfgsMinimize(start: [Float](repeating: 0, count: 30), options: options, objective: counted)
            XCTAssertEqual(r.evaluations, calls)
            XCTAssertLessThanOrEqual(calls, 7)
            XCTAssertEqual(r.stop, .maxEvaluations)
        }
        // The callback stops the run after the first iteration.
        var seen: [Int] = []
        let stopped = try lbfgsMinimize(start: [Float](repeating: 0, count: 30), objective: { q($0, &$1) },
                                        onIteration: { p in seen.append(p.iteration); return false })
        XCTAssertEqual(stopped.stop, .stopped)
        XCTAssertEqual(stopped.iterations, 1)
        XCTAssertEqual(seen, [1])
        XCTAssertLessThan(stopped.values[1], stopped.values[0])
        // maxIterations.
        var one = LBFGSOptions()
        one.maxIterations = 3
        let three = try lbfgsMinimize(start: [Float](repeating: 0, count: 30), options: one) { q($0, &$1) }
        XCTAssertEqual(three.stop, .maxIterations)
        XCTAssertEqual(three.iterations, 3)
        // Already at the minimum: no iteration.
        let exact = solve(q.a, q.b, n: 30).map(Float.init)
        var loose = LBFGSOptions()
        loose.gradientTolerance = 1e-3
        let at = try lbfgsMinimize(start: exact, options: loose) { q($0, &$1) }
        XCTAssertEqual(at.stop, .gradientTolerance)
        XCTAssertEqual(at.iterations, 0)
    }

    func testLBFGSBadArguments() {
        let f: ([Float], inout [Float]) -> Double = { x, g in
            for i in x.indices { g[i] = 2 * x[i] }
            return x.reduce(0) { $0 + Double($1 * $1) }
        }
        func options(_ change: (inout LBFGSOptions) -> Void) -> LBFGSOptions { var o = LBFGSOptions(); change(&o); return o }
        let cases: [(String, () throws -> Any)] = [
            ("empty start", { try lbfgsMinimize(start: [], objective: f) }),
            ("history 0", { try lbfgsMinimize(start: [1], options: options { $0.historySize = 0 }, objective: f) }),
            ("iterations 0", { try lbfgsMinimize(start: [1], options: options { $0.maxIterations = 0 }, objective: f) }),
            ("evaluations 0", { try lbfgsMinimize(start: [1], options: options { $0.maxEvaluations = 0 }, objective: f) }),
            ("negative tolerance", { try lbfgsMinimize(start: [1], options: options { $0.gradientTolerance = -1 }, objective: f) }),
            ("c1 >= c2", { try lbfgsMinimize(start: [1], options: options { $0.c1 = 0.9; $0.c2 = 0.5 }, objective: f) }),
            ("c2 = 1", { try lbfgsMinimize(start: [1], options: options { $0.c2 = 1 }, objective: f) }),
            ("line search 0", { try lbfgsMinimize(start: [1], options: options { $0.maxLineSearchEvaluations = 0 }, objective: f) }),
            ("infinite clamp", { try lbfgsMinimize(start: [1], options: options { $0.clamp = 0...Float.infinity }, objective: f) }),
            ("non-finite start", { try lbfgsMinimize(start: [.nan], objective: f) }),
            ("gradient resized", { try lbfgsMinimize(start: [1, 2], objective: { _, g in g = [0]; return 0 }) }),
        ]
        for (label, body) in cases { Check.argumentError(label, body) }
        // Errors of the objective reach the caller unchanged.
        XCTAssertThrowsError(try lbfgsMinimize(start: [1], objective: { _, _ in throw RWCNNError.cancelled("stop") })) {
            XCTAssertEqual($0 as? RWCNNError, .cancelled("stop"))
        }
    }

    // MARK: Adam

    func testPixelAdamDecreasesAQuadratic() throws {
        var rng = KernelTestRNG(seed: 43)
        let n = 1000
        let centers = (0..<n).map { _ in Float(rng.uniform(-1, 2)) }
        let weights = (0..<n).map { _ in Float(rng.uniform(0.1, 3)) }
        func loss(_ x: [Float]) -> Double {
            var total = 0.0
            for i in 0..<n { let d = Double(x[i]) - Double(centers[i]); total += Double(weights[i]) * d * d }
            return total
        }
        func gradient(_ x: [Float]) -> [Float] { (0..<n).map { 2 * weights[$0] * (x[$0] - centers[$0]) } }
        for clamp: ClosedRange<Float>? in [nil, 0...1] {
            var adam = try PixelAdam(count: n, learningRate: 0.02, clamp: clamp)
            var x = [Float](repeating: 0.5, count: n)
            let start = loss(x)
            let lo = clamp?.lowerBound ?? -.infinity, hi = clamp?.upperBound ?? .infinity
            let best = loss(centers.map { v in min(max(v, lo), hi) })
            for _ in 0..<400 { try adam.step(parameters: &x, gradient: gradient(x)) }
            XCTAssertEqual(adam.steps, 400)
            // The excess over the (box-constrained) minimum falls by at least 100x.
            XCTAssertLessThan(loss(x) - best, 0.01 * (start - best), "clamp \(String(describing: clamp))")
            if let c = clamp { XCTAssertTrue(x.allSatisfy { c.contains($0) }) }
        }
        // The first step moves every coordinate by the learning rate against its gradient's sign.
        var adam = try PixelAdam(count: 3, learningRate: 0.1)
        var x: [Float] = [0, 0, 0]
        try adam.step(parameters: &x, gradient: [2, -0.001, 5])
        for (v, e) in zip(x, [-0.1, 0.1, -0.1]) { XCTAssertEqual(Double(v), e, accuracy: 1e-5) }
    }

    func testPixelAdamBadArguments() {
        let cases: [(String, () throws -> Any)] = [
            ("count 0", { try PixelAdam(count: 0) }),
            ("learning rate 0", { try PixelAdam(count: 1, learningRate: 0) }),
            ("learning rate NaN", { try PixelAdam(count: 1, learningRate: .nan) }),
            ("beta1 1", { try PixelAdam(count: 1, beta1: 1) }),
            ("beta2 negative", { try PixelAdam(count: 1, beta2: -0.1) }),
            ("epsilon 0", { try PixelAdam(count: 1, epsilon: 0) }),
            ("clamp NaN", { try PixelAdam(count: 1, clamp: -Float.infinity...0) }),
            ("step count mismatch", { var a = try PixelAdam(count: 2); var x: [Float] = [0, 0]; try a.step(parameters: &x, gradient: [1]); return a }),
        ]
        for (label, body) in cases { Check.argumentError(label, body) }
    }

    // MARK: start images and scales

    func testWhiteNoiseIsSeededUniformAndMatchesGoldenValues() throws {
        let a = try whiteNoiseImage(shape: [2, 3, 64, 64], seed: 7)
        XCTAssertEqual(a, try whiteNoiseImage(shape: [2, 3, 64, 64], seed: 7))
        XCTAssertNotEqual(a, try whiteNoiseImage(shape: [2, 3, 64, 64], seed: 8))
        XCTAssertTrue(a.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        let mean = a.data.reduce(0) { $0 + Double($1) } / Double(a.count)
        let variance = a.data.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(a.count)
        // 24576 uniform values: the standard error of the mean is 0.0018.
        XCTAssertEqual(mean, 0.5, accuracy: 0.01)
        XCTAssertEqual(variance, 1.0 / 12, accuracy: 0.005)
        // The uniform golden values of docs/RANDOMNESS.md (seed 42, stream
        // encoder.conv1_1.weight, std 1) are sqrt(3) (2 u1 - 1); noise is u1.
        let golden = [-1.300488, 0.379419237, 0.202862829, 1.51440859].map { 0.5 * (1 + $0 / 3.0.squareRoot()) }
        let noise = try whiteNoiseImage(shape: [4], seed: 42, stream: "encoder.conv1_1.weight")
        for (v, e) in zip(noise.data, golden) { XCTAssertEqual(Double(v), e, accuracy: 1e-6) }
        // Other ranges scale the same draws.
        let wide = try whiteNoiseImage(shape: [4], seed: 42, low: -2, high: 2, stream: "encoder.conv1_1.weight")
        for (v, e) in zip(wide.data, golden) { XCTAssertEqual(Double(v), -2 + 4 * e, accuracy: 4e-6) }
        for (label, body) in [
            ("empty", { try whiteNoiseImage(shape: [1, 0, 3], seed: 1) }),
            ("negative", { try whiteNoiseImage(shape: [-1, 3], seed: 1) }),
            ("low >= high", { try whiteNoiseImage(shape: [3], seed: 1, low: 1, high: 1) }),
            ("NaN bound", { try whiteNoiseImage(shape: [3], seed: 1, low: .nan) }),
        ] as [(String, () throws -> Any)] { Check.argumentError(label, body) }
    }

    func testCoarseToFineVisitsSizesInOrder() throws {
        let sizes = try coarseToFineSizes(final: ImageSize(height: 100, width: 60), scales: 3)
        XCTAssertEqual(sizes, [ImageSize(height: 25, width: 15), ImageSize(height: 50, width: 30), ImageSize(height: 100, width: 60)])
        XCTAssertEqual(try coarseToFineSizes(final: ImageSize(height: 9, width: 7), scales: 1), [ImageSize(height: 9, width: 7)])
        XCTAssertEqual(try coarseToFineSizes(final: ImageSize(height: 90, width: 45), scales: 2, factor: 1.5),
                       [ImageSize(height: 60, width: 30), ImageSize(height: 90, width: 45)])
        // Each scale starts from the previous result: a constant image stays constant
        // under resizing, so three "+0.1" stages give exactly start + 0.3.
        let start = try Tensor(shape: [1, 3, 100, 60], data: [Float](repeating: 0.2, count: 18000))
        var seen: [[Int]] = []
        let out = try coarseToFine(start: start, sizes: sizes) { image, i in
            XCTAssertEqual(i, seen.count)
            seen.append(image.shape)
            return try Tensor(shape: image.shape, data: image.data.map { $0 + 0.1 })
        }
        XCTAssertEqual(seen, [[1, 3, 25, 15], [1, 3, 50, 30], [1, 3, 100, 60]])
        XCTAssertEqual(out.shape, [1, 3, 100, 60])
        for v in out.data { XCTAssertEqual(v, 0.5, accuracy: 1e-5) }
        let cases: [(String, () throws -> Any)] = [
            ("too small", { try coarseToFineSizes(final: ImageSize(height: 64, width: 64), scales: 3, minimumSide: 32) }),
            ("scales 0", { try coarseToFineSizes(final: ImageSize(height: 64, width: 64), scales: 0) }),
            ("factor 1", { try coarseToFineSizes(final: ImageSize(height: 64, width: 64), scales: 2, factor: 1) }),
            ("final 0", { try coarseToFineSizes(final: ImageSize(height: 0, width: 64), scales: 1) }),
            ("no sizes", { try coarseToFine(start: start, sizes: []) { i, _ in i } }),
            ("wrong result shape", { try coarseToFine(start: start, sizes: sizes) { _, _ in Tensor(checkedZeros: [1, 3, 2, 2]) } }),
        ]
        for (label, body) in cases { Check.argumentError(label, body) }
    }
}
