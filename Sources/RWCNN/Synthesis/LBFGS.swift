// L-BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., Algorithm
// 7.4 two-loop recursion and 7.5) with a strong-Wolfe line search
// (Algorithms 3.5 and 3.6), for minimising a loss over the pixels of an
// image. Values are Float (the pixels and their gradient, as the engine
// computes them); every dot product and every line-search scalar is Double.
//
// Line search. phi(a) = f(x + a d), phi'(a) = g(x + a d)^T d. A step a is
// accepted when it satisfies the strong Wolfe conditions
//     phi(a) <= phi(0) + c1 a phi'(0)     and     |phi'(a)| <= c2 |phi'(0)|
// (c1 = 1e-4, c2 = 0.9 by default). Bracketing (3.5): start from a = 1, or
// from 1 / ||g|| when the history is empty (a first step of unit length),
// and double a until the conditions hold or a bracket is found: phi(a)
// breaks sufficient decrease, is not below the previous trial, is not
// finite, or phi'(a) >= 0. Zoom (3.6): shrink the bracket [lo, hi], where lo
// is the best trial so far that has sufficient decrease, by trying the
// minimiser of the cubic through (lo, phi, phi') and (hi, phi, phi')
// (N&W eq. 3.59); if it has none, or it lies within 10% of the bracket's
// width from an end, the minimiser of the quadratic through phi(lo),
// phi'(lo) and phi(hi); failing that too, the midpoint. Non-finite values
// always take the midpoint.
//
// Failure behaviour. A line search has `maxLineSearchEvaluations`
// evaluations. When they run out (or the bracket shrinks below float
// resolution), the best trial with sufficient decrease is taken if there is
// one. Otherwise the history is cleared and the iteration is retried once
// along steepest descent; if that fails too, the run ends with
// `.lineSearchFailed` at the last accepted point, so the result is never
// worse than the start. A direction that is not a descent direction (which
// rounding or the clamp can cause) also clears the history.
//
// Clamping (optional, e.g. pixels to [0, 1]). The start is clamped; each
// search direction has its components zeroed where x sits on a bound and d
// points out of the box; after the line search the accepted point is
// clamped, and if that moved it, f and g are evaluated again there. The
// history pair is then built from the points actually taken,
// s = x_new - x, y = g_new - g, so it stays a true secant pair of the
// objective. A pair is stored only if s^T y > 1e-10 y^T y (always true
// without the clamp under the Wolfe conditions), which keeps the implied
// inverse Hessian positive definite. With the clamp the value can rise
// slightly at a step; this is a simple projected variant, not L-BFGS-B.
// Convergence then tests the projected gradient (components pushing out of
// the box at a bound are ignored).

/// Settings of `lbfgsMinimize`; the defaults are the usual ones.
public struct LBFGSOptions: Equatable {
    /// Number of (s, y) pairs kept, m.
    public var historySize = 10
    /// Iterations (accepted steps) at most.
    public var maxIterations = 100
    /// Objective evaluations at most (the start, line searches and clamp
    /// re-evaluations included); nil: no limit.
    public var maxEvaluations: Int? = nil
    /// Stop when the largest (projected) gradient component is at most this.
    public var gradientTolerance = 1e-7
    /// Stop when |f_old - f_new| <= valueTolerance * max(|f_old|, |f_new|, 1).
    public var valueTolerance = 1e-10
    /// Sufficient-decrease constant of the Wolfe conditions.
    public var c1 = 1e-4
    /// Curvature constant of the strong Wolfe conditions (c1 < c2 < 1).
    public var c2 = 0.9
    /// Evaluations one line search may make.
    public var maxLineSearchEvaluations = 20
    /// Bounds every value is kept in, or nil.
    public var clamp: ClosedRange<Float>? = nil

    public init() {}

