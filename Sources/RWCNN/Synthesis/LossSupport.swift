// Shared pieces of the synthesis losses: the value-and-gradient result, a
// deterministic parallel sum and the argument checks every loss makes.

/// A loss value (accumulated in Double) and its gradient with respect to the
/// loss's input, which has the input's shape.
public struct LossAndGradient {
    public var value: Double
    public var gradient: Tensor

    public init(value: Double, gradient: Tensor) {
        self.value = value
        self.gradient = gradient
    }
}

/// Elements per block of a reduction. Fixed, so a sum never depends on how
/// the work is split between threads.
let lossReductionBlock = 1 << 14

/// The sum over `0..<count` of `partial(range)`, taken over fixed blocks of
/// `lossReductionBlock` elements in parallel and added in block order: the
/// same value for every thread count.
func deterministicSum(count: Int, _ partial: (Range<Int>) -> Double) -> Double {
    guard count > 0 else { return 0 }
    let blocks = (count + lossReductionBlock - 1) / lossReductionBlock
    var sums = [Double](repeating: 0, count: blocks)
    sums.withUnsafeMutableBufferPointer { sb in
        guard let s = sb.baseAddress else { return }
        parallelFor(blocks, minChunk: max(1, parallelGrain / lossReductionBlock)) { bs in
            for b in bs { s[b] = partial((b * lossReductionBlock)..<min(count, (b + 1) * lossReductionBlock)) }
        }
    }
    return sums.reduce(0, +)
}

/// Throws unless a loss weight is finite and not negative.
func requireLossWeight(_ weight: Double, op: String) throws {
    guard weight.isFinite, weight >= 0 else {
        throw RWCNNError.argument("\(op): weight must be finite and at least 0, got \(weight)")
    }
}

/// Throws unless an exponent is finite and at least 1 (below 1 the penalty
/// is not convex and its gradient is unbounded near zero).
func requireExponent(_ exponent: Double, name: String, op: String) throws {
    guard exponent.isFinite, exponent >= 1 else {
        throw RWCNNError.argument("\(op): \(name) must be finite and at least 1, got \(exponent)")
    }
}
