extension Model {
    /// Peak bytes that `job` would add to the process now, for `batch`
    /// images of `height` x `width` (`WorkingMemory.estimate` for this
    /// model's architecture, cut, decoder and context, counting only the
    /// transformed weights its cache does not hold yet). Throws `.argument`
    /// for sizes the network cannot take.
    public func workingMemoryEstimate(_ job: MemoryJob, batch: Int, height: Int, width: Int,
                                      optimizer: OptimizerKind = .adam) throws -> Int {
        try workingMemoryEstimate(job, batch: batch, height: height, width: width, optimizer: optimizer,
                                  context: context)
    }

    /// `through`: the last encoder layer the job runs (default: the cut).
    func workingMemoryEstimate(_ job: MemoryJob, batch: Int, height: Int, width: Int, optimizer: OptimizerKind,
                               through last: Int? = nil, context: ExecutionContext) throws -> Int {
        let settings = WorkingMemorySettings(decoder: config.decoder, normalizeInput: config.normalizeInput,
                                             optimizer: optimizer, context: context)
        var walk = try PassWalk(architecture: architecture, cutIndex: min(last ?? cutIndex, cutIndex), batch: batch, height: height,
                                width: width, settings: settings, cache: transforms.state)
        walk.run(job)
        return walk.timeline.peakBytes
    }

    /// Checks the input size (clear errors for inputs too small for the
    /// pools) and that `job`'s estimated working memory fits the context's
    /// budget; `.outOfMemory` with both figures otherwise.
    func checkWorkingMemory(_ job: MemoryJob, batch: Int, height: Int, width: Int, optimizer: OptimizerKind = .adam,
                            through last: Int? = nil, context: ExecutionContext) throws {
        let need = try workingMemoryEstimate(job, batch: batch, height: height, width: width, optimizer: optimizer,
                                             through: last, context: context)
        try checkBudget(need, "\(batch) image(s) of \(height)x\(width)", job.rawValue, context: context)
    }

    /// Peak bytes a training run adds to the process: its step's plan
    /// (`batch` crops of `crop` x `crop`, `WorkingMemory` job `trainStep`),
    /// the held-out crops (`evalImages` of them, kept for the run), and the
    /// plans the held-out evaluation fills (`evaluate` reconstructs the
    /// crops in chunks of `batch` and the remainder), which the model keeps
    /// beside the step's. Each training run checks it against the budget
    /// once its data is ready. Throws `.argument` for sizes the network
    /// cannot take.
    public func trainingWorkingMemoryEstimate(batch: Int, crop: Int, evalImages: Int,
                                              optimizer: OptimizerKind = .adam) throws -> Int {
        try trainingRunEstimate(batch: batch, crop: crop, evalImages: evalImages, optimizer: optimizer, context: context)
    }

    /// `trainingWorkingMemoryEstimate` in `context`; each walk starts from
    /// the transforms the ones before it cached. A fast-style run (`style`)
    /// also keeps the plan of its loss network (`synthesisStep` on the
    /// decoder's output, through the deepest loss layer) and, when the
    /// content layer is not the cut, makes an encoder pass to it per step.
    func trainingRunEstimate(batch: Int, crop: Int, evalImages: Int, optimizer: OptimizerKind,
                             style: FastStyleObjective? = nil, context: ExecutionContext) throws -> Int {
        guard evalImages >= 0, evalImages <= 1 << 24 else {
            throw RWCNNError.argument("held-out image count \(evalImages) must be in 0...\(1 << 24)")
        }
        let settings = WorkingMemorySettings(decoder: config.decoder, normalizeInput: config.normalizeInput,
                                             optimizer: optimizer, context: context)
        let crops = Double(evalImages) * Double(architecture.inputChannels) * Double(crop) * Double(crop) * 4
        var cache = transforms.state, total = crops < 0x1p61 ? Int(crops) : 1 << 61
        let chunks = evalImages <= batch ? [evalImages] : [batch] + (evalImages % batch == 0 ? [] : [evalImages % batch])
        var jobs = [(MemoryJob.trainStep, batch, cutIndex)]
            + chunks.filter({ $0 > 0 }).map({ (MemoryJob.reconstruct, $0, cutIndex) })
        if let style {
            jobs.append((.synthesisStep, batch, style.deepest))
            if style.contentLayer != cutIndex { jobs.append((.encode, batch, style.contentLayer)) }
        }
        for (job, n, last) in jobs {
            var walk = try PassWalk(architecture: architecture, cutIndex: last, batch: n, height: crop, width: crop,
                                    settings: settings, cache: cache)
            walk.run(job)
            total = min(total, 1 << 61) + min(walk.timeline.peakBytes, 1 << 61)  // saturated, never wraps
            cache = walk.cache
        }
        return total
    }

    /// `trainingRunEstimate` against the context's budget.
    func checkTrainingRunMemory(batch: Int, crop: Int, evalImages: Int, optimizer: OptimizerKind,
                                style: FastStyleObjective? = nil, context: ExecutionContext) throws {
        let need = try trainingRunEstimate(batch: batch, crop: crop, evalImages: evalImages, optimizer: optimizer,
                                           style: style, context: context)
        try checkBudget(need, "training on \(batch) crop(s) of \(crop)x\(crop) with \(evalImages) held-out crop(s)",
                        style == nil ? "train step and held-out evaluation"
                            : "train step, fast-style loss and held-out evaluation", context: context)
    }

    private func checkBudget(_ need: Int, _ what: String, _ job: String, context: ExecutionContext) throws {
        guard need <= context.memoryBudget else {
            throw RWCNNError.outOfMemory("\(what) need about \(MemoryBudget.describe(need)) of working memory (\(job)), over the memory limit of \(MemoryBudget.describe(context.memoryBudget)); use smaller or fewer images, or raise it with rwcnn_set_memory_limit")
        }
    }
}
