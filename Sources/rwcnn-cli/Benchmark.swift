import ArgumentParser
import RWCNN

struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the random encoder's forward pass against a plain sgemm.",
        discussion: "Prints the best of --repeat runs for each batch size, the effective GFLOP/s (2 x multiply-adds of the convolutions) and, from the same run, OpenBLAS sgemm's GFLOP/s on a 2048^3 product.")

    @Option(help: "Architecture.")
    var arch = "vgg16"

    @Option(help: "Layer to run the encoder to.")
    var cut = "pool5"

    @Option(help: "Input size (square).")
    var size = 224

    @Option(parsing: .upToNextOption, help: "Batch sizes.")
    var batch: [Int] = [1, 8]

    @Option(name: .customLong("repeat"), help: "Runs per measurement (the best is kept).")
    var repeats = 3

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        guard repeats >= 1 else { throw ValidationError("--repeat must be >= 1") }
        let model = try Model(config: ModelConfig(arch: arch, cut: cut, decoder: .tied))
        let flops = try convFlops(model.architecture, cut: model.cutIndex, size: size)
        let gemm = sgemmGflops()
        print("threads \(Threads.count); sgemm 2048^3: \(fixed(gemm, 1)) GFLOP/s")
        print("\(arch) forward to \(cut) at \(size)x\(size): \(fixed(flops / 1e9, 2)) GFLOP per image")
        for n in batch {
            guard n >= 1 else { throw ValidationError("batch sizes must be >= 1") }
            let x = try Tensor(shape: [n, 3, size, size], data: (0..<(n * 3 * size * size)).map { Float($0 % 251) / 251 })
            _ = try model.encode(x)  // warm-up
            var best = Double.infinity
            for _ in 0..<repeats {
                let t0 = monotonicSeconds()
                _ = try model.encode(x)
                best = min(best, monotonicSeconds() - t0)
            }
            let rate = flops * Double(n) / best / 1e9
            print("batch \(n): \(fixed(best * 1000, 1)) ms (\(fixed(best * 1000 / Double(n), 1)) ms/image), \(fixed(rate, 1)) GFLOP/s = \(fixed(100 * rate / gemm, 1)) % of sgemm")
        }
    }
}

/// 2 x multiply-adds of every conv up to the cut.
func convFlops(_ a: Architecture, cut: Int, size: Int) throws -> Double {
    let shapes = try a.shapes(height: size, width: size)
    var total = 0.0
    for i in 0...cut where a.layers[i].isConv {
        let l = a.layers[i], s = shapes[i]
        total += 2 * Double(l.outChannels * l.inChannels * l.kernel * l.kernel) * Double(s[1] * s[2])
    }
    return total
}

/// Best of 3 sgemm runs on 2048 x 2048 x 2048.
func sgemmGflops() -> Double {
    let n = 2048
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    var best = Double.infinity
    for _ in 0..<3 {
        let t0 = monotonicSeconds()
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: ap.baseAddress!, lda: n,
                  b: bp.baseAddress!, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
        } } }
        best = min(best, monotonicSeconds() - t0)
    }
    return 2 * Double(n * n * n) / best / 1e9
}