    func validate() throws {
        let op = "L-BFGS"
        guard historySize >= 1, historySize <= 1000 else {
            throw RWCNNError.argument("\(op): history size must be in 1...1000, got \(historySize)")
        }
        guard maxIterations >= 1 else { throw RWCNNError.argument("\(op): max iterations must be at least 1, got \(maxIterations)") }
        if let e = maxEvaluations, e < 1 { throw RWCNNError.argument("\(op): max evaluations must be at least 1, got \(e)") }
        guard gradientTolerance.isFinite, gradientTolerance >= 0, valueTolerance.isFinite, valueTolerance >= 0 else {
            throw RWCNNError.argument("\(op): tolerances must be finite and at least 0, got \(gradientTolerance) and \(valueTolerance)")
        }
        guard c1 > 0, c1 < c2, c2 < 1 else {
            throw RWCNNError.argument("\(op): the Wolfe constants need 0 < c1 < c2 < 1, got c1 = \(c1), c2 = \(c2)")
        }
        guard maxLineSearchEvaluations >= 1, maxLineSearchEvaluations <= 1000 else {
            throw RWCNNError.argument("\(op): line-search evaluations must be in 1...1000, got \(maxLineSearchEvaluations)")
        }
        if let c = clamp, !(c.lowerBound.isFinite && c.upperBound.isFinite) {
            throw RWCNNError.argument("\(op): clamp bounds must be finite, got \(c)")
        }
    }
}

/// Why `lbfgsMinimize` stopped.
public enum LBFGSStop: String, Equatable {
    case gradientTolerance, valueTolerance, maxIterations, maxEvaluations, lineSearchFailed
    /// The progress callback returned false.
    case stopped
}

/// What the progress callback sees after each iteration.
public struct LBFGSProgress {
    public var iteration: Int
    public var evaluations: Int
    public var value: Double
    /// Largest (projected) gradient component.
    public var gradientNorm: Double
    /// The accepted point (shares storage with the run's until it changes).
    public var x: [Float] = []
}

/// The outcome of `lbfgsMinimize`.
public struct LBFGSResult {
    /// The last accepted point and its objective value.
    public var x: [Float]
    public var value: Double
    public var iterations: Int
    public var evaluations: Int
    public var stop: LBFGSStop
    /// The value at the start and after each iteration (iterations + 1 entries).
    public var values: [Double]
}

/// Minimises `objective` from `start` by L-BFGS (see the file comment).
/// `objective(x, &gradient)` returns f(x) and writes its gradient into
/// `gradient`, which has x's count and must keep it. A non-finite value or
/// gradient at a trial point counts as a failed trial (the step shrinks);
/// at the start it is an error. `onIteration` is called after each
/// iteration; returning false stops the run (`.stopped`). Errors thrown by
/// the objective are passed on.
public func lbfgsMinimize(start: [Float], options: LBFGSOptions = LBFGSOptions(),
                          objective: ([Float], inout [Float]) throws -> Double,
                          onIteration: ((LBFGSProgress) -> Bool)? = nil) throws -> LBFGSResult {
    try options.validate()
    guard !start.isEmpty else { throw RWCNNError.argument("L-BFGS: the start point is empty") }
    var run = try LBFGSRun(start: start, options: options, objective: objective)
    return try run.minimize(objective: objective, onIteration: onIteration)
}

/// The state of one L-BFGS run: current point, history, scratch buffers
/// (all allocated once).
private struct LBFGSRun {
    let n: Int
    let options: LBFGSOptions
    var x: [Float], g: [Float], f: Double
    var direction: [Float]
    /// Trial point of the line search and its gradient.
    var trialX: [Float], trialG: [Float]
    /// Best trial with sufficient decrease so far (the bracket's low end).
    var bestX: [Float], bestG: [Float]
    /// History ring: pair i lives at rows i % m of s and y.
    var s: [Float], y: [Float], rho: [Double], alpha: [Double]
    var pairs = 0, newest = -1
    var evaluations = 0

