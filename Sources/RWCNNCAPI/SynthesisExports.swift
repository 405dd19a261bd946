import CRWCNN
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

// rwcnn_invert / rwcnn_texture / rwcnn_style: options struct ->
// SynthesisOptions, progress -> the C callback (with a view of the current
// image), result image -> the caller's buffer, loss curve -> the caller's
// array.

@_cdecl("rwcnn_synthesis_options_init")
public func rwcnn_synthesis_options_init(_ o: UnsafeMutablePointer<rwcnn_synthesis_options>?) {
    try? initPrefix(cSynthesisOptions(SynthesisOptions()), to: o, size: FrozenSize.synthesisOptions, what: "options")
}

@_cdecl("rwcnn_synthesis_options_init_task")
public func rwcnn_synthesis_options_init_task(_ o: UnsafeMutablePointer<rwcnn_synthesis_options>?, _ size: Int,
                                              _ task: Int32, _ normalizeInput: UnsafeMutablePointer<Int32>?) -> Int32 {
    capi {
        let t = try Vocabulary.synthesisTask.decode(Int(task), as: SynthesisTask.self, field: "task")
        if let o {
            try initPrefix(cSynthesisOptions(SynthesisOptions(task: t)), to: UnsafeMutableRawPointer(o), size: size,
                           what: "rwcnn_synthesis_options")
        }
        normalizeInput?.pointee = t.centredInput ? 1 : 0
    }
}

/// Static C copies of the task defaults' strings (made once, never freed).
private let cArchNames: [SynthesisTask: UnsafePointer<CChar>] = Dictionary(
    uniqueKeysWithValues: SynthesisTask.allCases.map { ($0, UnsafePointer(strdup($0.defaultArch)!)) })
private let cContentLayer = UnsafePointer(strdup(StyleDefaults.contentLayer)!)
private let cStyleLayers: UnsafePointer<UnsafePointer<CChar>?> = {
    let p = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: StyleDefaults.styleLayers.count)
    for (i, name) in StyleDefaults.styleLayers.enumerated() { p[i] = UnsafePointer(strdup(name)!) }
    return UnsafePointer(p)
}()

@_cdecl("rwcnn_synthesis_task_defaults")
public func rwcnn_synthesis_task_defaults(_ task: Int32, _ d: UnsafeMutablePointer<rwcnn_task_defaults>?,
                                          _ size: Int) -> Int32 {
    capi {
        let t = try Vocabulary.synthesisTask.decode(Int(task), as: SynthesisTask.self, field: "task")
        var v = rwcnn_task_defaults()
        v.arch = cArchNames[t]
        if t == .style {
            v.content_layer = cContentLayer
            v.content_weight = StyleDefaults.contentWeight
            v.style_layers = cStyleLayers
            v.style_layer_count = StyleDefaults.styleLayers.count
        }
        try initPrefix(v, to: UnsafeMutableRawPointer(d), size: size, what: "rwcnn_task_defaults")
    }
}

/// The C form of `d` (no callback, no loss curve).
func cSynthesisOptions(_ d: SynthesisOptions) -> rwcnn_synthesis_options {
    var v = rwcnn_synthesis_options()
    v.struct_size = MemoryLayout<rwcnn_synthesis_options>.size
    v.steps = d.steps
    v.optimizer = rwcnn_synthesis_optimizer(UInt32(SynthesisOptimizer.allCases.firstIndex(of: d.optimizer)!))
    v.learning_rate = d.learningRate
    v.clamp = d.clamp ? 1 : 0
    v.scales = d.scales
    v.scale_factor = d.scaleFactor
    v.seed = d.seed
    v.start = rwcnn_synthesis_start(UInt32(SynthesisStart.allCases.firstIndex(of: d.start)!))
    v.tv_weight = d.tvWeight; v.tv_beta = d.tvBeta
    v.alpha_weight = d.alphaWeight; v.alpha = d.alpha
    (v.feature_normalization, v.gram_normalization) = cNormalizations(d.featureNormalization, d.gramNormalization)
    return v
}

/// The C values of the loss normalisations (the vocabulary's order).
func cNormalizations(_ f: FeatureLossNormalization, _ g: GramNormalization)
    -> (rwcnn_feature_normalization, rwcnn_gram_normalization) {
    (rwcnn_feature_normalization(UInt32(FeatureLossNormalization.allCases.firstIndex(of: f)!)),
     rwcnn_gram_normalization(UInt32(GramNormalization.allCases.firstIndex(of: g)!)))
}

