import ArgumentParser
import RWCNN

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the layer table: output shapes, parameter counts and each layer's other names.",
        discussion: """
        Every command that takes a layer name also takes the aliases listed under "also": \
        Caffe/Gatys relu<b>_<i>, Keras block<b>_conv<i> / block<b>_pool and torchvision \
        features.<i> (the ReLU module, or the conv module before it).
        """)

    @Option(help: "Architecture: vgg16, vgg19 or a spec such as \"64,64,M,128k5,M\".")
    var arch = ModelConfig().arch

    @Option(help: "Channel multiplier.")
    var width = ModelConfig().width

    @Option(help: "Use this odd kernel size for every conv (C and Python: kernel_size).")
    var kernelSize: Int?

    @Option(name: .customLong("kernel"), help: ArgumentHelp("Old name of --kernel-size.", visibility: .hidden))
    var kernelAlias: Int?

    /// --kernel-size, or its old name --kernel.
    var kernel: Int? { kernelSize ?? kernelAlias }

    @Option(help: "Input size (square) for the shapes.")
    var size = 224

    @Option(help: "Print the algorithm of every convolution pass of a job instead: encode, reconstruct (tied decoder, cached weights) or train (a training step of a trained decoder), at --size, --batch and --cut.")
    var plan: String?

    @Option(help: "With --plan: the batch size.")
    var batch = 1

    @Option(help: "With --plan: the cut (default: the last layer).")
    var cut: String?

    func run() throws {
        let a = try Architecture(spec: arch, width: width, kernelSize: kernel)
        if let plan { return try printPlan(plan, a) }
        let shapes = try a.shapes(height: size, width: size)
        print("\(arch) (width \(width)\(kernel.map { ", kernel \($0)" } ?? "")), input 3x\(size)x\(size)")
        print(pad("layer", 10) + pad("kind", 14) + pad("output CxHxW", 18) + pad("params", 12, right: true) + pad("total", 14, right: true) + "also")
        var total = 0
        for (layer, s) in zip(a.layers, shapes) {
            total += layer.parameterCount
            let kind: String
            switch layer.kind {
            case .conv(let k): kind = "conv \(k)x\(k)"
            case .pool(let k, let st): kind = "\(layer.pooling == .avg ? "avgpool" : "maxpool") \(k)/\(st)"
            }
            print(pad(layer.name, 10) + pad(kind, 14) + pad(s.map(String.init).joined(separator: "x"), 18)
                  + pad("\(layer.parameterCount)", 12, right: true) + pad("\(total)", 14, right: true)
                  + layer.aliases.joined(separator: ", "))
        }
    }
}

extension Info {
    /// `--plan JOB`: each convolution pass and its algorithm, as the engine chooses them.
    func printPlan(_ job: String, _ a: Architecture) throws {
        let jobs: [String: (MemoryJob, DecoderMode)] = ["encode": (.encode, .tied), "reconstruct": (.reconstruct, .tied),
                                                        "train": (.trainStep, .trained)]
        guard let (memoryJob, decoder) = jobs[job] else {
            throw ValidationError("--plan must be encode, reconstruct or train, got \(job)")
        }
        guard batch >= 1 else { throw ValidationError("--batch must be >= 1") }
        let cutIndex = try cut.map { name in
            guard let i = a.layers.firstIndex(where: { $0.name == name || $0.aliases.contains(name) }) else {
                throw ValidationError("unknown layer \(name) in \(arch)")
            }
            return i
        } ?? a.layers.count - 1
        let settings = WorkingMemorySettings(decoder: decoder, context: .current)
        let passes = try WorkingMemory.plannedConvolutions(memoryJob, architecture: a, cutIndex: cutIndex, batch: batch,
                                                           height: size, width: size, settings: settings)
        print("\(arch) to \(a.layers[cutIndex].name), \(job), batch \(batch), \(size)x\(size), \(Threads.count) threads")
        print(pad("pass", 26) + pad("layer", 10) + pad("tiles", 8, right: true) + "algorithm")
        for p in passes {
            print(pad(p.pass.rawValue, 26) + pad(p.layer, 10) + pad(p.tiles > 0 ? String(p.tiles) : "-", 8, right: true)
                  + p.algorithm.rawValue)
        }
    }
}

/// Pads (or right-aligns) a table cell.
func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, n - s.count))
    return right ? fill + s + "  " : s + fill
}