    init(start: [Float], options: LBFGSOptions, objective: ([Float], inout [Float]) throws -> Double) throws {
        n = start.count
        self.options = options
        let m = options.historySize
        _ = try kernelElementCount([2 * m + 6, n], what: "L-BFGS buffers")
        x = start
        if let c = options.clamp { clampInPlace(&x, c) }
        g = [Float](repeating: 0, count: n)
        f = 0
        direction = g; trialX = g; trialG = g; bestX = g; bestG = g
        s = [Float](repeating: 0, count: m * n); y = s
        rho = [Double](repeating: 0, count: m); alpha = rho
        evaluations = 1
        f = try Self.call(objective, x, &g, n: n)
        guard f.isFinite, allFinite(g) else {
            throw RWCNNError.argument("L-BFGS: the objective is not finite at the start point (value \(f))")
        }
    }

    /// f(point), its gradient written into `gradient`; counts the evaluation.
    static func call(_ objective: ([Float], inout [Float]) throws -> Double,
                     _ point: [Float], _ gradient: inout [Float], n: Int) throws -> Double {
        let value = try objective(point, &gradient)
        guard gradient.count == n else {
            throw RWCNNError.argument("L-BFGS: the objective changed the gradient's count from \(n) to \(gradient.count)")
        }
        return value
    }

    var budgetLeft: Int { options.maxEvaluations.map { $0 - evaluations } ?? Int.max }

    mutating func minimize(objective: ([Float], inout [Float]) throws -> Double,
                           onIteration: ((LBFGSProgress) -> Bool)?) throws -> LBFGSResult {
        var values = [f]
        var iterations = 0
        func result(_ stop: LBFGSStop) -> LBFGSResult {
            LBFGSResult(x: x, value: f, iterations: iterations, evaluations: evaluations, stop: stop, values: values)
        }
        if projectedGradientNorm() <= options.gradientTolerance { return result(.gradientTolerance) }
        while iterations < options.maxIterations {
            if budgetLeft <= (options.clamp == nil ? 0 : 1) { return result(.maxEvaluations) }
            var step = LineSearchOutcome.failed
            for attempt in 0..<2 {
                if attempt == 1 { guard pairs > 0 else { break }; clearHistory() }
                guard var slope = searchDirection() else { return result(.gradientTolerance) }
                if !(slope < 0) {
                    // Not a descent direction: fall back to steepest descent.
                    clearHistory()
                    guard let s = searchDirection(), s < 0 else { return result(.gradientTolerance) }
                    slope = s
                }
                let first = pairs == 0 ? 1 / norm2(direction) : 1
                step = try lineSearch(objective, slope: slope, initialStep: first)
                if case .accepted = step { break }
                if budgetLeft <= (options.clamp == nil ? 0 : 1) { return result(.maxEvaluations) }
            }
            guard case .accepted(let newValue) = step else { return result(.lineSearchFailed) }
            var value = newValue
            // trialX/trialG now hold the accepted point.
            if let c = options.clamp, clampInPlace(&trialX, c) {
                evaluations += 1
                value = try Self.call(objective, trialX, &trialG, n: n)
                if !(value.isFinite && allFinite(trialG)) { return result(.lineSearchFailed) }
            }
            storePair()
            let previous = f
            swap(&x, &trialX); swap(&g, &trialG); f = value
            iterations += 1
            values.append(f)
            let gradientNorm = projectedGradientNorm()
            if let report = onIteration,
               !report(LBFGSProgress(iteration: iterations, evaluations: evaluations, value: f, gradientNorm: gradientNorm, x: x)) {
                return result(.stopped)
            }
            if gradientNorm <= options.gradientTolerance { return result(.gradientTolerance) }
            if abs(previous - f) <= options.valueTolerance * max(abs(previous), abs(f), 1) { return result(.valueTolerance) }
        }
        return result(.maxIterations)
    }

    // MARK: direction and history

    mutating func clearHistory() { pairs = 0; newest = -1 }

