// Adam (Kingma & Ba, 2015) on one flat float buffer: the pixels of the
// image being synthesised. The decoder trainer has its own optimiser over
// named tensors; this one is a single buffer with no names and an optional
// clamp, and allocates nothing per step.

/// Adam state for a buffer of `count` values. Each `step` applies
///   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
///   x -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
/// and then, if `clamp` is set, clamps every value into it.
public struct PixelAdam {
    public let count: Int
    public let learningRate: Double
    public let beta1: Double
    public let beta2: Double
    public let epsilon: Double
    /// Bounds applied after every step (e.g. 0...1 for images), or nil.
    public let clamp: ClosedRange<Float>?
    /// Steps taken so far.
    public private(set) var steps = 0
    private var first: [Float]
    private var second: [Float]

    /// Throws `.argument` unless count >= 1, learningRate > 0, 0 <= beta < 1,
    /// epsilon > 0 (all finite) and the clamp bounds are finite.
    public init(count: Int, learningRate: Double = 0.05, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, clamp: ClosedRange<Float>? = nil) throws {
        let op = "PixelAdam"
        guard count >= 1 else { throw RWCNNError.argument("\(op): count must be at least 1, got \(count)") }
        _ = try kernelElementCount([count, 2], what: "\(op) state")
        guard learningRate.isFinite, learningRate > 0 else {
            throw RWCNNError.argument("\(op): learning rate must be finite and positive, got \(learningRate)")
        }
        for (name, b) in [("beta1", beta1), ("beta2", beta2)] where !(b >= 0 && b < 1) {
            throw RWCNNError.argument("\(op): \(name) must be in [0, 1), got \(b)")
        }
        guard epsilon.isFinite, epsilon > 0 else {
            throw RWCNNError.argument("\(op): epsilon must be finite and positive, got \(epsilon)")
        }
        if let c = clamp, !(c.lowerBound.isFinite && c.upperBound.isFinite) {
            throw RWCNNError.argument("\(op): clamp bounds must be finite, got \(c)")
        }
        self.count = count
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.clamp = clamp
        first = [Float](repeating: 0, count: count)
        second = [Float](repeating: 0, count: count)
    }

    /// One update of `parameters` from `gradient`; both must have `count` values.
    public mutating func step(parameters: inout [Float], gradient: [Float]) throws {
        guard parameters.count == count, gradient.count == count else {
            throw RWCNNError.argument("PixelAdam: expected \(count) parameters and gradients, got \(parameters.count) and \(gradient.count)")
        }
        steps += 1
        let t = Double(steps)
        let lr = Float(learningRate), b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
        let c1 = Float(1 / (1 - pow(beta1, t))), c2 = Float(1 / (1 - pow(beta2, t)))
        let (lo, hi) = clamp.map { ($0.lowerBound, $0.upperBound) } ?? (-Float.infinity, Float.infinity)
        let n = count
        parameters.withUnsafeMutableBufferPointer { xb in
            gradient.withUnsafeBufferPointer { gb in
                first.withUnsafeMutableBufferPointer { mb in
                    second.withUnsafeMutableBufferPointer { vb in
                        guard let x = xb.baseAddress, let g = gb.baseAddress,
                              let m = mb.baseAddress, let v = vb.baseAddress else { return }
                        parallelElements(n) { r in
                            var i = r.lowerBound
                            while i < r.upperBound {
                                let gi = g[i]
                                let mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi
                                m[i] = mi; v[i] = vi
                                let xi = x[i] - lr * (mi * c1) / ((vi * c2).squareRoot() + eps)
                                x[i] = min(max(xi, lo), hi)
                                i &+= 1
                            }
                        }
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