/// A C struct's loss normalisations, decoded through the vocabulary;
/// `prefix` names the struct in errors ("options", "style").
func swiftNormalizations(_ f: rwcnn_feature_normalization, _ g: rwcnn_gram_normalization, prefix: String) throws
    -> (FeatureLossNormalization, GramNormalization) {
    (try Vocabulary.featureNormalization.decode(Int(f.rawValue), as: FeatureLossNormalization.self,
                                                field: "\(prefix).feature_normalization"),
     try Vocabulary.gramNormalization.decode(Int(g.rawValue), as: GramNormalization.self,
                                             field: "\(prefix).gram_normalization"))
}

/// Checks a caller's loss-curve array: present when it has room, and of a
/// plausible size.
func checkLossCurve(_ losses: UnsafeMutablePointer<Double>?, capacity: Int, prefix: String) throws {
    if capacity > 0 { _ = try required(losses, "\(prefix).losses (losses_capacity is not 0)") }
    guard capacity <= 1 << 40 else {
        throw RWCNNError.argument("\(prefix).losses_capacity \(capacity) is not a plausible buffer size")
    }
}

/// The caller's options (the task's defaults for NULL), read as a prefix.
private func synthesisOptions(_ p: UnsafePointer<rwcnn_synthesis_options>?, task: SynthesisTask) throws
    -> rwcnn_synthesis_options {
    var v = cSynthesisOptions(SynthesisOptions(task: task))
    if let p { try readPrefix(p, into: &v, what: "options") }
    return v
}

private func swiftOptions(_ v: rwcnn_synthesis_options) throws -> SynthesisOptions {
    var o = SynthesisOptions()
    // size_t above Int.max arrives negative and fails the core's range check.
    o.steps = v.steps
    o.optimizer = try Vocabulary.synthesisOptimizer.decode(Int(v.optimizer.rawValue), as: SynthesisOptimizer.self,
                                                           field: "options.optimizer")
    o.learningRate = v.learning_rate
    o.clamp = v.clamp != 0
    o.scales = v.scales
    o.scaleFactor = v.scale_factor
    o.seed = v.seed
    o.start = try Vocabulary.synthesisStart.decode(Int(v.start.rawValue), as: SynthesisStart.self, field: "options.start")
    o.tvWeight = v.tv_weight; o.tvBeta = v.tv_beta
    o.alphaWeight = v.alpha_weight; o.alpha = v.alpha
    (o.featureNormalization, o.gramNormalization) = try swiftNormalizations(
        v.feature_normalization, v.gram_normalization, prefix: "options")
    try checkLossCurve(v.losses, capacity: v.losses_capacity, prefix: "options")
    return o
}

/// `count` C strings as Swift strings.
func layerNames(_ p: UnsafePointer<UnsafePointer<CChar>?>?, _ count: Int, _ name: String) throws -> [String] {
    guard count >= 0, count <= 256 else { throw RWCNNError.argument("\(name): count \(count) must be in 0...256") }
    guard count > 0 else { return [] }
    let p = try required(p, name)
    return try (0..<count).map { try string(p[$0], "\(name)[\($0)]") }
}

/// `count` weights, or nil (1 each) for NULL.
func layerWeights(_ p: UnsafePointer<Double>?, _ count: Int) -> [Double]? {
    guard let p, count > 0 else { return nil }
    return Array(UnsafeBufferPointer(start: p, count: count))
}

/// Runs a task with the C callback wired in, then writes the image, the loss
/// curve and the result.
private func runTask(_ v: rwcnn_synthesis_options, out: UnsafeMutablePointer<Float>?, capacity: Int,
                     result: UnsafeMutablePointer<rwcnn_synthesis_result>?,
                     _ task: (SynthesisOptions, SynthesisCallback?) throws -> SynthesisResult) throws {
    let options = try swiftOptions(v)
    if let result { _ = try structSize(UnsafeRawPointer(result), what: "result") }
    var callback: SynthesisCallback? = nil
    if let fn = v.progress {
        let user = v.user
        callback = { p in
            p.image.data.withUnsafeBufferPointer { pixels in
                var c = rwcnn_synthesis_progress()
                c.struct_size = MemoryLayout<rwcnn_synthesis_progress>.size
                c.step = p.step; c.steps = p.steps; c.scale = p.scale; c.scales = p.scales
                c.loss = p.loss; c.seconds = p.seconds
                c.image = pixels.baseAddress
                c.n = p.image.shape[0]; c.channels = p.image.shape[1]
                c.height = p.image.shape[2]; c.width = p.image.shape[3]
                return withUnsafePointer(to: &c) { fn($0, user) } == 0
            }
        }
    }
    let r = try task(options, callback)
    try copy(r.image, to: out, capacity: capacity, name: "out")
    let written = min(v.losses_capacity, r.losses.count)
    if let losses = v.losses, written > 0 {
        r.losses.withUnsafeBufferPointer { losses.update(from: $0.baseAddress!, count: written) }
    }
    guard let result else { return }
    var c = rwcnn_synthesis_result()
    c.struct_size = MemoryLayout<rwcnn_synthesis_result>.size
    c.steps_done = r.steps
    c.start_loss = r.startLoss
    c.final_loss = r.finalLoss
    c.seconds = r.seconds
    c.losses_written = written
    try writePrefix(c, to: result, what: "result")
}

