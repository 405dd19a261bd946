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

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        var config = try model.config(cut: cut, decoder: .trained)
        config.normalizeInput = pretrained != nil
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
        o.evalEvery = evalEvery
        o.checkpointPath = checkpoint; o.checkpointEvery = checkpointEvery; o.resume = resume

        signal(SIGINT) { _ in interrupted = 1 }
        defer { signal(SIGINT, SIG_DFL) }
        let line = ProgressLine()
        let result = try m.train(options: o) { p in
            switch p.kind {
            case .warning: line.finish(); printError("warning: \(p.message)")
            case .evaluation: line.finish(); print(evalLine(p))
            case .step: line.show(stepLine(p))
            }
            return interrupted != 0 ? .cancel : .proceed
        }
        line.finish()
        try m.save(path: output, includeEncoder: !decoderOnly)
        let e = result.eval
        print("trained \(result.stepsDone) steps in \(fixed(result.seconds, 1)) s on \(result.trainImages) images; held-out (\(result.evalImages)) "
              + "MSE \(fixed(e?.mse ?? .nan, 5))  PSNR \(fixed(e?.psnr ?? .nan, 2)) dB  SSIM \(fixed(e?.ssim ?? .nan, 4)) -> \(output)")
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
