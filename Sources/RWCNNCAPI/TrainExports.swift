import CRWCNN
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

// rwcnn_train: options struct -> TrainOptions, progress events -> the C
// callback, result -> rwcnn_train_result.

@_cdecl("rwcnn_train_options_init")
public func rwcnn_train_options_init(_ o: UnsafeMutablePointer<rwcnn_train_options>?) {
    guard let o else { return }
    try? initPrefix(trainOptionsDefaults(), to: o, size: FrozenSize.trainOptions, what: "options")
}

/// The core's defaults (TrainOptions()) as the C struct.
func trainOptionsDefaults() -> rwcnn_train_options {
    let d = TrainOptions()
    var v = rwcnn_train_options()
    v.struct_size = MemoryLayout<rwcnn_train_options>.size
    v.eval_fraction = d.evalFraction
    v.steps = d.steps
    v.batch = d.batchSize
    v.crop = d.crop
    v.short_side = d.shortSide
    v.resize_whole = d.resizeWhole ? 1 : 0
    v.flip = d.flip ? 1 : 0
    v.optimizer = rwcnn_optimizer(rawValue: cNumber(.optimizer, d.optimizer.rawValue))
    v.learning_rate = d.learningRate
    v.momentum = d.momentum
    v.beta1 = d.beta1; v.beta2 = d.beta2; v.epsilon = d.epsilon
    v.weight_decay = d.weightDecay
    v.data_seed = d.dataSeed
    v.eval_every = d.evalEvery
    v.checkpoint_every = d.checkpointEvery
    v.resume = d.resume ? 1 : 0
    return v
}

func trainOptions(_ p: UnsafePointer<rwcnn_train_options>?) throws -> TrainOptions {
    let p = try required(p, "options")
    var v = trainOptionsDefaults()
    try readPrefix(p, into: &v, what: "options")
    var o = TrainOptions()
    if v.images == nil && v.batch_fn == nil {  // else training from memory (TrainDataExports.swift)
        o.dataFolder = try string(v.data_dir, "options.data_dir")
        o.evalFolder = v.eval_dir.map { String(cString: $0) }
    }
    o.evalFraction = v.eval_fraction
    o.steps = v.steps; o.batchSize = v.batch; o.crop = v.crop; o.shortSide = v.short_side
    o.resizeWhole = v.resize_whole != 0
    o.flip = v.flip != 0
    o.optimizer = try Vocabulary.optimizer.decode(Int(v.optimizer.rawValue), as: OptimizerKind.self, field: "options.optimizer")
    o.learningRate = v.learning_rate; o.momentum = v.momentum
    o.beta1 = v.beta1; o.beta2 = v.beta2; o.epsilon = v.epsilon
    o.weightDecay = v.weight_decay
    o.dataSeed = v.data_seed
    o.evalEvery = v.eval_every
    o.checkpointPath = v.checkpoint.map { String(cString: $0) }
    o.checkpointEvery = v.checkpoint_every
    o.resume = v.resume != 0
    return o
}

@_cdecl("rwcnn_train")
public func rwcnn_train(_ p: OpaquePointer?, _ options: UnsafePointer<rwcnn_train_options>?,
                        _ result: UnsafeMutablePointer<rwcnn_train_result>?) -> Int32 {
    capi { try runTraining(p, options, result, style: nil) }
}

/// rwcnn_train and rwcnn_train_fast_style: the options and data as the core
/// takes them, the C progress callback wired in, the result written. With
/// `style`, the loss curve goes to its `losses` array.
func runTraining(_ p: OpaquePointer?, _ options: UnsafePointer<rwcnn_train_options>?,
                 _ result: UnsafeMutablePointer<rwcnn_train_result>?,
                 style: (options: FastStyleOptions, losses: UnsafeMutablePointer<Double>?, capacity: Int)?) throws {
    let model = try handle(p).model
    let o = try trainOptions(options)
    if let result { _ = try structSize(UnsafeRawPointer(result), what: "result") }
    var prefix = trainOptionsDefaults()
    try readPrefix(options!, into: &prefix, what: "options")
    let callback = prefix.progress
    let user = prefix.user
    let report: (TrainProgress) -> TrainControl = { event in
        guard let callback else { return .proceed }
        return withProgress(event) { callback($0, user) } != 0 ? .cancel : .proceed
    }
    let data = try trainingData(prefix)
    let r: TrainResult
    if let style {
        r = try data.map { try model.train(style: style.options, data: $0, options: o, progress: report) }
            ?? model.train(style: style.options, options: o, progress: report)
    } else {
        r = try data.map { try model.train(data: $0, options: o, progress: report) }
            ?? model.train(options: o, progress: report)
    }
    let written = min(style?.capacity ?? 0, r.losses.count)
    if let losses = style?.losses, written > 0 {
        r.losses.withUnsafeBufferPointer { losses.update(from: $0.baseAddress!, count: written) }
    }
    guard let result else { return }
    var v = rwcnn_train_result()
    v.struct_size = MemoryLayout<rwcnn_train_result>.size
    v.steps_done = r.stepsDone
    v.final_loss = r.finalLoss
    if let e = r.eval { v.has_eval = 1; v.eval_mse = e.mse; v.eval_psnr = e.psnr; v.eval_ssim = e.ssim }
    v.seconds = r.seconds
    v.train_images = r.trainImages; v.eval_images = r.evalImages; v.skipped_files = r.skipped.count
    v.losses_written = written
    try writePrefix(v, to: result, what: "result")
}

/// Calls `body` with a C view of one progress event (message valid for the call).
private func withProgress(_ e: TrainProgress, _ body: (UnsafePointer<rwcnn_progress>) -> Int32) -> Int32 {
    e.message.withCString { message in
        var v = rwcnn_progress()
        v.struct_size = MemoryLayout<rwcnn_progress>.size
        v.kind = [TrainProgress.Kind.step: RWCNN_PROGRESS_STEP, .evaluation: RWCNN_PROGRESS_EVAL,
                  .warning: RWCNN_PROGRESS_WARNING][e.kind]!
        v.step = e.step; v.steps = e.steps
        v.loss = e.loss; v.learning_rate = e.learningRate
        v.images_per_second = e.imagesPerSecond; v.eta_seconds = e.etaSeconds
        if let m = e.eval { v.has_eval = 1; v.eval_mse = m.mse; v.eval_psnr = m.psnr; v.eval_ssim = m.ssim }
        v.message = message
        return withUnsafePointer(to: &v) { body($0) }
    }
}