    /// direction = -H g by the two-loop recursion (H0 = gamma I with
    /// gamma = s^T y / y^T y of the newest pair, or I), with components that
    /// would leave the clamp box at a bound zeroed. Returns g^T direction,
    /// or nil when the direction is zero (x is stationary).
    mutating func searchDirection() -> Double? {
        let n = self.n, m = options.historySize, pairs = self.pairs, newest = self.newest
        let (lo, hi) = bounds
        x.withUnsafeBufferPointer { xb in
        g.withUnsafeBufferPointer { gb in
        direction.withUnsafeMutableBufferPointer { db in
        s.withUnsafeBufferPointer { sb in
        y.withUnsafeBufferPointer { yb in
        rho.withUnsafeBufferPointer { rb in
        alpha.withUnsafeMutableBufferPointer { ab in
            guard let xp = xb.baseAddress, let gp = gb.baseAddress, let q = db.baseAddress,
                  let sp = sb.baseAddress, let yp = yb.baseAddress, let r = rb.baseAddress,
                  let a = ab.baseAddress else { return }
            for i in 0..<n { q[i] = gp[i] }
            var k = 0
            while k < pairs {
                let row = ((newest - k) % m + m) % m
                let ai = r[row] * dot(sp + row * n, q, n)
                a[row] = ai
                axpy(Float(-ai), yp + row * n, q, n)
                k += 1
            }
            if pairs > 0 {
                let row = newest
                let gamma = dot(sp + row * n, yp + row * n, n) / dot(yp + row * n, yp + row * n, n)
                scale(q, Float(gamma), n)
            }
            k = pairs - 1
            while k >= 0 {
                let row = ((newest - k) % m + m) % m
                let b = r[row] * dot(yp + row * n, q, n)
                axpy(Float(a[row] - b), sp + row * n, q, n)
                k -= 1
            }
            for i in 0..<n {
                var d = -q[i]
                if (xp[i] <= lo && d < 0) || (xp[i] >= hi && d > 0) { d = 0 }
                q[i] = d
            }
        } } } } } } }
        let slope = direction.withUnsafeBufferPointer { db in
            g.withUnsafeBufferPointer { gb in dot(db.baseAddress!, gb.baseAddress!, n) }
        }
        if slope == 0 && norm2(direction) == 0 { return nil }
        return slope
    }

    /// Adds (x_new - x, g_new - g) with x_new, g_new in trialX, trialG, if its curvature is positive enough.
    mutating func storePair() {
        let n = self.n, m = options.historySize
        let row = (newest + 1) % m
        var sy = 0.0, yy = 0.0
        x.withUnsafeBufferPointer { xb in
        g.withUnsafeBufferPointer { gb in
        trialX.withUnsafeBufferPointer { txb in
        trialG.withUnsafeBufferPointer { tgb in
        s.withUnsafeMutableBufferPointer { sb in
        y.withUnsafeMutableBufferPointer { yb in
            guard let xp = xb.baseAddress, let gp = gb.baseAddress, let tx = txb.baseAddress,
                  let tg = tgb.baseAddress, let sp = sb.baseAddress, let yp = yb.baseAddress else { return }
            let sr = sp + row * n, yr = yp + row * n
            for i in 0..<n { sr[i] = tx[i] - xp[i]; yr[i] = tg[i] - gp[i] }
            sy = dot(sr, yr, n); yy = dot(yr, yr, n)
        } } } } } }
        guard sy.isFinite, yy.isFinite, yy > 0, sy > 1e-10 * yy else { return }
        rho[row] = 1 / sy
        newest = row
        pairs = min(pairs + 1, m)
    }

    // MARK: line search

    enum LineSearchOutcome { case accepted(Double), failed }

