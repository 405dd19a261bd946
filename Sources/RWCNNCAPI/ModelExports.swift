import CRWCNN
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

/// What an `rwcnn_model *` points to: the model plus the C strings that
/// rwcnn_model_get_config and rwcnn_model_layer hand out, made once so that
/// concurrent readers never race.
final class ModelHandle {
    let model: Model
    let arch: UnsafeMutablePointer<CChar>
    let cut: UnsafeMutablePointer<CChar>
    let layerNames: [UnsafeMutablePointer<CChar>]
    let layerAliases: [UnsafeMutablePointer<CChar>]

    init(_ model: Model) {
        self.model = model
        arch = strdup(model.config.arch)
        cut = strdup(model.config.cut)
        layerNames = model.architecture.layers.map { strdup($0.name) }
        layerAliases = model.architecture.layers.map { strdup($0.aliases.joined(separator: " ")) }
    }

    deinit {
        free(arch); free(cut)
        layerNames.forEach { free($0) }
        layerAliases.forEach { free($0) }
    }
}

func handle(_ p: OpaquePointer?) throws -> ModelHandle {
    let p = try required(p, "model")
    return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

func publish(_ model: Model, _ out: UnsafeMutablePointer<OpaquePointer?>) {
    out.pointee = OpaquePointer(Unmanaged.passRetained(ModelHandle(model)).toOpaque())
}

// MARK: config

@_cdecl("rwcnn_model_config_init")
public func rwcnn_model_config_init(_ c: UnsafeMutablePointer<rwcnn_model_config>?) {
    guard let c else { return }
    try? initPrefix(modelConfigDefaults(), to: c, size: FrozenSize.modelConfig, what: "config")
}

/// The defaults are the core's (ModelConfig()), the one place they live.
func modelConfigDefaults() -> rwcnn_model_config { cConfig(ModelConfig(), arch: defaultArch, cut: defaultCut) }

private let defaultArch: UnsafeMutablePointer<CChar> = strdup(ModelConfig().arch)!
private let defaultCut: UnsafeMutablePointer<CChar> = strdup(ModelConfig().cut)!

/// A core config as the C struct (full size), its strings borrowed from
/// `arch` and `cut`; enum numbers from `Vocabulary`.
func cConfig(_ m: ModelConfig, arch: UnsafeMutablePointer<CChar>, cut: UnsafeMutablePointer<CChar>) -> rwcnn_model_config {
    var v = rwcnn_model_config()
    v.struct_size = MemoryLayout<rwcnn_model_config>.size
    v.arch = UnsafePointer(arch)
    v.cut = UnsafePointer(cut)
    v.width = m.width
    v.kernel_size = Int32(clamping: m.kernelSize ?? 0)
    v.distribution = rwcnn_distribution(rawValue: cNumber(.distribution, m.weightInit.distribution.rawValue))
    v.scale = rwcnn_scale_rule(rawValue: cNumber(.scaleRule, m.weightInit.scale.name))
    v.std = m.weightInit.scale.fixedStd ?? WeightInit.defaultFixedStd
    v.mean = m.weightInit.mean
    v.seed = m.seed
    v.unpool = rwcnn_unpool_mode(rawValue: cNumber(.unpoolMode, m.unpool.rawValue))
    v.decoder = rwcnn_decoder_mode(rawValue: cNumber(.decoderMode, m.decoder.rawValue))
    v.normalize_input = m.normalizeInput ? 1 : 0
    return v
}

/// The C number of one of the core's own enum names (always listed).
func cNumber(_ kind: Vocabulary, _ name: String) -> UInt32 {
    UInt32(kind.names.firstIndex(of: name) ?? 0)
}

func modelConfig(_ c: UnsafePointer<rwcnn_model_config>?) throws -> ModelConfig {
    let c = try required(c, "config")
    var v = modelConfigDefaults()
    try readPrefix(c, into: &v, what: "config")
    var m = ModelConfig()
    m.arch = try string(v.arch, "config.arch")
    m.cut = try string(v.cut, "config.cut")
    m.width = v.width
    if v.kernel_size < 0 { throw RWCNNError.argument("config.kernel_size must be 0 (keep) or an odd size, got \(v.kernel_size)") }
    m.kernelSize = v.kernel_size == 0 ? nil : Int(v.kernel_size)
    let d = try Vocabulary.distribution.decode(Int(v.distribution.rawValue), as: Distribution.self, field: "config.distribution")
    let scale: ScaleRule
    switch v.scale {
    case RWCNN_SCALE_HE: scale = .he
    case RWCNN_SCALE_GLOROT: scale = .glorot
    case RWCNN_SCALE_FIXED:
        guard v.std.isFinite, v.std >= 0 else { throw RWCNNError.argument("config.std must be >= 0, got \(v.std)") }
        scale = .fixed(std: v.std)
    default: throw RWCNNError.argument("config.scale \(v.scale.rawValue) is not an rwcnn_scale_rule")
    }
    guard v.mean.isFinite else { throw RWCNNError.argument("config.mean must be finite") }
    m.weightInit = WeightInit(distribution: d, scale: scale, mean: v.mean)
    m.seed = v.seed
    m.unpool = try Vocabulary.unpoolMode.decode(Int(v.unpool.rawValue), as: UnpoolMode.self, field: "config.unpool")
    m.decoder = try Vocabulary.decoderMode.decode(Int(v.decoder.rawValue), as: DecoderMode.self, field: "config.decoder")
    m.normalizeInput = v.normalize_input != 0
    return m
}

// MARK: lifetime and files

@_cdecl("rwcnn_model_create")
public func rwcnn_model_create(_ config: UnsafePointer<rwcnn_model_config>?,
                               _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    capi {
        let out = try required(out, "out")
        publish(try Model(config: modelConfig(config)), out)
    }
}

@_cdecl("rwcnn_model_free")
public func rwcnn_model_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("rwcnn_model_save")
public func rwcnn_model_save(_ p: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    capi { try handle(p).model.save(path: string(path, "path")) }
}

@_cdecl("rwcnn_model_load")
public func rwcnn_model_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    capi {
        let out = try required(out, "out")
        publish(try Model.load(path: string(path, "path")), out)
    }
}

