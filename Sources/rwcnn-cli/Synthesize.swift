import ArgumentParser
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

// rwcnn invert | texture | style: optimise an image against a random VGG's
// features and write it as PNG (optionally every N steps too).

/// Set by SIGINT; the progress callback turns it into a clean cancel.
nonisolated(unsafe) private var synthesisInterrupted: sig_atomic_t = 0

/// Options every synthesis subcommand takes.
struct SynthesisCLIOptions: ParsableArguments {
    @Option(help: "Optimiser steps at each scale.")
    var steps = SynthesisOptions().steps

    @Option(help: ArgumentHelp("adam or lbfgs (default: \(SynthesisTask.allCases.map { "\(SynthesisOptions(task: $0).optimizer.rawValue) for \($0.rawValue)" }.joined(separator: ", "))).", valueName: "name"))
    var optimizer: String?

    @Option(help: "Adam's learning rate (pixel units).")
    var learningRate = SynthesisOptions().learningRate

    @Option(name: .customLong("lr"), help: ArgumentHelp("Old name of --learning-rate.", visibility: .hidden))
    var lrAlias: Double?

    @Flag(help: "Do not clamp the pixels to [0, 1] after each step.")
    var noClamp = false

    @Option(help: "Coarse-to-fine scales (1: the final size only).")
    var scales = SynthesisOptions().scales

    @Option(help: "Size ratio between scales.")
    var scaleFactor = SynthesisOptions().scaleFactor

    @Option(help: "Seed of the white-noise start.")
    var noiseSeed: UInt64 = 0

    @Option(help: "beta-TV prior weight (0: off).")
    var tvWeight = 0.0

    @Option(help: "beta of the TV prior.")
    var tvBeta = SynthesisOptions().tvBeta

    @Option(help: "alpha-norm prior weight (0: off).")
    var alphaWeight = 0.0

    @Option(help: "alpha of the alpha-norm prior.")
    var alpha = SynthesisOptions().alpha

    @Option(help: "Feature loss normalisation: relative or mean.")
    var featureNormalization = SynthesisOptions().featureNormalization.rawValue

    @Option(help: "Gram loss normalisation: scaled or gatys.")
    var gramNormalization = SynthesisOptions().gramNormalization.rawValue

    @Option(help: "Also write the image every this many steps, as <output>-step<N>.png (0: never).")
    var every = 0

    @Option(name: .shortAndLong, help: "Output PNG.")
    var output: String

    func options(_ task: SynthesisTask) throws -> SynthesisOptions {
        // The task's defaults from the core (SynthesisOptions(task:)), then the flags.
        var o = SynthesisOptions(task: task)
        o.steps = steps
        if let optimizer {
            o.optimizer = try Vocabulary.synthesisOptimizer.decode(Vocabulary.synthesisOptimizer.value(of: optimizer),
                                                                   as: SynthesisOptimizer.self, field: "--optimizer")
        }
        o.learningRate = lrAlias ?? learningRate
        o.clamp = !noClamp
        o.scales = scales; o.scaleFactor = scaleFactor
        o.seed = noiseSeed
        o.tvWeight = tvWeight; o.tvBeta = tvBeta
        o.alphaWeight = alphaWeight; o.alpha = alpha
        o.featureNormalization = try Vocabulary.featureNormalization.decode(
            Vocabulary.featureNormalization.value(of: featureNormalization), as: FeatureLossNormalization.self,
            field: "--feature-normalization")
        o.gramNormalization = try Vocabulary.gramNormalization.decode(
            Vocabulary.gramNormalization.value(of: gramNormalization), as: GramNormalization.self,
            field: "--gram-normalization")
        guard every >= 0 else { throw ValidationError("--every must be >= 0") }
        return o
    }