@_cdecl("rwcnn_invert")
public func rwcnn_invert(_ p: OpaquePointer?, _ images: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
                         _ layer: UnsafePointer<CChar>?, _ weight: Double,
                         _ options: UnsafePointer<rwcnn_synthesis_options>?,
                         _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                         _ result: UnsafeMutablePointer<rwcnn_synthesis_result>?) -> Int32 {
    capi {
        let model = try handle(p).model
        let v = try synthesisOptions(options, task: .invert)
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        let layer = try string(layer, "layer")
        try checkCapacity(out, capacity, needed: count, name: "out")
        let x = try tensor(from: images, shape: shape, count: count, name: "images")
        try runTask(v, out: out, capacity: capacity, result: result) { o, cb in
            try model.invert(x, layer: layer, weight: weight, options: o, progress: cb)
        }
    }
}

@_cdecl("rwcnn_texture")
public func rwcnn_texture(_ p: OpaquePointer?, _ source: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
                          _ layers: UnsafePointer<UnsafePointer<CChar>?>?, _ weights: UnsafePointer<Double>?,
                          _ layerCount: Int, _ count: Int, _ outHeight: Int, _ outWidth: Int,
                          _ options: UnsafePointer<rwcnn_synthesis_options>?,
                          _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                          _ result: UnsafeMutablePointer<rwcnn_synthesis_result>?) -> Int32 {
    capi {
        let model = try handle(p).model
        let v = try synthesisOptions(options, task: .texture)
        let (shape, sourceCount) = try batchShape(n, c, h, w, what: "source")
        guard count >= 0 else { throw RWCNNError.argument("count \(count) is not a valid size") }
        let textures = count == 0 ? n : count
        let (_, needed) = try batchShape(textures, c, outHeight, outWidth, what: "textures")
        let names = try layerNames(layers, layerCount, "layers")
        try checkCapacity(out, capacity, needed: needed, name: "out")
        let x = try tensor(from: source, shape: shape, count: sourceCount, name: "source")
        let w = layerWeights(weights, layerCount)
        try runTask(v, out: out, capacity: capacity, result: result) { o, cb in
            try model.texture(x, layers: names, weights: w, height: outHeight, width: outWidth, count: textures,
                              options: o, progress: cb)
        }
    }
}

@_cdecl("rwcnn_style")
public func rwcnn_style(_ p: OpaquePointer?, _ content: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
                        _ style: UnsafePointer<Float>?, _ styleN: Int, _ styleH: Int, _ styleW: Int,
                        _ contentLayer: UnsafePointer<CChar>?, _ contentWeight: Double,
                        _ styleLayers: UnsafePointer<UnsafePointer<CChar>?>?, _ styleWeights: UnsafePointer<Double>?,
                        _ styleLayerCount: Int,
                        _ options: UnsafePointer<rwcnn_synthesis_options>?,
                        _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                        _ result: UnsafeMutablePointer<rwcnn_synthesis_result>?) -> Int32 {
    capi {
        let model = try handle(p).model
        let v = try synthesisOptions(options, task: .style)
        let (cShape, cCount) = try batchShape(n, c, h, w, what: "content")
        let (sShape, sCount) = try batchShape(styleN, c, styleH, styleW, what: "style")
        let layer = try string(contentLayer, "content_layer")
        let names = try layerNames(styleLayers, styleLayerCount, "style_layers")
        try checkCapacity(out, capacity, needed: cCount, name: "out")
        let x = try tensor(from: content, shape: cShape, count: cCount, name: "content")
        let s = try tensor(from: style, shape: sShape, count: sCount, name: "style")
        let sw = layerWeights(styleWeights, styleLayerCount)
        try runTask(v, out: out, capacity: capacity, result: result) { o, cb in
            try model.style(content: x, style: s, contentLayer: layer, styleLayers: names, contentWeight: contentWeight,
                            styleWeights: sw, options: o, progress: cb)
        }
    }
}
