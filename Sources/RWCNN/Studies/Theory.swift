// The paper's theory for the tied (adjoint) random decoder, checked on one
// layer: with Gaussian weights W (N x n, i.i.d. N(0, sigma^2)),
//     E[W^T relu(W x)] = (N sigma^2 / 2) x,
// and the output's spread around that mean gives the expected cosine
//     cos(x, W^T relu(W x)) ≈ (1 + 2n / N)^(-1/2)
// for n inputs and N outputs, approaching 1 as the layer widens.

/// The measured and predicted cosine between an input and its tied
/// reconstruction through one random ReLU layer.
public struct AdjointCosine: Equatable {
    public var inputs: Int
    public var outputs: Int
    public var samples: Int
    /// Mean and standard deviation over the samples of cos(x, W^T relu(W x)).
    public var measured: Double
    public var deviation: Double
    /// (1 + 2 n / N)^(-1/2).
    public var predicted: Double

    public static func predicted(inputs n: Int, outputs N: Int) -> Double {
        1 / (1 + 2 * Double(n) / Double(N)).squareRoot()
    }

    /// `samples` independent draws of W (normal, He scale) and of x
    /// (uniform in [0, 1], like pixel values), from `seed`. In Double.
    public static func measure(inputs n: Int, outputs N: Int, samples: Int, seed: UInt64) throws -> AdjointCosine {
        guard n >= 1, n <= 1 << 16, N >= 1, N <= 1 << 16, samples >= 1, samples <= 1 << 20, n * N <= 1 << 24 else {
            throw RWCNNError.argument("adjoint cosine: inputs and outputs must be in 1...65536 (product at most 2^24), samples in 1...2^20")
        }
        var cosines = [Double]()
        cosines.reserveCapacity(samples)
        var y = [Double](repeating: 0, count: n)
        for s in 0..<samples {
            let stream = streamID(forName: "theory.adjoint") &+ UInt64(s) &* 2
            let w = try drawTensor(shape: [N, n], init: WeightInit(distribution: .normal, scale: .he),
                                   fanIn: n, fanOut: N, seed: seed, stream: stream)
            let x = try drawTensor(shape: [n], init: WeightInit(distribution: .uniform, scale: .fixed(std: 1 / 12.0.squareRoot()), mean: 0.5),
                                   fanIn: n, fanOut: 1, seed: seed, stream: stream &+ 1)
            for i in 0..<n { y[i] = 0 }
            w.data.withUnsafeBufferPointer { w in
                x.data.withUnsafeBufferPointer { x in
                    for row in 0..<N {
                        var activation = 0.0
                        for i in 0..<n { activation += Double(w[row * n + i]) * Double(x[i]) }
                        guard activation > 0 else { continue }
                        for i in 0..<n { y[i] += Double(w[row * n + i]) * activation }
                    }
                }
            }
            var xy = 0.0, xx = 0.0, yy = 0.0
            for i in 0..<n {
                let xi = Double(x.data[i])
                xy += xi * y[i]; xx += xi * xi; yy += y[i] * y[i]
            }
            cosines.append(yy > 0 && xx > 0 ? xy / (xx * yy).squareRoot() : 0)
        }
        let mean = cosines.reduce(0, +) / Double(samples)
        let variance = cosines.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(samples)
        return AdjointCosine(inputs: n, outputs: N, samples: samples, measured: mean, deviation: variance.squareRoot(),
                             predicted: predicted(inputs: n, outputs: N))
    }
}
