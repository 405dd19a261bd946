#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The exact mapping from seed to weights (also in docs/RANDOMNESS.md), so that
// every binding and every thread count gives the same bits:
//
//   key     = (seed & 0xffffffff, seed >> 32)
//   value i of stream s (after `offset`: b = i + offset) uses Philox4x32-10
//   block b:  counter = (b & 0xffffffff, b >> 32, s & 0xffffffff, s >> 32)
//   words w0, w1 of that block give  u1 = (w0 + 0.5) / 2^32,  u2 = (w1 + 0.5) / 2^32,
//   both strictly inside (0, 1). With mean m and standard deviation sd:
//     normal    z = sqrt(-2 ln u1) * cos(2 pi u2)          (Box-Muller, cosine half)
//               x = m + sd * z
//     uniform   x = m + sd * sqrt(3) * (2 u1 - 1)
//     laplace   b = sd / sqrt(2);  x = m - b * sign(u1 - 1/2) * ln(1 - 2 |u1 - 1/2|)
//     logistic  s = sd * sqrt(3) / pi;  x = m + s * ln(u1 / (1 - u1))
//   Everything is computed in Double and rounded to Float once. Only normal
//   uses w1; words w2, w3 are unused. A tensor's stream is streamID(forName:)
//   of its parameter name (e.g. "encoder.conv1_1.weight"), its values in
//   row-major order are i = 0, 1, 2, ...
//
// Reference implementation: scripts/golden_random.py.

/// The shape of a weight distribution; the scale rule sets its standard deviation.
public enum Distribution: String, CaseIterable, Sendable {
    case normal, uniform, laplace, logistic
}

/// How the standard deviation of the initial weights is chosen.
public enum ScaleRule: Equatable, Sendable {
    /// The given standard deviation.
    case fixed(std: Double)
    /// He et al.: sqrt(2 / fanIn).
    case he
    /// Glorot and Bengio: sqrt(2 / (fanIn + fanOut)).
    case glorot

    /// The standard deviation for an operation whose outputs each sum `fanIn`
    /// terms and whose inputs each feed `fanOut` terms.
    public func std(fanIn: Int, fanOut: Int) -> Double {
        switch self {
        case .fixed(let s): return s
        case .he: return (2.0 / Double(fanIn)).squareRoot()
        case .glorot: return (2.0 / Double(fanIn + fanOut)).squareRoot()
        }
    }
}

/// A weight initialisation: distribution x scale rule, shifted by `mean`.
/// All four distributions of one rule have the same variance.
public struct WeightInit: Equatable, Sendable {
    public var distribution: Distribution
    public var scale: ScaleRule
    public var mean: Double

    public init(distribution: Distribution = .normal, scale: ScaleRule = .he, mean: Double = 0) {
        self.distribution = distribution
        self.scale = scale
        self.mean = mean
    }

    /// The largest mean magnitude and fixed standard deviation accepted:
    /// beyond it a draw is absurd (a few layers overflow Float and every
    /// output is non-finite).
    public static let maxMagnitude = 100.0

    /// Throws `.argument` for a non-finite or absurd mean or fixed std.
    public func validate() throws {
        guard mean.isFinite, abs(mean) <= WeightInit.maxMagnitude else {
            throw RWCNNError.argument("weight init: mean must be finite and within ±\(WeightInit.maxMagnitude), got \(mean)")
        }
        if case .fixed(let s) = scale {
            guard s.isFinite, s >= 0, s <= WeightInit.maxMagnitude else {
                throw RWCNNError.argument("weight init: std must be finite and in [0, \(WeightInit.maxMagnitude)], got \(s)")
            }
        }
    }
}

