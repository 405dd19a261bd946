/// Training checkpoints are model files (so `Model.load` opens them) with
/// the optimiser state as extra tensors `optimizer.first.<param>` and
/// `optimizer.second.<param>`, and these metadata fields:
/// `checkpoint_step` (steps done = data-order position / batch size),
/// `checkpoint_samples` (samples drawn), `optimizer`, `optimizer_updates`.
enum Checkpoint {
    static func write(model: Model, optimizer: Optimizer, step: Int, samples: Int, record: RunRecord,
                      path: String) throws {
        var extra: [(name: String, tensor: Tensor)] = []
        let layout = model.parameterBlock.layout, state = optimizer.state
        let slots = layout.decoderSlots.sorted { $0.name < $1.name }
        for (part, moments) in [("first", state.first), ("second", state.second)] {
            for slot in slots {
                guard let t = OptimizerState.moment(moments, of: slot, in: layout) else { break }
                extra.append((name: "optimizer.\(part).\(slot.name)", tensor: t))
            }
        }
        let meta = ["checkpoint_step": "\(step)", "checkpoint_samples": "\(samples)",
                    "optimizer": optimizer.kind.rawValue, "optimizer_updates": "\(optimizer.state.updates)"]
            .merging(record.metadata) { a, _ in a }
        try model.fileContents(extraMetadata: meta, extraTensors: extra).write(path: path)
    }

    /// Restores weights and optimiser state into `model` and `optimizer`;
    /// returns (steps done, samples drawn). Nothing in the file is trusted
    /// before it is checked: the counters are bounded (the step by this
    /// run's `steps`, the updates by the step, the samples by the step and
    /// the largest batch) and must be integers; the optimiser state must be
    /// complete for every decoder parameter once updates were made, finite,
    /// and (Adam's second moments) non-negative. All of these are `.format`.
    static func restore(path: String, model: Model, optimizer: inout Optimizer,
                        steps: Int, batchSize: Int, record: RunRecord) throws -> (step: Int, samples: Int) {
        let file = try SafetensorsFile.read(path: path)
        let saved = try Model.config(fromMetadata: file.metadata, source: path)
        var mine = model.config
        mine.decoder = saved.decoder
        guard saved == mine else {
            throw RWCNNError.argument("checkpoint \(path) was made for a different model (\(saved.arch) cut \(saved.cut) seed \(saved.seed)); resume with the same model settings")
        }
        try record.check(against: file.metadata, path: path)
        func counter(_ key: String, max: Int, _ bound: String) throws -> Int {
            guard let s = file.metadata[key] else {
                throw RWCNNError.format("\(path): not a training checkpoint (metadata \(key) is missing)")
            }
            guard let v = Int(s), v >= 0, v <= max else {
                throw RWCNNError.format("\(path): metadata \(key) is \"\(s)\", not an integer in 0...\(max) (\(bound))")
            }
            return v
        }
        let step = try counter("checkpoint_step", max: steps, "at most this run's \(steps) steps")
        let samples = try counter("checkpoint_samples", max: try sampleNumber(step: step, batchSize: TrainOptions.maxBatchSize),
                                  "at most \(step) steps of the largest batch")
        let updates = try counter("optimizer_updates", max: step, "one update per step, \(step) steps done")
        guard file.metadata["optimizer"] == optimizer.kind.rawValue else {
            throw RWCNNError.argument("checkpoint \(path) used optimizer \(file.metadata["optimizer"] ?? "?"), this run \(optimizer.kind.rawValue)")
        }
        let loaded = try Model(file: file, source: path)
        var state = OptimizerState()
        state.updates = updates
        let parts = optimizer.kind == .adam ? ["first", "second"] : ["first"]
        if optimizer.kind == .sgd, let extra = file.tensors.first(where: { $0.name.hasPrefix("optimizer.second.") }) {
            throw RWCNNError.format("\(path): tensor \(extra.name) is Adam state, but the checkpoint's optimizer is sgd")
        }
        let layout = model.parameterBlock.layout
        for slot in layout.decoderSlots {
            for part in parts {
                let key = "optimizer.\(part).\(slot.name)"
                guard let t = file.tensor(named: key) else {
                    // State is made on the first update; before it there is none.
                    guard updates == 0 else {
                        throw RWCNNError.format("\(path): tensor \(key) is missing: the optimiser state of a checkpoint after \(updates) update(s) must be complete to resume")
                    }
                    continue
                }
                if part == "second", let bad = t.data.firstIndex(where: { $0 < 0 }) {
                    throw RWCNNError.format("\(path): tensor \(key) holds a negative second moment (\(t.data[bad]) at index \(bad))")
                }
                guard t.shape == slot.shape else {
                    throw RWCNNError.format("\(path): tensor \(key) has shape \(t.shape), its parameter \(slot.shape)")
                }
                // State is made whole on the first tensor: moments a
                // checkpoint before any update leaves out are zeros, as the
                // first update would make them.
                func store(into moments: inout [Float]) {
                    if moments.isEmpty { moments = [Float](repeating: 0, count: layout.decoderRange.count) }
                    let start = layout.decoderOffset(slot)
                    moments.replaceSubrange(start..<(start + slot.count), with: t.data)
                }
                if part == "first" { store(into: &state.first) } else { store(into: &state.second) }
            }
        }
        // An encoder both sides draw from the same seed (the configs are
        // equal) is the same draw: keep it, and with it `encoderIsSeeded`,
        // so that a resumed run can still save a decoder-only file.
        let seeded = loaded.encoderIsSeeded && model.encoderIsSeeded
        try model.setParameters(seeded ? loaded.parameters.filter { $0.key.hasPrefix("decoder.") } : loaded.parameters)
        optimizer.state = state
        return (step, samples)
    }
}

/// The data-order position after `step` steps of `batchSize` samples;
/// `.argument` if it overflows (the options' bounds keep it far below).
func sampleNumber(step: Int, batchSize: Int) throws -> Int {
    let (n, o) = step.multipliedReportingOverflow(by: batchSize)
    guard !o, step >= 0, batchSize >= 0 else {
        throw RWCNNError.argument("step \(step) x batch \(batchSize) overflows")
    }
    return n
}
