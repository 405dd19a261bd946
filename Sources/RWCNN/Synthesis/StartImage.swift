// The seeded white-noise image that inversion and texture synthesis start
// from. It is a pure function of (shape, seed, range): each pixel is one
// Philox block of the stream `synthesisStartStream`, mapped as the uniform
// distribution of docs/RANDOMNESS.md, so every binding and thread count gives
// the same start.

/// The stream name of the white-noise start image.
public let synthesisStartStream = "synthesis.start"

/// A white-noise image of `shape` (typically [N, C, H, W]), each value
/// independent and uniform in (low, high): pixel i is
/// low + (high - low) * u1 with u1 = (w0 + 0.5) / 2^32 from block i of
/// stream `streamID(forName: stream)` under `seed`. Throws `.argument` for
/// an empty or invalid shape, non-finite bounds or low >= high.
public func whiteNoiseImage(shape: [Int], seed: UInt64, low: Float = 0, high: Float = 1,
                            stream: String = synthesisStartStream) throws -> Tensor {
    let op = "whiteNoiseImage"
    let count = try kernelElementCount(shape, what: op)
    guard count > 0 else { throw RWCNNError.argument("\(op): shape \(shape) is empty") }
    guard low.isFinite, high.isFinite, low < high else {
        throw RWCNNError.argument("\(op): need finite low < high, got \(low) and \(high)")
    }
    // Uniform with mean m and standard deviation sd is m + sd sqrt(3) (2 u1 - 1);
    // this mean and sd make it low + (high - low) u1.
    let mean = (Double(low) + Double(high)) / 2
    let std = (Double(high) - Double(low)) / (2 * 3.0.squareRoot())
    let values = drawValues(count: count, distribution: .uniform, mean: mean, std: std,
                            seed: seed, stream: streamID(forName: stream))
    return try Tensor(shape: shape, data: values)
}