/// One value drawn from a block (see the mapping at the top of this file).
@inline(__always)
private func philoxSample(_ d: Distribution, _ w: SIMD4<UInt32>, mean: Double, std: Double) -> Double {
    let u = Philox4x32.unitOpen(w[0])
    switch d {
    case .normal:
        let u2 = Philox4x32.unitOpen(w[1])
        return mean + std * ((-2.0 * log(u)).squareRoot() * cos(2.0 * Double.pi * u2))
    case .uniform:
        return mean + std * 3.0.squareRoot() * (2.0 * u - 1.0)
    case .laplace:
        let b = std / 2.0.squareRoot()
        let c = u - 0.5
        return mean - b * (c > 0 ? 1.0 : -1.0) * log(1.0 - 2.0 * abs(c))
    case .logistic:
        let s = std * 3.0.squareRoot() / Double.pi
        return mean + s * log(u / (1.0 - u))
    }
}

/// Values `offset ..< offset + count` of stream `stream` under `seed`, drawn
/// from `distribution` with the given mean and standard deviation. Each value
/// is a pure function of its index, so the result is the same for every
/// thread count. Returns an empty array when count <= 0.
public func drawValues(count: Int, distribution: Distribution, mean: Double, std: Double,
                       seed: UInt64, stream: UInt64, offset: UInt64 = 0) -> [Float] {
    guard count > 0 else { return [] }
    return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        drawValues(into: buffer, distribution: distribution, mean: mean, std: std, seed: seed, stream: stream,
                   offset: offset)
        initialized = count
    }
}

/// `drawValues` written into `out` (its whole length), e.g. a model's
/// parameter block in place.
func drawValues(into out: UnsafeMutableBufferPointer<Float>, distribution: Distribution, mean: Double, std: Double,
                seed: UInt64, stream: UInt64, offset: UInt64 = 0) {
    parallelFor(out.count, minChunk: 4096) { range in
        for i in range {
            let w = Philox4x32.block(seed: seed, stream: stream, index: offset &+ UInt64(i))
            (out.baseAddress! + i).initialize(to: Float(philoxSample(distribution, w, mean: mean, std: std)))
        }
    }
}

/// A weight tensor of `shape` drawn with `init`, its standard deviation given
/// by the scale rule for (fanIn, fanOut). Throws `.argument` for a bad shape,
/// a non-positive fanIn under He or Glorot, a negative fanOut under Glorot, or
/// a negative or non-finite standard deviation or mean; `.outOfMemory` when
/// the tensor could not fit in memory.
public func drawTensor(shape: [Int], init: WeightInit, fanIn: Int, fanOut: Int,
                       seed: UInt64, stream: UInt64) throws -> Tensor {
    let count = try checkedProduct(shape, what: "weight tensor")
    let std = try checkedStd(init: `init`, fanIn: fanIn, fanOut: fanOut)
    try MemoryBudget.check(count: count, size: MemoryLayout<Float>.stride, what: "weight tensor \(shape)")
    let values = drawValues(count: count, distribution: `init`.distribution, mean: `init`.mean, std: std,
                            seed: seed, stream: stream)
    return try Tensor(shape: shape, data: values)
}

/// The standard deviation `init` gives for (fanIn, fanOut), checked as
/// `drawTensor` documents.
func checkedStd(init: WeightInit, fanIn: Int, fanOut: Int) throws -> Double {
    switch `init`.scale {
    case .fixed: break
    case .he, .glorot:
        guard fanIn > 0 else { throw RWCNNError.argument("weight init: fan-in must be positive, got \(fanIn)") }
        if `init`.scale == .glorot, fanOut < 0 {
            throw RWCNNError.argument("weight init: fan-out must not be negative, got \(fanOut)")
        }
    }
    let std = `init`.scale.std(fanIn: fanIn, fanOut: fanOut)
    try `init`.validate()
    guard std.isFinite, std >= 0, std <= WeightInit.maxMagnitude else {
        throw RWCNNError.argument("weight init: standard deviation must be finite and in [0, \(WeightInit.maxMagnitude)], got \(std)")
    }
    return std
}