    /// Runs `task` with a progress line, Ctrl-C and the snapshots, then
    /// writes the result.
    func run(_ kind: SynthesisTask, _ task: (SynthesisOptions, @escaping SynthesisCallback) throws -> SynthesisResult) throws {
        let label = kind.rawValue
        let o = try options(kind)
        synthesisInterrupted = 0
        signal(SIGINT) { _ in synthesisInterrupted = 1 }
        defer { signal(SIGINT, SIG_DFL) }
        let line = ProgressLine()
        let stem = output.hasSuffix(".png") ? String(output.dropLast(4)) : output
        var snapshotError: Error?
        let every = self.every
        let r: SynthesisResult
        do {
            r = try task(o) { p in
                line.show("\(label) step \(p.step)/\(p.steps)  scale \(p.scale)/\(p.scales)  loss \(fixed(p.loss, 6))  \(fixed(Double(p.step) / max(p.seconds, 1e-9), 1)) steps/s")
                if every > 0, p.step % every == 0 {
                    do {
                        for i in 0..<p.image.shape[0] {
                            try saveImageTensor(p.image.item(i), path: snapshotPath(stem, step: p.step, item: i, of: p.image.shape[0]))
                        }
                    } catch {
                        snapshotError = error
                        return false
                    }
                }
                return synthesisInterrupted == 0
            }
        } catch RWCNNError.cancelled(let m) where snapshotError == nil {
            line.finish()
            printError(m)
            throw ExitCode(130)
        }
        line.finish()
        if let snapshotError { throw snapshotError }
        let n = r.image.shape[0]
        for i in 0..<n { try saveImageTensor(r.image.item(i), path: snapshotPath(stem, step: nil, item: i, of: n)) }
        print("\(label): \(r.steps) steps in \(fixed(r.seconds, 1)) s, loss \(fixed(r.startLoss, 6)) -> \(fixed(r.finalLoss, 6)) ("
              + zip(r.terms, r.termLosses).map { "\($0) \(fixed($1, 6))" }.joined(separator: ", ") + ") -> \(output)")
    }

    /// <stem>[-<item>][-step<N>].png
    func snapshotPath(_ stem: String, step: Int?, item: Int, of count: Int) -> String {
        stem + (count > 1 ? "-\(item)" : "") + (step.map { "-step\($0)" } ?? "") + ".png"
    }
}

/// Model options of the synthesis subcommands: the model is cut at the
/// deepest layer the task names.
struct SynthesisModelOptions: ParsableArguments {
    @Option(help: "Architecture: vgg16, vgg16-avg, vgg19, vgg19-avg or a spec (A is an average pool); default \(SynthesisTask.invert.defaultArch) for invert, \(SynthesisTask.texture.defaultArch) for texture and style.")
    var arch: String?

    @Option(help: "Channel multiplier.")
    var width = 1.0

    @Option(help: "Seed of the random weights.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Weight distribution: \(Vocabulary.distribution.names.joined(separator: ", ")).",
                               valueName: "name"))
    var distribution = ModelConfig().weightInit.distribution.rawValue

    @Option(name: .customLong("init-distribution"), help: ArgumentHelp("Old name of --distribution.", visibility: .hidden))
    var initDistribution: String?

    @Flag(inversion: .prefixedNo, help: "ImageNet-normalise (centre) the pixels the random VGG sees; default on for texture and style, off for invert.")
    var normalizeInput: Bool?

    func model(layers: [String], task: SynthesisTask) throws -> Model {
        let arch = self.arch ?? task.defaultArch
        let a = try Architecture(spec: arch, width: width)
        let name = initDistribution ?? distribution
        guard let d = Distribution(rawValue: name.lowercased()) else {
            throw ValidationError("--distribution must be one of \(Vocabulary.distribution.names.joined(separator: ", ")), got \"\(name)\"")
        }
        var config = try ModelConfig(arch: arch, cut: a.deepestLayer(of: layers), width: width,
                                 weightInit: WeightInit(distribution: d), seed: seed)
        config.normalizeInput = normalizeInput ?? task.centredInput
        return try Model(config: config)
    }
}

func splitLayers(_ s: String) -> [String] {
    s.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
}

func splitWeights(_ s: String?, option: String) throws -> [Double]? {
    guard let s else { return nil }
    return try splitLayers(s).map {
        guard let v = Double($0) else { throw ValidationError("\(option): \"\($0)\" is not a number") }
        return v
    }
}

