extension Model {
    /// Trains the decoder to reconstruct its input from the features at the
    /// cut (MSE); the encoder stays fixed. Starts from the decoder's current
    /// weights (a `.trained` model starts from its He-normal draw) and leaves
    /// the trained weights in the model, whose decoder mode becomes `.trained`.
    ///
    /// ```swift
    /// var options = TrainOptions()
    /// options.dataFolder = "photos"; options.steps = 500; options.crop = 64
    /// let result = try model.train(options: options) { p in
    ///     if p.kind == .step { print(p.step, p.loss) }
    ///     return .proceed
    /// }
    /// try model.save(path: "decoder.safetensors")
    /// ```
    ///
    /// `progress` is called on the calling thread after every step, after
    /// every evaluation and for every skipped file; returning `.cancel`
    /// stops the run: the checkpoint (if any) is written for the last
    /// completed step and `RWCNNError.cancelled` is thrown.
    /// Needs exclusive use of the model.
    @discardableResult
    public func train(options: TrainOptions,
                      progress: ((TrainProgress) -> TrainControl)? = nil) throws -> TrainResult {
        try options.validate()
        return try train(data: .folder(options.dataFolder, eval: options.evalFolder), checkedOptions: options,
                         style: nil, progress: progress)
    }

    /// As `train(options:progress:)`, on the samples of `data` (a folder,
    /// images in memory or a batch callback; see `TrainingData`); the
    /// options' `dataFolder` and `evalFolder` must then be unset. A
    /// checkpoint records the source, and a resume from another one (or
    /// with other sampling or optimiser options) is refused naming it.
    @discardableResult
    public func train(data: TrainingData, options: TrainOptions,
                      progress: ((TrainProgress) -> TrainControl)? = nil) throws -> TrainResult {
        try options.validate(folder: false)
        return try train(data: data, checkedOptions: options, style: nil, progress: progress)
    }

    /// Fast style transfer (`FastStyleOptions`, Training/FastStyle.swift):
    /// trains the decoder, on the same trainer, data, checkpoints and
    /// progress as `train(options:progress:)`, so that
    /// `reconstruct(photo)` keeps the photo's content at
    /// `style.contentLayer` and carries the style image's Gram statistics at
    /// `style.styleLayers`. The progress and result losses are the total
    /// fast-style loss; the held-out metrics compare the output with its
    /// input photo (how much content is kept). A checkpoint records the
    /// style settings, and a resume with other ones is refused naming them.
    ///
    /// ```swift
    /// let model = try Model(config: ModelConfig(arch: "vgg16-avg", cut: "pool2", decoder: .trained))
    /// let painting = try loadImageTensor(path: "data/images/gravel.png")
    /// var o = TrainOptions()
    /// o.dataFolder = "photos"; o.steps = 300; o.crop = 64
    /// try model.train(style: FastStyleOptions(style: painting, contentLayer: "conv2_2",
    ///                                         styleLayers: ["conv1_1", "pool1", "pool2"]), options: o)
    /// let stylised = try model.reconstruct(photo)
    /// ```
    @discardableResult
    public func train(style: FastStyleOptions, options: TrainOptions,
                      progress: ((TrainProgress) -> TrainControl)? = nil) throws -> TrainResult {
        try options.validate()
        let objective = try fastStyleObjective(style)
        return try train(data: .folder(options.dataFolder, eval: options.evalFolder), checkedOptions: options,
                         style: objective, progress: progress)
    }

    /// `train(style:options:progress:)` on the samples of `data` (see
    /// `train(data:options:progress:)`).
    @discardableResult
    public func train(style: FastStyleOptions, data: TrainingData, options: TrainOptions,
                      progress: ((TrainProgress) -> TrainControl)? = nil) throws -> TrainResult {
        try options.validate(folder: false)
        let objective = try fastStyleObjective(style)
        return try train(data: data, checkedOptions: options, style: objective, progress: progress)
    }