@_cdecl("rwcnn_model_serialize")
public func rwcnn_model_serialize(_ p: OpaquePointer?, _ out: UnsafeMutableRawPointer?, _ capacity: Int,
                                  _ size: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let model = try handle(p).model
        let size = try required(size, "size")
        let bytes = try model.fileContents(includeEncoder: !model.encoderIsSeeded).encode()
        if let out {
            guard capacity >= bytes.count else {
                throw RWCNNError.bufferTooSmall("out holds \(capacity) bytes; the model needs \(bytes.count)")
            }
            bytes.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        }
        size.pointee = bytes.count
    }
}

@_cdecl("rwcnn_model_deserialize")
public func rwcnn_model_deserialize(_ data: UnsafeRawPointer?, _ size: Int,
                                    _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    capi {
        let out = try required(out, "out")
        let data = try required(data, "data")
        guard size >= 0 else { throw RWCNNError.argument("size is too large") }
        let bytes = Array(UnsafeRawBufferPointer(start: data, count: size))
        publish(try Model(file: SafetensorsFile.decode(bytes: bytes), source: "model bytes"), out)
    }
}

@_cdecl("rwcnn_model_load_torchvision")
public func rwcnn_model_load_torchvision(_ p: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    capi { try handle(p).model.loadTorchvisionEncoder(path: string(path, "path")) }
}

@_cdecl("rwcnn_model_get_config")
public func rwcnn_model_get_config(_ p: OpaquePointer?, _ c: UnsafeMutablePointer<rwcnn_model_config>?) -> Int32 {
    capi {
        let h = try handle(p)
        let c = try required(c, "config")
        let v = cConfig(h.model.config, arch: h.arch, cut: h.cut)
        try writePrefix(v, to: c, what: "config")
    }
}

// MARK: shapes

@_cdecl("rwcnn_model_layer_count")
public func rwcnn_model_layer_count(_ p: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    capi { try required(count, "count").pointee = try handle(p).model.architecture.layers.count }
}