    /// One trial along `direction`: trialX = x + a d (not clamped), f and phi'.
    mutating func trial(_ objective: ([Float], inout [Float]) throws -> Double, _ a: Double) throws -> (f: Double, slope: Double) {
        let n = self.n, step = Float(a)
        x.withUnsafeBufferPointer { xb in
            direction.withUnsafeBufferPointer { db in
                trialX.withUnsafeMutableBufferPointer { tb in
                    guard let xp = xb.baseAddress, let d = db.baseAddress, let t = tb.baseAddress else { return }
                    for i in 0..<n { t[i] = xp[i] + step * d[i] }
                }
            }
        }
        evaluations += 1
        let value = try Self.call(objective, trialX, &trialG, n: n)
        let slope = direction.withUnsafeBufferPointer { db in
            trialG.withUnsafeBufferPointer { gb in dot(db.baseAddress!, gb.baseAddress!, n) }
        }
        return (value, slope)
    }

    /// Keeps the current trial as the best point with sufficient decrease.
    mutating func keepTrialAsBest() {
        trialX.withUnsafeBufferPointer { t in bestX.withUnsafeMutableBufferPointer { b in _ = b.update(fromContentsOf: t) } }
        trialG.withUnsafeBufferPointer { t in bestG.withUnsafeMutableBufferPointer { b in _ = b.update(fromContentsOf: t) } }
    }

    /// Strong-Wolfe line search (Algorithms 3.5 and 3.6). On `.accepted(f)`
    /// the point and its gradient are in trialX and trialG.
    mutating func lineSearch(_ objective: ([Float], inout [Float]) throws -> Double,
                             slope slope0: Double, initialStep: Double) throws -> LineSearchOutcome {
        let f0 = f, c1 = options.c1, c2 = options.c2
        // One evaluation stays in reserve for re-evaluating a clamped point.
        var budget = min(options.maxLineSearchEvaluations, budgetLeft - (options.clamp == nil ? 0 : 1))
        let maxStep = 1e20
        // Bracket ends: (step, value, slope). lo always has sufficient decrease
        // (or is the start, step 0); `haveBest` says whether bestX/bestG hold lo.
        var lo = (a: 0.0, f: f0, d: slope0)
        var haveBest = false
        var hi = (a: 0.0, f: 0.0, d: 0.0)
        var a = initialStep.isFinite && initialStep > 0 ? min(initialStep, maxStep) : 1
        var bracketed = false
        func sufficient(_ a: Double, _ v: Double) -> Bool { v.isFinite && v <= f0 + c1 * a * slope0 }
        func acceptBest() -> LineSearchOutcome {
            guard haveBest else { return .failed }
            swap(&trialX, &bestX); swap(&trialG, &bestG)
            return .accepted(lo.f)
        }
        // Bracketing phase.
        while !bracketed {
            guard budget > 0 else { return acceptBest() }
            budget -= 1
            let (v, d) = try trial(objective, a)
            let finite = v.isFinite && d.isFinite && allFinite(trialG)
            if !finite || !sufficient(a, v) || (lo.a > 0 && v >= lo.f) {
                hi = (a, finite ? v : .infinity, finite ? d : .nan)
                bracketed = true
            } else if abs(d) <= -c2 * slope0 {
                return .accepted(v)
            } else if d >= 0 {
                hi = lo
                lo = (a, v, d); keepTrialAsBest(); haveBest = true
                bracketed = true
            } else {
                lo = (a, v, d); keepTrialAsBest(); haveBest = true
                guard a < maxStep else { return acceptBest() }
                a = min(2 * a, maxStep)
            }
        }
        // Zoom phase.
        while budget > 0 {
            let width = abs(hi.a - lo.a)
            guard width > 1e-7 * max(lo.a, hi.a) else { break }
            a = interpolate(lo, hi)
            budget -= 1
            let (v, d) = try trial(objective, a)
            let finite = v.isFinite && d.isFinite && allFinite(trialG)
            if !finite || !sufficient(a, v) || v >= lo.f {
                hi = (a, finite ? v : .infinity, finite ? d : .nan)
            } else {
                if abs(d) <= -c2 * slope0 { return .accepted(v) }
                if d * (hi.a - lo.a) >= 0 { hi = lo }
                lo = (a, v, d); keepTrialAsBest(); haveBest = true
            }
        }
        return acceptBest()
    }

