/// Models as safetensors files: every weight as an F32 tensor under its
/// parameter name, and `__metadata__` holding what rebuilds the model:
///
/// | key | value |
/// | --- | --- |
/// | `format`, `format_version` | `rwcnn.model`, `1` |
/// | `rwcnn_version` | version that wrote the file |
/// | `arch`, `width`, `kernel_size`, `cut` | architecture (kernel_size empty when not overridden) |
/// | `init`, `scale`, `std`, `mean`, `seed` | weight draw: distribution, scale rule (`he`, `glorot`, `fixed`), fixed std, mean, seed |
/// | `unpool`, `decoder`, `normalize_input` | decoder setup; `normalize_input` is `true` or `false` |
/// | `encoder_weights` | `stored` (the file holds them) or `seed` (left out: redrawn from the seed on load) |
extension Model {
    public static let fileFormat = "rwcnn.model"
    public static let fileFormatVersion = "1"

    /// The metadata that rebuilds this model's configuration.
    public var fileMetadata: [String: String] {
        var m: [String: String] = [
            "format": Model.fileFormat, "format_version": Model.fileFormatVersion,
            "rwcnn_version": RWCNNVersion.string,
            "arch": config.arch, "width": "\(config.width)",
            "kernel_size": config.kernelSize.map(String.init) ?? "", "cut": config.cut,
            "init": config.weightInit.distribution.rawValue, "mean": "\(config.weightInit.mean)",
            "seed": "\(config.seed)", "unpool": config.unpool.rawValue,
            "decoder": config.decoder.rawValue, "normalize_input": config.normalizeInput ? "true" : "false",
        ]
        switch config.weightInit.scale {
        case .he: m["scale"] = "he"; m["std"] = ""
        case .glorot: m["scale"] = "glorot"; m["std"] = ""
        case .fixed(let s): m["scale"] = "fixed"; m["std"] = "\(s)"
        }
        return m
    }

    /// The model as a safetensors file in memory: metadata plus every weight,
    /// or without `includeEncoder` only the decoder's (the encoder is then
    /// redrawn from the seed on load; allowed only while `encoderIsSeeded`).
    public func fileContents(extraMetadata: [String: String] = [:],
                             extraTensors: [(name: String, tensor: Tensor)] = [],
                             includeEncoder: Bool = true) throws -> SafetensorsFile {
        guard includeEncoder || encoderIsSeeded else {
            throw RWCNNError.argument("the encoder's weights are not the draw of seed \(config.seed) (pretrained or set by hand), so the file must store them")
        }
        let names = parameterNames.filter { includeEncoder || !$0.hasPrefix("encoder.") }
        let tensors = names.map { (name: $0, tensor: parameters[$0]!) } + extraTensors
        var metadata = fileMetadata.merging(extraMetadata) { a, _ in a }
        metadata["encoder_weights"] = includeEncoder ? "stored" : "seed"
        return SafetensorsFile(metadata: metadata, tensors: tensors)
    }

    /// Writes the model atomically (temporary file, then rename). Without
    /// `includeEncoder` the file holds only the decoder (a trained decoder
    /// of a random encoder in a fraction of the size).
    public func save(path: String, includeEncoder: Bool = true) throws {
        try fileContents(includeEncoder: includeEncoder).write(path: path)
    }

    /// Reads a model written by `save` (or a checkpoint); weights must match
    /// the rebuilt architecture name for name and shape.
    public static func load(path: String) throws -> Model {
        try Model(file: SafetensorsFile.read(path: path), source: path)
    }

    /// Rebuilds a model from a decoded file.
    public convenience init(file: SafetensorsFile, source: String = "model file") throws {
        let config = try Model.config(fromMetadata: file.metadata, source: source)
        try self.init(config: config)
        let redraw: Bool
        switch file.metadata["encoder_weights"] ?? "stored" {
        case "stored": redraw = false
        case "seed": redraw = true
        case let v: throw RWCNNError.format("\(source): metadata encoder_weights has bad value \"\(v)\"")
        }
        var values: [String: Tensor] = [:]
        for name in parameterNames where !(redraw && name.hasPrefix("encoder.")) {
            guard let t = file.tensor(named: name) else {
                throw RWCNNError.format("\(source): tensor \(name) is missing")
            }
            guard t.shape == parameters[name]!.shape else {
                throw RWCNNError.format("\(source): tensor \(name) has shape \(t.shape), the architecture needs \(parameters[name]!.shape)")
            }
            values[name] = t
        }
        // Stored encoder weights equal to the seed's draw still count as seeded.
        let seeded = values.allSatisfy { !$0.key.hasPrefix("encoder.") || $0.value == parameters[$0.key] }
        try setParameters(values)
        encoderIsSeeded = seeded
    }

    /// Parses the metadata written by `fileMetadata`.
    public static func config(fromMetadata m: [String: String], source: String) throws -> ModelConfig {
        func field(_ k: String) throws -> String {
            guard let v = m[k] else { throw RWCNNError.format("\(source): metadata field \(k) is missing; not an rwcnn model file?") }
            return v
        }
        func bad(_ k: String, _ v: String) -> RWCNNError { .format("\(source): metadata \(k) has bad value \"\(v)\"") }
        guard m["format"] == fileFormat else {
            throw RWCNNError.format("\(source): not an rwcnn model file (metadata format is \(m["format"].map { "\"\($0)\"" } ?? "missing"))")
        }
        guard m["format_version"] == fileFormatVersion else {
            throw RWCNNError.format("\(source): model format version \(m["format_version"] ?? "?") is not supported (this library reads \(fileFormatVersion))")
        }
        var c = ModelConfig()
        c.arch = try field("arch")
        c.cut = try field("cut")
        let w = try field("width"); guard let width = Double(w) else { throw bad("width", w) }; c.width = width
        let k = try field("kernel_size")
        if !k.isEmpty { guard let kk = Int(k) else { throw bad("kernel_size", k) }; c.kernelSize = kk }
        let d = try field("init"); guard let dist = Distribution(rawValue: d) else { throw bad("init", d) }
        let mn = try field("mean"); guard let mean = Double(mn) else { throw bad("mean", mn) }
        let sc = try field("scale")
        let scale: ScaleRule
        switch sc {
        case "he": scale = .he
        case "glorot": scale = .glorot
        case "fixed":
            let s = try field("std"); guard let std = Double(s) else { throw bad("std", s) }
            scale = .fixed(std: std)
        default: throw bad("scale", sc)
        }
        c.weightInit = WeightInit(distribution: dist, scale: scale, mean: mean)
        let s = try field("seed"); guard let seed = UInt64(s) else { throw bad("seed", s) }; c.seed = seed
        let u = try field("unpool"); guard let unpool = UnpoolMode(rawValue: u) else { throw bad("unpool", u) }; c.unpool = unpool
        let dm = try field("decoder"); guard let dec = DecoderMode(rawValue: dm) else { throw bad("decoder", dm) }; c.decoder = dec
        let n = try field("normalize_input"); guard n == "true" || n == "false" else { throw bad("normalize_input", n) }
        c.normalizeInput = n == "true"
        return c
    }
}
