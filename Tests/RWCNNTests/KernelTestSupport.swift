// Helpers for the kernel tests: a small seeded generator (independent of the
// engine's own RNG, so kernel tests never depend on it) and a relative error.
@testable import RWCNN

/// SplitMix64: tiny, seeded, good enough for test data.
struct KernelTestRNG {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// Uniform integer in the closed range.
    mutating func int(_ r: ClosedRange<Int>) -> Int {
        r.lowerBound + Int(next() % UInt64(r.upperBound - r.lowerBound + 1))
    }

    /// `count` floats uniform in [-1, 1).
    mutating func floats(_ count: Int) -> [Float] {
        (0..<count).map { _ in Float(uniform(-1, 1)) }
    }

    /// A tensor of `shape` with values uniform in [-1, 1).
    mutating func tensor(_ shape: [Int]) -> Tensor {
        // The count always matches the shape, so this cannot throw.
        (try? Tensor(shape: shape, data: floats(shape.reduce(1, *)))) ?? Tensor(checkedZeros: shape)
    }
}

/// ||a - b|| / max(||b||, 1e-12), Euclidean norms; infinity if the counts differ.
func relativeError(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    var diff = 0.0, norm = 0.0
    for (x, y) in zip(a, b) { diff += (x - y) * (x - y); norm += y * y }
    return diff.squareRoot() / max(norm.squareRoot(), 1e-12)
}

/// Normwise relative error ||y - ref|| / ||ref||, and the largest
/// elementwise error relative to the largest |ref|.
func normwiseAndMaxErrors(_ y: [Float], _ ref: [Double]) -> (norm: Double, max: Double) {
    var num = 0.0, den = 0.0, maxDiff = 0.0, maxRef = 0.0
    for (a, b) in zip(y, ref) {
        let d = Double(a) - b
        num += d * d; den += b * b
        maxDiff = Swift.max(maxDiff, abs(d)); maxRef = Swift.max(maxRef, abs(b))
    }
    return ((num / Swift.max(den, 1e-300)).squareRoot(), maxDiff / Swift.max(maxRef, 1e-300))
}

/// The losses of six Adam steps of `model` on the bundled images (batch 4,
/// 32x32 crops, learning rate 3e-3, seed 7), at the context's thread count.
func sixStepLosses(_ model: Model) throws -> [Double] {
    var o = TrainOptions()
    o.dataFolder = bundledImages
    o.steps = 6; o.batchSize = 4; o.crop = 32; o.shortSide = 64; o.learningRate = 3e-3
    o.evalEvery = 0; o.checkpointEvery = 0; o.seed = 7
    var losses: [Double] = []
    try model.train(options: o) { p in
        if p.kind == .step { losses.append(p.loss) }
        return .proceed
    }
    return losses
}
