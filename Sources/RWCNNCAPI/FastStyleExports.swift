import CRWCNN
import RWCNN

// rwcnn_train_fast_style: rwcnn_train's options and data plus a
// rwcnn_fast_style_options struct -> FastStyleOptions; the loss curve goes
// to the style options' caller array.

@_cdecl("rwcnn_fast_style_options_init")
public func rwcnn_fast_style_options_init(_ o: UnsafeMutablePointer<rwcnn_fast_style_options>?) {
    try? initPrefix(fastStyleDefaults(), to: o, size: FrozenSize.fastStyleOptions, what: "options")
}

/// The defaults of FastStyleOptions (the image fields stay empty), every field.
func fastStyleDefaults() -> rwcnn_fast_style_options {
    let d = FastStyleOptions.defaults
    var v = rwcnn_fast_style_options()
    v.struct_size = MemoryLayout<rwcnn_fast_style_options>.size
    v.content_weight = d.contentWeight
    v.tv_weight = d.tvWeight; v.tv_beta = d.tvBeta
    (v.feature_normalization, v.gram_normalization) = cNormalizations(d.featureNormalization, d.gramNormalization)
    v.output_layer_scale = d.outputLayerScale
    return v
}

@_cdecl("rwcnn_train_fast_style")
public func rwcnn_train_fast_style(_ p: OpaquePointer?, _ options: UnsafePointer<rwcnn_train_options>?,
                                   _ style: UnsafePointer<rwcnn_fast_style_options>?,
                                   _ result: UnsafeMutablePointer<rwcnn_train_result>?) -> Int32 {
    capi {
        _ = try handle(p)
        _ = try required(options, "options")
        let sp = try required(style, "style")
        var v = fastStyleDefaults()
        try readPrefix(sp, into: &v, what: "style")
        let (shape, count) = try batchShape(1, 3, v.style_height, v.style_width, what: "style image")
        let image = try tensor(from: v.style, shape: shape, count: count, name: "style.style")
        var o = FastStyleOptions(style: image, contentLayer: try string(v.content_layer, "style.content_layer"),
                                 styleLayers: try layerNames(v.style_layers, v.style_layer_count, "style.style_layers"))
        o.contentWeight = v.content_weight
        o.styleWeights = layerWeights(v.style_weights, v.style_layer_count)
        o.tvWeight = v.tv_weight; o.tvBeta = v.tv_beta
        (o.featureNormalization, o.gramNormalization) = try swiftNormalizations(
            v.feature_normalization, v.gram_normalization, prefix: "style")
        try checkLossCurve(v.losses, capacity: v.losses_capacity, prefix: "style")
        o.outputLayerScale = v.output_layer_scale
        try runTraining(p, options, result, style: (o, v.losses, v.losses_capacity))
    }
}
