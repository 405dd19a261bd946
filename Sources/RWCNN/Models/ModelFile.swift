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
/// | `encoder_fingerprint` | per-field hashes of what draws the encoder (see `encoderFingerprint`) |
///
/// Loading trusts nothing before it is checked: the metadata is parsed and
/// validated (bad values are `.format`), the tensor names and shapes the
/// architecture implies are computed from the config alone and checked
/// against the file (missing, unknown, misshapen or non-finite tensors are
/// `.format`) and the total parameter size against the `MemoryBudget`
/// (`.outOfMemory`), all before any weight is drawn.
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
        m["encoder_fingerprint"] = Model.encoderFingerprint(config)
        return m
    }

    /// The fields that decide the encoder's draw, in fingerprint order.
    static let fingerprintFields = ["arch", "width", "kernel_size", "init", "scale", "std", "mean", "seed", "unpool"]

    /// A fingerprint of what draws the encoder (and how the decoder undoes
    /// its pools): for each of `fingerprintFields`, `field:` and the FNV-1a
    /// 32-bit hash (8 hex digits) of its canonical value, space-separated.
    /// A decoder-only file or a checkpoint whose metadata was edited after
    /// writing no longer matches, and the mismatch names the field.
    public static func encoderFingerprint(_ c: ModelConfig) -> String {
        canonicalEncoderFields(c).map { name, value in
            var h: UInt32 = 0x811C_9DC5
            for b in "\(name)=\(value)".utf8 { h = (h ^ UInt32(b)) &* 0x0100_0193 }
            let hex = String(h, radix: 16)
            return "\(name):" + String(repeating: "0", count: 8 - hex.count) + hex
        }.joined(separator: " ")
    }

    private static func canonicalEncoderFields(_ c: ModelConfig) -> [(String, String)] {
        let (scale, std): (String, String)
        switch c.weightInit.scale {
        case .he: (scale, std) = ("he", "")
        case .glorot: (scale, std) = ("glorot", "")
        case .fixed(let s): (scale, std) = ("fixed", "\(s)")
        }
        return [("arch", c.arch), ("width", "\(c.width)"), ("kernel_size", c.kernelSize.map(String.init) ?? ""),
                ("init", c.weightInit.distribution.rawValue), ("scale", scale), ("std", std),
                ("mean", "\(c.weightInit.mean)"), ("seed", "\(c.seed)"), ("unpool", c.unpool.rawValue)]
    }

    /// Compares a stored fingerprint with the config's; `.format` naming
    /// every field that differs. Files written before fingerprints existed
    /// have none, and pass (their names, shapes and values are still checked).
    static func checkFingerprint(_ stored: String?, config: ModelConfig, source: String) throws {
        guard let stored else { return }
        let expected = encoderFingerprint(config)
        guard stored != expected else { return }
        func parts(_ s: String) -> [String: String] {
            var d: [String: String] = [:]
            for item in s.split(separator: " ") {
                let kv = item.split(separator: ":", maxSplits: 1)
                if kv.count == 2 { d[String(kv[0])] = String(kv[1]) }
            }
            return d
        }
        let have = parts(stored), want = parts(expected)
        let differing = fingerprintFields.filter { have[$0] != want[$0] }
        throw RWCNNError.format("\(source): metadata \(differing.isEmpty ? "encoder_fingerprint" : differing.joined(separator: ", ")) do\(differing.count == 1 ? "es" : "") not match the encoder fingerprint written with the file (edited after it was saved?); the encoder would be a different draw")
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
        let tensors = try names.map { (name: $0, tensor: try parameter($0)) } + extraTensors
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

    /// Rebuilds a model from a decoded file. Everything is checked against
    /// the architecture the metadata describes before the model is built
    /// (see the type's notes); then the weights are set.
    public convenience init(file: SafetensorsFile, source: String = "model file") throws {
        let config = try Model.config(fromMetadata: file.metadata, source: source)
        let redraw: Bool
        switch file.metadata["encoder_weights"] ?? "stored" {
        case "stored": redraw = false
        case "seed": redraw = true
        case let v: throw RWCNNError.format("\(source): metadata encoder_weights has bad value \"\(v)\"")
        }
        try Model.checkFingerprint(file.metadata["encoder_fingerprint"], config: config, source: source)
        let expected = try Model.expectedTensors(config: config, source: source)
        try Model.checkTensors(file, expected: expected, redraw: redraw,
                               checkpoint: file.metadata["checkpoint_step"] != nil, source: source)
        try self.init(config: config)
        var values: [String: Tensor] = [:]
        for (name, t) in file.tensors where !name.hasPrefix("optimizer.") { values[name] = t }
        // Stored encoder weights equal to the seed's draw still count as seeded.
        let seeded = values.allSatisfy { name, t in
            !name.hasPrefix("encoder.") || parameterBlock.layout.slot(name).map { parameterBlock.holds(t, in: $0) } == true
        }
        try setParameters(values)
        encoderIsSeeded = seeded
    }

    /// The parameters (name, shape) a config's model has, in file order,
    /// computed from its Architecture alone (nothing drawn). Bad arch,
    /// width, kernel or cut values are `.format` naming the field.
    static func expectedTensors(config c: ModelConfig, source: String) throws -> [(name: String, shape: [Int])] {
        let architecture: Architecture
        let cutIndex: Int
        do {
            architecture = try Architecture(spec: c.arch, width: c.width, kernelSize: c.kernelSize)
        } catch let e as RWCNNError {
            throw RWCNNError.format("\(source): metadata arch/width/kernel_size are not a valid architecture: \(e.message)")
        }
        do {
            cutIndex = try architecture.index(of: c.cut)
        } catch let e as RWCNNError {
            throw RWCNNError.format("\(source): metadata cut is not a layer of the architecture: \(e.message)")
        }
        let convs = architecture.layers[0...cutIndex].filter(\.isConv)
        var out: [(name: String, shape: [Int])] = []
        for part in ["encoder", "decoder"] where part == "encoder" || c.decoder != .tied {
            for l in convs {
                out.append(("\(part).\(l.name).weight", [l.outChannels, l.inChannels, l.kernel, l.kernel]))
                out.append(("\(part).\(l.name).bias", [part == "encoder" ? l.outChannels : l.inChannels]))
            }
        }
        return out
    }

    /// Checks a file's tensors against the expected parameters: each one
    /// present (encoder ones only when stored) with its shape, no tensor the
    /// model does not have (a checkpoint may add `optimizer.first|second.`
    /// state of decoder parameters), every value finite, and the model's
    /// total parameter bytes within the memory budget.
    static func checkTensors(_ file: SafetensorsFile, expected: [(name: String, shape: [Int])], redraw: Bool,
                             checkpoint: Bool, source: String) throws {
        var total = 0
        var shapes: [String: [Int]] = [:]
        for (name, shape) in expected {
            let (sum, o) = total.addingReportingOverflow(try checkedProduct(shape, what: "\(source): parameter \(name)"))
            guard !o else { throw RWCNNError.outOfMemory("\(source): the architecture's parameter count overflows") }
            total = sum
            shapes[name] = shape
        }
        let present = Set(file.tensors.map(\.name))
        for (name, _) in expected where !(redraw && name.hasPrefix("encoder.")) && !present.contains(name) {
            throw RWCNNError.format("\(source): tensor \(name) is missing")
        }
        for (name, t) in file.tensors {
            let want: [Int]?
            if name.hasPrefix("optimizer.first.") || name.hasPrefix("optimizer.second.") {
                let parameter = String(name.drop(while: { $0 != "." }).dropFirst().drop(while: { $0 != "." }).dropFirst())
                want = checkpoint && parameter.hasPrefix("decoder.") ? shapes[parameter] : nil
            } else if redraw && name.hasPrefix("encoder.") {
                throw RWCNNError.format("\(source): tensor \(name) is stored, but metadata encoder_weights is \"seed\" (the encoder is redrawn)")
            } else {
                want = shapes[name]
            }
            guard let want else {
                throw RWCNNError.format("\(source): tensor \(name) is not part of this model (arch \(file.metadata["arch"] ?? "?"), cut \(file.metadata["cut"] ?? "?"), decoder \(file.metadata["decoder"] ?? "?"))")
            }
            guard t.shape == want else {
                throw RWCNNError.format("\(source): tensor \(name) has shape \(t.shape), the architecture needs \(want)")
            }
            if let bad = t.data.firstIndex(where: { !$0.isFinite }) {
                throw RWCNNError.format("\(source): tensor \(name) holds a non-finite value (\(t.data[bad]) at index \(bad))")
            }
        }
        // Only the encoder redrawn from the seed is not in the file already.
        try MemoryBudget.check(count: total, size: MemoryLayout<Float>.stride,
                               what: "\(source): the model's \(total) parameters")
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
        do { try c.weightInit.validate() } catch let e as RWCNNError {
            throw RWCNNError.format("\(source): metadata mean/std: \(e.message)")
        }
        let s = try field("seed"); guard let seed = UInt64(s) else { throw bad("seed", s) }; c.seed = seed
        let u = try field("unpool"); guard let unpool = UnpoolMode(rawValue: u) else { throw bad("unpool", u) }; c.unpool = unpool
        let dm = try field("decoder"); guard let dec = DecoderMode(rawValue: dm) else { throw bad("decoder", dm) }; c.decoder = dec
        let n = try field("normalize_input"); guard n == "true" || n == "false" else { throw bad("normalize_input", n) }
        c.normalizeInput = n == "true"
        return c
    }
}