    /// The next trial inside the bracket: cubic, else quadratic, else midpoint,
    /// each kept at least 10% of the width away from both ends.
    func interpolate(_ lo: (a: Double, f: Double, d: Double), _ hi: (a: Double, f: Double, d: Double)) -> Double {
        let left = min(lo.a, hi.a), right = max(lo.a, hi.a), margin = 0.1 * (right - left)
        func inside(_ t: Double) -> Bool { t.isFinite && t >= left + margin && t <= right - margin }
        guard hi.f.isFinite, hi.d.isFinite else { return 0.5 * (lo.a + hi.a) }
        // Cubic through both ends with their slopes (N&W eq. 3.59).
        let d1 = lo.d + hi.d - 3 * (lo.f - hi.f) / (lo.a - hi.a)
        let disc = d1 * d1 - lo.d * hi.d
        if disc >= 0 {
            let d2 = (hi.a > lo.a ? 1.0 : -1.0) * disc.squareRoot()
            let t = hi.a - (hi.a - lo.a) * (hi.d + d2 - d1) / (hi.d - lo.d + 2 * d2)
            if inside(t) { return t }
        }
        // Quadratic through phi(lo), phi'(lo) and phi(hi).
        let span = hi.a - lo.a
        let curvature = hi.f - lo.f - lo.d * span
        if curvature > 0 {
            let t = lo.a - lo.d * span * span / (2 * curvature)
            if inside(t) { return t }
        }
        return 0.5 * (lo.a + hi.a)
    }

    // MARK: vector helpers

    var bounds: (Float, Float) {
        options.clamp.map { ($0.lowerBound, $0.upperBound) } ?? (-Float.infinity, Float.infinity)
    }

    /// Largest |g_i|, ignoring components that push out of the clamp box at a bound.
    func projectedGradientNorm() -> Double {
        let (lo, hi) = bounds
        var m = 0.0
        for i in 0..<n {
            let gi = g[i]
            if (x[i] <= lo && gi > 0) || (x[i] >= hi && gi < 0) { continue }
            m = max(m, Double(abs(gi)))
        }
        return m
    }

    func norm2(_ v: [Float]) -> Double {
        v.withUnsafeBufferPointer { b in dot(b.baseAddress!, b.baseAddress!, b.count).squareRoot() }
    }
}

/// Clamps every value into `range`; returns whether any changed.
@discardableResult
private func clampInPlace(_ v: inout [Float], _ range: ClosedRange<Float>) -> Bool {
    let lo = range.lowerBound, hi = range.upperBound
    var changed = false
    v.withUnsafeMutableBufferPointer { b in
        for i in b.indices {
            let c = min(max(b[i], lo), hi)
            if c != b[i] { changed = true; b[i] = c }
        }
    }
    return changed
}

private func allFinite(_ v: [Float]) -> Bool {
    v.withUnsafeBufferPointer { b in
        var ok = true
        for e in b where !e.isFinite { ok = false; break }
        return ok
    }
}

/// sum a_i b_i in Double.
@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
    var s0 = 0.0, s1 = 0.0
    var i = 0
    while i &+ 2 <= n { s0 += Double(a[i]) * Double(b[i]); s1 += Double(a[i &+ 1]) * Double(b[i &+ 1]); i &+= 2 }
    if i < n { s0 += Double(a[i]) * Double(b[i]) }
    return s0 + s1
}

/// y += a x.
@inline(__always)
private func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    var i = 0
    while i < n { y[i] += a * x[i]; i &+= 1 }
}

/// x *= a.
@inline(__always)
private func scale(_ x: UnsafeMutablePointer<Float>, _ a: Float, _ n: Int) {
    var i = 0
    while i < n { x[i] *= a; i &+= 1 }
}
