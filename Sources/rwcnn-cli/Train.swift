import ArgumentParser
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT; the progress callback turns it into a clean cancel.
nonisolated(unsafe) private var interrupted: sig_atomic_t = 0

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the decoder to reconstruct images from a layer's features.",
        discussion: """
        The encoder (random, or torchvision's with --pretrained) stays fixed; the mirrored \
        decoder learns with MSE on random crops of the PNG and JPEG files under --data. Held-out \
        crops (--eval-data, or a seeded split of --data) are scored every --eval-every steps. \
        Ctrl-C stops cleanly: the checkpoint is written for the last completed step and \
        --resume continues from it exactly.

        With --style, the decoder is trained for fast style transfer with the random \
        CNN-DeCNN instead (the loss: the content at --content-layer plus the style image's \
        Gram losses at --style-layers, on the same fixed encoder; docs/ENGINE.md, "Fast \
        style"); `rwcnn reconstruct` with the saved model then stylises any photo in one pass. \
        The model then sees centred (ImageNet-normalised) pixels. \
        Example: rwcnn train --arch vgg16-avg --cut pool2 --data data/images --crop 64 --batch 4 \
        --steps 300 --style data/images/gravel.png --content-layer conv2_2 \
        --style-layers conv1_1,pool1,pool2 -o out/fast-style.safetensors
        """)

    private static let defaults = TrainOptions()

    @Option(help: "Layer whose features the decoder inverts (e.g. pool2).")
    var cut: String

    @Option(help: "Training steps.")
    var steps = defaults.steps

    @Option(help: "Images per step.")
    var batch = defaults.batchSize

    @Flag(help: "No random horizontal flips.")
    var noFlip = false

    @Option(help: "adam or sgd (with momentum).")
    var optimizer = defaults.optimizer.rawValue

    @Option(name: .customLong(TrainOptionName.learningRate.cliName), help: "Learning rate.")
    var learningRate = defaults.learningRate

    @Option(name: .customLong("lr"), help: ArgumentHelp("Old name of --learning-rate.", visibility: .hidden))
    var lrAlias: Double?

    @Option(help: "SGD momentum.")
    var momentum = defaults.momentum

    @Option(help: "Adam's decay rate of the first moment (in [0, 1)).")
    var beta1 = defaults.beta1

    @Option(help: "Adam's decay rate of the second moment (in [0, 1)).")
    var beta2 = defaults.beta2

    @Option(help: "Adam's epsilon, added to the second moment's root (> 0).")
    var epsilon = defaults.epsilon

    @Option(help: "L2 weight decay.")
    var weightDecay = defaults.weightDecay

    @Option(help: "Evaluate every this many steps (0: at the end only).")
    var evalEvery = defaults.evalEvery

    @Option(help: "Checkpoint file (written atomically).")
    var checkpoint: String?

    @Option(help: "Checkpoint every this many steps (0: at the end only).")
    var checkpointEvery = defaults.checkpointEvery

    @Flag(help: "Continue from --checkpoint.")
    var resume = false

    @Option(help: "torchvision VGG weights (safetensors, see scripts/export_torchvision_vgg.py) for the encoder; implies ImageNet input normalisation.")
    var pretrained: String?

    @Option(name: .shortAndLong, help: "Output model file (safetensors).")
    var output: String

    @Flag(help: "Store only the decoder in --output; the random encoder is redrawn from its seed on load.")
    var decoderOnly = false

    @OptionGroup(title: "Fast style transfer") var fastStyle: FastStyleCLIOptions
    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        var config = try model.config(cut: cut, decoder: .trained)
        // Fast style wants a centred model (FastStyleOptions.centredInput).
        config.normalizeInput = pretrained != nil || (fastStyle.style != nil && FastStyleOptions.centredInput)
        let m = try Model(config: config)
        if let p = pretrained { try m.loadTorchvisionEncoder(path: p) }

        var o = TrainOptions()
        dataOptions.apply(to: &o)
        o.steps = steps; o.batchSize = batch; o.flip = !noFlip
        guard let opt = OptimizerKind(rawValue: optimizer) else { throw ValidationError("--optimizer must be adam or sgd") }
        if let old = lrAlias, learningRate != Train.defaults.learningRate, old != learningRate {
            throw ValidationError("--learning-rate \(learningRate) and its old name --lr \(old) disagree; pass one")
        }
        o.optimizer = opt; o.learningRate = lrAlias ?? learningRate; o.momentum = momentum; o.weightDecay = weightDecay
        o.beta1 = beta1; o.beta2 = beta2; o.epsilon = epsilon
        o.evalEvery = evalEvery
        o.checkpointPath = checkpoint; o.checkpointEvery = checkpointEvery; o.resume = resume

        signal(SIGINT) { _ in interrupted = 1 }
        defer { signal(SIGINT, SIG_DFL) }
        let line = ProgressLine()
        let style = try fastStyle.options(cut: cut)
        let onProgress: (TrainProgress) -> TrainControl = { p in
            switch p.kind {
            case .warning: line.finish(); printError("warning: \(p.message)")
            case .evaluation: line.finish(); print(evalLine(p))
            case .step: line.show(stepLine(p))
            }
            return interrupted != 0 ? .cancel : .proceed
        }
        let result = try style.map { try m.train(style: $0, options: o, progress: onProgress) }
            ?? m.train(options: o, progress: onProgress)
        line.finish()
        try m.save(path: output, includeEncoder: !decoderOnly)
        let e = result.eval
        print("trained \(result.stepsDone) steps in \(fixed(result.seconds, 1)) s on \(result.trainImages) images; held-out (\(result.evalImages)) "
              + "MSE \(fixed(e?.mse ?? .nan, 5))  PSNR \(fixed(e?.psnr ?? .nan, 2)) dB  SSIM \(fixed(e?.ssim ?? .nan, 4)) -> \(output)")
    }
}