    private func train(data source: TrainingData, checkedOptions options: TrainOptions, style: FastStyleObjective?,
                       progress: ((TrainProgress) -> TrainControl)?) throws -> TrainResult {
        guard config.decoder != .tied else {
            throw RWCNNError.argument("a tied decoder shares the encoder's weights and cannot be trained; create the model with decoder 'trained' (or 'random')")
        }
        // The step's activations, gradients and optimiser state, before any file is read.
        try checkWorkingMemory(.trainStep, batch: options.batchSize, height: options.crop, width: options.crop,
                               optimizer: options.optimizer, context: context)
        let report = progress ?? { _ in .proceed }
        let started = monotonicSeconds()

        // Data: the source made ready (files loaded, images checked, held-out crops cut).
        var data = try PreparedData(source, options: options) { path, reason in
            let p = TrainProgress(kind: .warning, step: 0, steps: options.steps, message: "skipped \(path): \(reason)")
            if report(p) == .cancel { throw RWCNNError.cancelled("training cancelled before the first step") }
        }
        let skipped = data.skipped
        let evalCrops = data.evalCrops
        // The evaluation's reconstruct plans stay beside the step's: both in the budget.
        try checkTrainingRunMemory(batch: options.batchSize, crop: options.crop, evalImages: evalCrops.shape[0],
                                   optimizer: options.optimizer, style: style, context: context)
        var record = RunRecord(options: options, data: data)
        record.fields += style?.record ?? []

        var optimizer = Optimizer(kind: options.optimizer, learningRate: options.learningRate,
                                  momentum: options.momentum, beta1: options.beta1, beta2: options.beta2,
                                  epsilon: options.epsilon, weightDecay: options.weightDecay)
        var step = 0
        var resumed = false
        if options.resume, let path = options.checkpointPath {
            step = try Checkpoint.restore(path: path, model: self, optimizer: &optimizer,
                                          steps: options.steps, batchSize: options.batchSize, record: record).step
            resumed = true
        }
        if let style, !resumed { try startFastStyleDecoder(scale: style.outputLayerScale) }
        config.decoder = .trained
        let firstStep = step
        var loss = Double.nan
        var losses: [Double] = []
        losses.reserveCapacity(options.steps - step)
        var lastEval: EvalMetrics? = nil

        func saveCheckpoint() throws {
            if let path = options.checkpointPath {
                try Checkpoint.write(model: self, optimizer: optimizer, step: step,
                                     samples: sampleNumber(step: step, batchSize: options.batchSize), record: record, path: path)
            }
        }
        func evaluateNow() throws -> TrainControl {
            lastEval = try evaluate(evalCrops, batchSize: options.batchSize)
            return report(TrainProgress(kind: .evaluation, step: step, steps: options.steps, loss: loss,
                                        learningRate: options.learningRate, eval: lastEval))
        }
        func cancelled() throws -> Never {
            try saveCheckpoint()
            throw RWCNNError.cancelled("training cancelled after step \(step)" +
                                       (options.checkpointPath.map { "; checkpoint saved to \($0)" } ?? ""))
        }

        while step < options.steps {
            let batch: Tensor
            do {
                batch = try data.batch(step: step, options: options)
            } catch {
                try saveCheckpoint()  // a failing batch source loses nothing already trained
                throw error
            }
            // The step's plan: every activation and gradient buffer is reused from the previous step.
            loss = try plans.with(planKey(.trainStep, batch)) { ws in
                let (loss, grads) = try style.map { try fastStyleLossAndGradients(batch, objective: $0, workspace: ws) }
                    .map { ($0.loss, $0.gradients) } ?? lossAndGradients(batch, workspace: ws)
                guard loss.isFinite else {
                    throw RWCNNError.argument("training diverged at step \(step + 1) (loss \(loss)); lower the learning rate")
                }
                try optimizer.step(parameterBlock, gradients: grads, threads: context.threads)
                for g in grads.values { ws.recycle(g) }
                return loss
            }
            step += 1
            losses.append(loss)

            let elapsed = monotonicSeconds() - started
            let rate = Double((step - firstStep) * options.batchSize) / max(elapsed, 1e-9)
            let eta = elapsed / Double(step - firstStep) * Double(options.steps - step)
            let p = TrainProgress(kind: .step, step: step, steps: options.steps, loss: loss,
                                  learningRate: options.learningRate, imagesPerSecond: rate,
                                  etaSeconds: eta, eval: lastEval)
            if report(p) == .cancel { try cancelled() }
            if options.checkpointEvery > 0 && step % options.checkpointEvery == 0 && step < options.steps {
                try saveCheckpoint()
            }
            if options.evalEvery > 0 && step % options.evalEvery == 0 && step < options.steps {
                if try evaluateNow() == .cancel { try cancelled() }
            }
        }
        try saveCheckpoint()
        if try evaluateNow() == .cancel { try cancelled() }
        return TrainResult(stepsDone: step, finalLoss: loss, eval: lastEval,
                           seconds: monotonicSeconds() - started, trainImages: data.trainImages,
                           evalImages: evalCrops.shape[0], skipped: skipped, losses: losses)
    }
}
