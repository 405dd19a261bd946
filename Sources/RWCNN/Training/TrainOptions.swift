/// Settings of one decoder training run. The same options, model and files
/// give the same run (bit for bit with one thread).
public struct TrainOptions: Equatable, Sendable {
    /// Folder of PNG and JPEG files (*.png, *.jpg, *.jpeg), searched recursively (gray and RGBA become RGB).
    public var dataFolder: String = ""
    /// Held-out folder; if nil, a seeded split by file of `dataFolder`.
    public var evalFolder: String? = nil
    /// Share of the files held out when there is no `evalFolder`.
    public var evalFraction: Double = 0.2
    public var steps: Int = 1000
    public var batchSize: Int = 8
    /// Side of the square training crops (and of the fixed evaluation crops).
    public var crop: Int = 64
    /// If > 0, images are first resized so their shorter side has this length.
    public var shortSide: Int = 0
    /// Use whole images resized to crop x crop instead of random crops.
    public var resizeWhole: Bool = false
    /// Random horizontal flips of training samples.
    public var flip: Bool = true
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Double = 1e-3
    /// SGD momentum.
    public var momentum: Double = 0.9
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-8
    public var weightDecay: Double = 0
    /// Seeds the split, the data order, the crops and the flips (C and
    /// Python: data_seed; the model's weights have `ModelConfig.seed`).
    public var dataSeed: UInt64 = 0
    /// Old name of `dataSeed`.
    @available(*, deprecated, renamed: "dataSeed")
    public var seed: UInt64 {
        get { dataSeed }
        set { dataSeed = newValue }
    }
    /// Evaluate on the held-out crops every this many steps (0: at the end only).
    public var evalEvery: Int = 100
    /// Checkpoint file (safetensors, written atomically); nil for none.
    public var checkpointPath: String? = nil
    /// Write the checkpoint every this many steps (0: at the end only).
    public var checkpointEvery: Int = 100
    /// Continue from `checkpointPath` (which must exist).
    public var resume: Bool = false

    public init() {}

    /// The largest batch accepted.
    public static let maxBatchSize = 4096

    /// Throws a clear error for any setting out of range.
    /// `folder`: the run reads `dataFolder` (false for `TrainingData` from memory).
    func validate(folder: Bool = true) throws {
        func bad(_ m: String) -> RWCNNError { .argument(m) }
        if folder {
            guard !dataFolder.isEmpty else { throw bad("training needs a data folder") }
        } else {
            guard dataFolder.isEmpty, evalFolder == nil else {
                throw bad("the options name a data folder (\(dataFolder.isEmpty ? evalFolder ?? "" : dataFolder)) and the run has its own training data; give one source")
            }
        }
        guard steps >= 0, steps <= 100_000_000 else { throw bad("steps must be in 0...100000000, got \(steps)") }
        guard batchSize >= 1, batchSize <= TrainOptions.maxBatchSize else { throw bad("batch size must be in 1...\(TrainOptions.maxBatchSize), got \(batchSize)") }
        guard crop >= 11, crop <= 4096 else { throw bad("crop must be in 11...4096 pixels (SSIM needs 11), got \(crop)") }
        guard shortSide >= 0, shortSide <= 16384 else { throw bad("short side must be in 0...16384, got \(shortSide)") }
        guard shortSide == 0 || shortSide >= crop else { throw bad("short side \(shortSide) is smaller than the crop \(crop)") }
        guard evalFraction > 0, evalFraction < 1 else { throw bad("eval fraction must be in (0, 1), got \(evalFraction)") }
        guard learningRate.isFinite, learningRate > 0 else { throw bad("learning rate must be positive, got \(learningRate)") }
        guard momentum.isFinite, momentum >= 0, momentum < 1 else { throw bad("momentum must be in [0, 1), got \(momentum)") }
        guard beta1 >= 0, beta1 < 1, beta2 >= 0, beta2 < 1 else { throw bad("Adam betas must be in [0, 1)") }
        guard epsilon.isFinite, epsilon > 0 else { throw bad("epsilon must be positive") }
        guard weightDecay.isFinite, weightDecay >= 0 else { throw bad("weight decay must be >= 0") }
        guard evalEvery >= 0, checkpointEvery >= 0 else { throw bad("evalEvery and checkpointEvery must be >= 0") }
        guard !resume || checkpointPath != nil else { throw bad("resume needs a checkpoint path") }
        // One batch of crops, and its gradient-sized twin, before any is made.
        try MemoryBudget.check(count: batchSize * 3 * crop * crop, size: 2 * MemoryLayout<Float>.stride,
                               what: "a training batch of \(batchSize) crops of \(crop)x\(crop)")
    }
}

/// What a progress callback is told.
public struct TrainProgress: Sendable {
    public enum Kind: Int, Sendable { case step = 0, evaluation = 1, warning = 2 }
    public var kind: Kind
    /// Steps completed so far, and the run's total.
    public var step: Int
    public var steps: Int
    /// Training loss of the last step: the MSE, or for fast style
    /// (`train(style:options:)`) the total fast-style loss.
    public var loss: Double = .nan
    public var learningRate: Double = .nan
    public var imagesPerSecond: Double = .nan
    public var etaSeconds: Double = .nan
    /// Held-out metrics (evaluation events, and the latest ones on later steps).
    public var eval: EvalMetrics? = nil
    /// For warnings: what happened (e.g. a file skipped).
    public var message: String = ""
}

/// The callback's answer.
public enum TrainControl: Sendable { case proceed, cancel }

/// Held-out reconstruction quality: means over the evaluation crops of the
/// per-image MSE, PSNR (dB, peak 1) and SSIM, on outputs clamped to [0, 1].
public struct EvalMetrics: Equatable, Sendable {
    public var mse: Double
    public var psnr: Double
    public var ssim: Double
    public var images: Int
}

/// The outcome of a run.
public struct TrainResult: Sendable {
    public var stepsDone: Int
    public var finalLoss: Double
    public var eval: EvalMetrics?
    public var seconds: Double
    public var trainImages: Int
    public var evalImages: Int
    public var skipped: [(path: String, reason: String)]
    /// The loss of every step this call ran (a resumed run: the steps after
    /// its checkpoint), in order.
    public var losses: [Double] = []
}