@_cdecl("rwcnn_model_layer")
public func rwcnn_model_layer(_ p: OpaquePointer?, _ index: Int, _ height: Int, _ width: Int,
                              _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                              _ shape: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let h = try handle(p)
        let layers = h.model.architecture.layers
        guard index >= 0, index < layers.count else {
            throw RWCNNError.argument("layer index \(index) is out of range 0..<\(layers.count)")
        }
        let name = try required(name, "name")
        var s: [Int] = []
        if shape != nil { s = try h.model.architecture.shapes(height: height, width: width, through: index)[index] }
        name.pointee = UnsafePointer(h.layerNames[index])
        if let shape { for i in 0..<3 { shape[i] = s[i] } }
    }
}

@_cdecl("rwcnn_model_layer_aliases")
public func rwcnn_model_layer_aliases(_ p: OpaquePointer?, _ index: Int,
                                      _ aliases: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    capi {
        let h = try handle(p)
        guard index >= 0, index < h.layerAliases.count else {
            throw RWCNNError.argument("layer index \(index) is out of range 0..<\(h.layerAliases.count)")
        }
        try required(aliases, "aliases").pointee = UnsafePointer(h.layerAliases[index])
    }
}

@_cdecl("rwcnn_model_feature_shape")
public func rwcnn_model_feature_shape(_ p: OpaquePointer?, _ height: Int, _ width: Int,
                                      _ shape: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let s = try handle(p).model.featureShape(height: height, width: width)
        let shape = try required(shape, "shape")
        for i in 0..<3 { shape[i] = s[i] }
    }
}

@_cdecl("rwcnn_model_decoded_shape")
public func rwcnn_model_decoded_shape(_ p: OpaquePointer?, _ fheight: Int, _ fwidth: Int,
                                      _ shape: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let s = try handle(p).model.decodedShape(featureHeight: fheight, featureWidth: fwidth)
        let shape = try required(shape, "shape")
        for i in 0..<3 { shape[i] = s[i] }
    }
}

// MARK: encode, decode, reconstruct

@_cdecl("rwcnn_model_encode")
public func rwcnn_model_encode(_ p: OpaquePointer?, _ images: UnsafePointer<Float>?, _ n: Int, _ c: Int,
                               _ h: Int, _ w: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    capi {
        let model = try handle(p).model
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        let fs = try model.featureShape(height: h, width: w)
        try checkCapacity(out, capacity, needed: checkedProduct([n] + fs, what: "features"), name: "features")
        let x = try tensor(from: images, shape: shape, count: count, name: "images")
        try copy(model.encode(x), to: out, capacity: capacity, name: "features")
    }
}

@_cdecl("rwcnn_model_decode")
public func rwcnn_model_decode(_ p: OpaquePointer?, _ features: UnsafePointer<Float>?, _ n: Int, _ c: Int,
                               _ fh: Int, _ fw: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    capi {
        let model = try handle(p).model
        let (shape, count) = try batchShape(n, c, fh, fw, what: "features")
        let ds = try model.decodedShape(featureHeight: fh, featureWidth: fw)
        try checkCapacity(out, capacity, needed: checkedProduct([n] + ds, what: "images"), name: "images")
        let f = try tensor(from: features, shape: shape, count: count, name: "features")
        try copy(model.decode(f), to: out, capacity: capacity, name: "images")
    }
}

@_cdecl("rwcnn_model_reconstruct")
public func rwcnn_model_reconstruct(_ p: OpaquePointer?, _ images: UnsafePointer<Float>?, _ n: Int, _ c: Int,
                                    _ h: Int, _ w: Int, _ out: UnsafeMutablePointer<Float>?, _ capacity: Int) -> Int32 {
    capi {
        let model = try handle(p).model
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        try checkCapacity(out, capacity, needed: count, name: "out")
        let x = try tensor(from: images, shape: shape, count: count, name: "images")
        try copy(model.reconstruct(x), to: out, capacity: capacity, name: "out")
    }
}

/// Fails before any work when the caller's buffer cannot hold the result.
func checkCapacity(_ p: UnsafeMutablePointer<Float>?, _ capacity: Int, needed: Int, name: String) throws {
    _ = try required(p, name)
    guard capacity >= needed else {
        throw RWCNNError.bufferTooSmall("\(name) holds \(capacity) floats; \(needed) are needed")
    }
}
