/// What decides a run's samples and updates, written into its checkpoints
/// as metadata `train.<name>` (names as in the C options struct). A resume
/// with any of them changed, the data source included, is refused with a
/// message naming it: the resumed run would not continue the interrupted
/// one. `steps`, `eval_every`, `checkpoint_every` and the checkpoint path
/// may change. A checkpoint written before this record existed (none of the
/// keys) cannot be checked, and its resume is refused (`.format`); its
/// weights still load as a model and can start a new run.
struct RunRecord: Equatable {
    var fields: [(name: String, value: String)]

    /// No fields: for checkpoints written or read outside a training run
    /// (the fuzz seeds); it records nothing and any checkpoint passes it.
    init() { fields = [] }

    init(options o: TrainOptions, data: PreparedData) {
        fields = data.identity.map { (name: $0.key, value: $0.value) } + [
            ("batch", "\(o.batchSize)"), ("crop", "\(o.crop)"), ("short_side", "\(o.shortSide)"),
            ("resize_whole", "\(o.resizeWhole)"), ("flip", "\(o.flip)"), ("optimizer", o.optimizer.rawValue),
            ("learning_rate", "\(o.learningRate)"), ("momentum", "\(o.momentum)"), ("beta1", "\(o.beta1)"),
            ("beta2", "\(o.beta2)"), ("epsilon", "\(o.epsilon)"), ("weight_decay", "\(o.weightDecay)"),
            ("seed", "\(o.dataSeed)"),
        ]
    }

    static func == (a: RunRecord, b: RunRecord) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    var metadata: [String: String] {
        Dictionary(uniqueKeysWithValues: fields.map { ("train.\($0.name)", $0.value) })
    }

    /// Throws `.argument` naming the first field a checkpoint's metadata
    /// records differently, and `.format` for a checkpoint that records
    /// none of them (written before the record existed).
    func check(against metadata: [String: String], path: String) throws {
        guard !fields.isEmpty else { return }
        guard metadata.keys.contains(where: { $0.hasPrefix("train.") }) else {
            throw RWCNNError.format("checkpoint \(path) records no run settings (no train.* metadata: it was written before rwcnn recorded them), so a resume cannot be checked against this run's data and options; start a new run without resume (Model.load / rwcnn_model_load still opens its weights)")
        }
        // A fast-style checkpoint (train.objective, train.style*) resumed as
        // plain reconstruction training: the loss would change under it.
        let mine = Set(fields.map { "train.\($0.name)" })
        if let extra = metadata.keys.sorted().first(where: { ($0 == "train.objective" || $0.hasPrefix("train.style")) && !mine.contains($0) }) {
            throw RWCNNError.argument("checkpoint \(path) was made by fast-style training (\(extra) \(metadata[extra]!)); resume it with the same style options, or start a new run without resume")
        }
        for (name, value) in fields {
            let saved = metadata["train.\(name)"] ?? "(not recorded)"
            guard saved == value else {
                // Names as the C fields and Python keywords spell them
                // (TrainOptionName); the metadata keys stay as older
                // checkpoints wrote them.
                let what = name == "data" ? "data source"
                    : name == "eval" ? "held-out data (\(TrainOptionName.evalData.rawValue))"
                    : name == "seed" ? TrainOptionName.dataSeed.rawValue : name
                throw RWCNNError.argument("checkpoint \(path) was made with \(what) \(saved); this run has \(what) \(value): resume with the same \(what) (only steps, eval_every and checkpoint_every may change), or start a new run without resume")
            }
        }
    }
}
