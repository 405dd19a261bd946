/// Training checkpoints are model files (so `Model.load` opens them) with
/// the optimiser state as extra tensors `optimizer.first.<param>` and
/// `optimizer.second.<param>`, and these metadata fields:
/// `checkpoint_step` (steps done = data-order position / batch size),
/// `checkpoint_samples` (samples drawn), `optimizer`, `optimizer_updates`.
enum Checkpoint {
    static func write(model: Model, optimizer: Optimizer, step: Int, samples: Int, path: String) throws {
        var extra: [(name: String, tensor: Tensor)] = []
        for name in optimizer.state.first.keys.sorted() {
            extra.append((name: "optimizer.first.\(name)", tensor: optimizer.state.first[name]!))
        }
        for name in optimizer.state.second.keys.sorted() {
            extra.append((name: "optimizer.second.\(name)", tensor: optimizer.state.second[name]!))
        }
        let meta = ["checkpoint_step": "\(step)", "checkpoint_samples": "\(samples)",
                    "optimizer": optimizer.kind.rawValue, "optimizer_updates": "\(optimizer.state.updates)"]
        try model.fileContents(extraMetadata: meta, extraTensors: extra).write(path: path)
    }

    /// Restores weights and optimiser state into `model` and `optimizer`;
    /// returns (steps done, samples drawn).
    static func restore(path: String, model: Model, optimizer: inout Optimizer) throws -> (step: Int, samples: Int) {
        let file = try SafetensorsFile.read(path: path)
        let saved = try Model.config(fromMetadata: file.metadata, source: path)
        var mine = model.config
        mine.decoder = saved.decoder
        guard saved == mine else {
            throw RWCNNError.argument("checkpoint \(path) was made for a different model (\(saved.arch) cut \(saved.cut) seed \(saved.seed)); resume with the same model settings")
        }
        guard let s = file.metadata["checkpoint_step"], let step = Int(s), step >= 0,
              let n = file.metadata["checkpoint_samples"], let samples = Int(n), samples >= 0,
              let u = file.metadata["optimizer_updates"], let updates = Int(u), updates >= 0 else {
            throw RWCNNError.format("\(path): not a training checkpoint (checkpoint_step, checkpoint_samples or optimizer_updates missing or bad)")
        }
        guard file.metadata["optimizer"] == optimizer.kind.rawValue else {
            throw RWCNNError.argument("checkpoint \(path) used optimizer \(file.metadata["optimizer"] ?? "?"), this run \(optimizer.kind.rawValue)")
        }
        let loaded = try Model(file: file, source: path)
        var state = OptimizerState()
        state.updates = updates
        for name in loaded.parameterNames where name.hasPrefix("decoder.") {
            let shape = loaded.parameters[name]!.shape
            for (part, store) in [("first", 0), ("second", 1)] {
                guard let t = file.tensor(named: "optimizer.\(part).\(name)") else { continue }
                guard t.shape == shape else {
                    throw RWCNNError.format("\(path): optimizer.\(part).\(name) has shape \(t.shape), expected \(shape)")
                }
                if store == 0 { state.first[name] = t } else { state.second[name] = t }
            }
        }
        try model.setParameters(loaded.parameters)
        optimizer.state = state
        return (step, samples)
    }
}
