import ArgumentParser
import RWCNN

@main
struct RWCNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rwcnn",
        abstract: "Random-weight CNNs: what their features keep of an image.",
        discussion: """
        Build a VGG-style CNN with random weights, take the features at any layer and
        reconstruct the image from them with a mirrored deconvolutional network that is
        random, tied to the encoder, or trained.
        """,
        version: RWCNNVersion.string,
        subcommands: [Demo.self, Info.self, Reconstruct.self, Features.self, Train.self, Evaluate.self, Benchmark.self, StudyCommand.self, ReportCommand.self,
                      /* image synthesis */ Invert.self, Texture.self, Style.self])
}

/// Model settings shared by the subcommands.
struct ModelOptions: ParsableArguments {
    @Option(help: "Architecture: vgg16, vgg19 or a spec such as \"64,64,M,128k5,M\".")
    var arch = "vgg16"

    @Option(help: "Channel multiplier (each conv keeps at least one channel).")
    var width = 1.0

    @Option(help: "Use this odd kernel size for every conv.")
    var kernel: Int?

    @Option(help: "Seed of the random weights.")
    var seed: UInt64 = 0

    @Option(help: "Weight distribution: normal, uniform, laplace or logistic.")
    var initDistribution: String = "normal"

    @Option(help: "Scale rule: he, glorot, or a fixed standard deviation such as 0.01.")
    var scale = "he"

    @Option(help: "Mean of the weight draws.")
    var mean = 0.0

    @Option(help: "Unpooling in the decoder: switches, nearest or zeros.")
    var unpool = "switches"

    func config(cut: String, decoder: DecoderMode) throws -> ModelConfig {
        guard let d = Distribution(rawValue: initDistribution) else {
            throw ValidationError("--init-distribution must be one of \(Distribution.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let rule: ScaleRule
        switch scale {
        case "he": rule = .he
        case "glorot": rule = .glorot
        default:
            guard let s = Double(scale), s >= 0 else { throw ValidationError("--scale must be he, glorot or a non-negative number") }
            rule = .fixed(std: s)
        }
        guard let u = UnpoolMode(rawValue: unpool) else {
            throw ValidationError("--unpool must be one of \(UnpoolMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return ModelConfig(arch: arch, cut: cut, width: width, kernelSize: kernel,
                           weightInit: WeightInit(distribution: d, scale: rule, mean: mean),
                           seed: seed, unpool: u, decoder: decoder)
    }
}

/// Threads option shared by the subcommands that compute.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (BLAS included); default: all cores.")
    var threads: Int?

    func apply() throws {
        if let t = threads {
            guard t >= 1 else { throw ValidationError("--threads must be >= 1") }
            Threads.set(t)
        } else {
            Threads.set(Threads.count)
        }
    }
}