struct Invert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconstruct an image from a layer's features by optimising the pixels.",
        discussion: """
        Starts from seeded white noise and minimises the feature loss at --layer (relative: \
        sum (F - T)^2 / sum T^2) plus the optional TV and alpha-norm priors, with Adam or \
        L-BFGS. Ctrl-C stops cleanly (the snapshots written so far stay).

        Example: rwcnn invert data/images/astronaut.png --layer pool1 --size 64 -o out/invert.png
        """)

    @Argument(help: "PNG or JPEG image.")
    var image: String

    @Option(help: "Layer whose features are inverted (e.g. pool1, conv3_1, relu4_2).")
    var layer: String

    @Option(help: "Resize the short side to this and centre-crop a square (0 keeps the image).")
    var size = 64

    @OptionGroup var synthesis: SynthesisCLIOptions
    @OptionGroup var model: SynthesisModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let m = try model.model(layers: [layer], task: .invert)
        let x = try loadInput(image, size: size)
        try synthesis.run(.invert) { o, cb in try m.invert(x, layer: layer, options: o, progress: cb) }
    }
}

struct Texture: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Synthesise a texture from the Gram matrices of an image at a set of layers.",
        discussion: """
        Matches the Gram matrices (scaled: relative error, 1 at a black image) of --layers, \
        weighted by --weights, starting from seeded white noise; the output may have any size.

        Example: rwcnn texture data/images/brick.png --arch vgg16-avg --layers conv1_1,pool1,pool2,pool3 --out-size 128 -o out/texture.png
        """)

    @Argument(help: "Source PNG or JPEG image.")
    var image: String

    @Option(help: "Comma-separated layers (e.g. conv1_1,pool1,pool2,pool3).")
    var layers: String

    @Option(help: "Comma-separated weights, one per layer (default 1 each).")
    var weights: String?

    @Option(help: "Resize the source's short side to this and centre-crop a square (0 keeps it).")
    var size = 128

    @Option(help: "Output side (square); default: the source's.")
    var outSize: Int?

    @OptionGroup var synthesis: SynthesisCLIOptions
    @OptionGroup var model: SynthesisModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let names = splitLayers(layers)
        let w = try splitWeights(weights, option: "--weights")
        let m = try model.model(layers: names, task: .texture)
        let x = try loadInput(image, size: size)
        try synthesis.run(.texture) { o, cb in
            try m.texture(x, layers: names, weights: w, height: outSize ?? x.shape[1], width: outSize ?? x.shape[2],
                          options: o, progress: cb)
        }
    }
}

struct Style: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transfer the style of one image to the content of another.",
        discussion: """
        The content loss at --content-layer (relative feature error) times --content-weight plus \
        the Gram losses of the style image at --style-layers (weights --style-weights).

        Example: rwcnn style data/images/astronaut.png data/images/gravel.png --arch vgg16-avg --size 128 -o out/style.png
        """)

    @Argument(help: "Content PNG or JPEG image.")
    var content: String

    @Argument(help: "Style PNG or JPEG image.")
    var style: String

    @Option(help: "Content layer.")
    var contentLayer = StyleDefaults.contentLayer

    @Option(help: "Comma-separated style layers.")
    var styleLayers = StyleDefaults.styleLayers.joined(separator: ",")

    @Option(help: "Content weight.")
    var contentWeight = StyleDefaults.contentWeight

    @Option(help: "Comma-separated style weights, one per layer (default 1 each).")
    var styleWeights: String?

    @Option(help: "Resize the short sides to this and centre-crop squares (0 keeps the images).")
    var size = 128

    @Flag(help: "Start from the content image instead of white noise.")
    var fromContent = false

    @OptionGroup var synthesis: SynthesisCLIOptions
    @OptionGroup var model: SynthesisModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let names = splitLayers(styleLayers)
        let w = try splitWeights(styleWeights, option: "--style-weights")
        let m = try model.model(layers: [contentLayer] + names, task: .style)
        let c = try loadInput(content, size: size), s = try loadInput(style, size: size)
        let start: SynthesisStart = fromContent ? .content : .noise
        try synthesis.run(.style) { o, cb in
            var o = o
            o.start = start
            return try m.style(content: c, style: s, contentLayer: contentLayer, styleLayers: names,
                               contentWeight: contentWeight, styleWeights: w, options: o, progress: cb)
        }
    }
}
