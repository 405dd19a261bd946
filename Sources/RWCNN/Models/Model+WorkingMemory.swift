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
        guard need <= context.memoryBudget else {
            throw RWCNNError.outOfMemory("\(batch) image(s) of \(height)x\(width) need about \(MemoryBudget.describe(need)) of working memory (\(job.rawValue)), over the memory limit of \(MemoryBudget.describe(context.memoryBudget)); use smaller or fewer images, or raise it with rwcnn_set_memory_limit")
        }
    }
}