/// `rwcnn train --style`: the fast-style loss's settings (nil without --style).
struct FastStyleCLIOptions: ParsableArguments {
    @Option(help: "Style PNG or JPEG image: train the decoder for fast style transfer.")
    var style: String?

    @Option(help: "Resize the style image's short side to this and centre-crop a square (0 keeps it).")
    var styleSize = 0

    @Option(help: "Content layer (default: the cut).")
    var contentLayer: String?

    @Option(help: "Content weight.")
    var contentWeight = FastStyleOptions.defaults.contentWeight

    @Option(help: "Comma-separated style layers, at or before the cut (e.g. conv1_1,pool1,pool2).")
    var styleLayers: String?

    @Option(help: "Comma-separated style weights, one per layer (default 1 each).")
    var styleWeights: String?

    @Option(help: "beta-TV prior weight on the output (0: off).")
    var tvWeight = FastStyleOptions.defaults.tvWeight

    @Option(help: "At the start (not on --resume), multiply the decoder's image layer by this and set its bias to the ImageNet mean colour; 1 leaves it.")
    var outputLayerScale = FastStyleOptions.defaults.outputLayerScale

    func options(cut: String) throws -> FastStyleOptions? {
        guard let style else {
            guard contentLayer == nil, styleLayers == nil, styleWeights == nil else {
                throw ValidationError("--content-layer, --style-layers and --style-weights go with --style")
            }
            return nil
        }
        guard let styleLayers else { throw ValidationError("--style needs --style-layers (e.g. conv1_1,pool1)") }
        var o = FastStyleOptions(style: try loadInput(style, size: styleSize), contentLayer: contentLayer ?? cut,
                                 styleLayers: splitLayers(styleLayers))
        o.contentWeight = contentWeight
        o.styleWeights = try splitWeights(styleWeights, option: "--style-weights")
        o.tvWeight = tvWeight
        o.outputLayerScale = outputLayerScale
        return o
    }
}

func stepLine(_ p: TrainProgress) -> String {
    var s = "step \(p.step)/\(p.steps)  loss \(fixed(p.loss, 5))"
    if let e = p.eval { s += "  PSNR \(fixed(e.psnr, 2)) dB" }
    s += "  \(fixed(p.imagesPerSecond, 1)) img/s  ETA \(duration(p.etaSeconds))"
    return s
}

func evalLine(_ p: TrainProgress) -> String {
    guard let e = p.eval else { return "" }
    return "eval at step \(p.step): MSE \(fixed(e.mse, 5))  PSNR \(fixed(e.psnr, 2)) dB  SSIM \(fixed(e.ssim, 4))"
}

func duration(_ s: Double) -> String {
    guard s.isFinite else { return "?" }
    let t = Int(s.rounded())
    return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
}

func printError(_ s: String) {
    fputs(s + "\n", stderr)
}

/// One status line rewritten in place on a terminal; on a pipe, a line every
/// few seconds so logs stay short.
final class ProgressLine {
    private let tty = isatty(STDOUT_FILENO) != 0
    private var open = false
    private var lastPrint = 0.0

    func show(_ s: String) {
        if tty {
            print("\r\u{1B}[K" + s, terminator: "")
            fflush(stdout)
            open = true
        } else if monotonicSeconds() - lastPrint >= 5 {
            print(s)
            lastPrint = monotonicSeconds()
        }
    }

    func finish() {
        if open { print(""); open = false }
    }
}
