// Fast style transfer with a random CNN-DeCNN (the ICLR 2020 submission
// "Randomness in Deconvolutional Networks for Visual Representation", the
// later version of the seed paper): the encoder stays fixed and random, and
// the decoder is trained so that y = decode(encode(x)) keeps the content of
// the photo x and carries the Gram statistics of one style image s. After
// training, stylising a photo is one reconstruction (no optimisation).
//
// The loss of a batch, measured on the same fixed random encoder phi
// (every loss layer at or before the model's cut):
//
//   L(y) = wc * featureLoss(phi_c(y), phi_c(x))            content at layer c
//        + sum_l w_l * gramLoss(phi_l(y), Gram(phi_l(s)))  style at layers l
//        + tv * totalVariationLoss(y)                      optional prior
//
// with the normalisations of the synthesis tasks (relative feature loss and
// the "scaled" relative Gram error by default; docs/ENGINE.md, "Synthesis").
// Its gradient w.r.t. y is `SynthesisObjective`'s backwardData chain to the
// pixels; from there `decoderBackward` gives the decoder's gradients. The
// output enters the loss network as it is (not clamped), as the
// reconstruction loss sees it.

/// What a fast-style run optimises besides the trainer's options: the style
/// image, the content and style layers and the loss weights.
public struct FastStyleOptions: Equatable, Sendable {
    /// The style image, [3, H, W] or [1, 3, H, W] in [0, 1]; its Grams are
    /// size-independent, so any size that reaches the deepest style layer.
    public var style: Tensor
    /// Layer whose features of the output must match those of the input.
    public var contentLayer: String
    public var contentWeight = 1.0
    /// Layers whose Gram matrices of the output must match the style's.
    public var styleLayers: [String]
    /// One weight per style layer; nil: 1 each.
    public var styleWeights: [Double]? = nil
    /// beta-TV prior on the output (`totalVariationLoss`); 0: off.
    public var tvWeight = 0.0
    public var tvBeta = 2.0
    public var featureNormalization: FeatureLossNormalization = .relative
    public var gramNormalization: GramNormalization = .scaled
    /// At the start of a run that does not resume, the decoder's image
    /// layer (the mirror of the first conv) is multiplied by this and its
    /// bias set to the ImageNet mean colour, so the output starts as a faint
    /// picture on a flat mean colour instead of the He-initialised decoder's
    /// large one (whose loss on a centred model starts near 1e5 and whose
    /// first Adam steps then go to shrinking it; docs/ENGINE.md, "Fast
    /// style"). In [0, 1]; 1 leaves the decoder as it is.
    public var outputLayerScale = 0.1

    /// The model setting fast style wants (`ModelConfig.normalizeInput`):
    /// on uncentred pixels the Grams of a random encoder are dominated by
    /// the mean colour, and the decoder learns the style's colour but not
    /// its grain (as for `SynthesisTask.centredInput`). The model is the
    /// caller's: the CLI builds its model so, Python and C document it.
    public static let centredInput = true

    /// The defaults, with a placeholder style and no layers (for surfaces
    /// that show them).
    public static var defaults: FastStyleOptions {
        FastStyleOptions(style: Tensor(checkedZeros: [1, 1, 1]), contentLayer: "", styleLayers: [])
    }

    public init(style: Tensor, contentLayer: String, styleLayers: [String]) {
        self.style = style
        self.contentLayer = contentLayer
        self.styleLayers = styleLayers
    }
}

/// A checked `FastStyleOptions` on one model: resolved layers, the style's
/// Gram targets, and what a checkpoint records of it.
struct FastStyleObjective {
    let contentLayer: Int
    let contentName: String
    let contentWeight: Double
    let styleTerms: [SynthesisTerm]
    let outputLayerScale: Double
    /// Priors and normalisations in the synthesis tasks' form.
    let synthesis: SynthesisOptions
    /// RunRecord fields (`train.objective`, `train.style*`).
    let record: [(name: String, value: String)]

    /// The deepest layer the loss network runs to.
    var deepest: Int { max(contentLayer, styleTerms.map(\.layer).max() ?? 0) }
}

extension Model {
    /// Checks `o` against the model and computes the style's Grams.
    func fastStyleObjective(_ o: FastStyleOptions) throws -> FastStyleObjective {
        let op = "fast style"
        guard config.decoder != .tied else {
            throw RWCNNError.argument("a tied decoder shares the encoder's weights and cannot be trained; create the model with decoder 'trained' (or 'random')")
        }
        let s = try synthesisImages(o.style, "style image", op: op)
        guard s.shape[0] == 1 else { throw RWCNNError.argument("\(op): give one style image, got \(s.shape[0])") }
        try checkPixelValues(s, what: "style image")
        let cl = try synthesisLayer(o.contentLayer, op: op)
        try requireTaskWeight(o.contentWeight, "content weight", op: op)
        let (indices, w) = try synthesisLayers(o.styleLayers, weights: o.styleWeights, what: "style layers", op: op)
        var so = SynthesisOptions()
        so.tvWeight = o.tvWeight; so.tvBeta = o.tvBeta
        so.featureNormalization = o.featureNormalization
        so.gramNormalization = o.gramNormalization
        try so.validate(op: op)
        _ = try synthesisSizes(height: s.shape[2], width: s.shape[3], deepest: indices.max()!,
                               options: SynthesisOptions(), op: "\(op) style image")
        let grams = try sourceGrams(s, layers: indices, shared: true)
        let terms = zip(indices, w).enumerated().map { k, lw in
            SynthesisTerm(layer: lw.0, name: "gram:\(architecture.layers[lw.0].name)", weight: lw.1,
                          target: .gram(grams[k], o.gramNormalization))
        }
        guard o.outputLayerScale.isFinite, o.outputLayerScale > 0, o.outputLayerScale <= 1 else {
            throw RWCNNError.argument("\(op): output layer scale must be in (0, 1], got \(o.outputLayerScale)")
        }
        let names = indices.map { architecture.layers[$0].name }
        let record: [(name: String, value: String)] = [
            ("objective", "fast_style"), ("style", imagesIdentity([s])),
            ("style.content_layer", architecture.layers[cl].name), ("style.content_weight", "\(o.contentWeight)"),
            ("style.layers", names.joined(separator: ",")), ("style.weights", w.map { "\($0)" }.joined(separator: ",")),
            ("style.tv_weight", "\(o.tvWeight)"), ("style.tv_beta", "\(o.tvBeta)"),
            ("style.feature_normalization", o.featureNormalization.rawValue),
            ("style.gram_normalization", o.gramNormalization.rawValue),
            ("style.output_layer_scale", "\(o.outputLayerScale)"),
        ]
        return FastStyleObjective(contentLayer: cl, contentName: "feature:\(architecture.layers[cl].name)",
                                  contentWeight: o.contentWeight, styleTerms: terms,
                                  outputLayerScale: o.outputLayerScale, synthesis: so, record: record)
    }

    /// The start of a fast-style run that does not resume: the decoder's
    /// image layer times `scale`, its bias the ImageNet mean colour (0.5
    /// per channel for images that are not RGB); nothing for scale 1.
    func startFastStyleDecoder(scale: Double) throws {
        guard scale != 1, let first = encoderLayers.first(where: \.isConv) else { return }
        let weightName = "decoder.\(first.name).weight", biasName = "decoder.\(first.name).bias"
        var w = try parameter(weightName)
        w.data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = Float(Double(p[i]) * scale) }
        }
        var b = try parameter(biasName)
        let rgb = b.count == 3
        b.data.withUnsafeMutableBufferPointer { p in
            for c in 0..<p.count { p[c] = Float(rgb ? ImageNetStats.mean[c] : 0.5) }
        }
        try setParameters([weightName: w, biasName: b])
    }

    /// The fast-style loss of a batch of photos [N, C, H, W] (or [C, H, W])
    /// in [0, 1] (the file comment gives it) and its gradient w.r.t. every
    /// decoder parameter (`decoder.<layer>.weight|bias`), the encoder fixed.
    /// `train(style:options:)` uses it for every step; useful for custom
    /// training loops.
    public func fastStyleLossAndGradients(_ images: Tensor, style: FastStyleOptions) throws
        -> (loss: Double, gradients: [String: Tensor]) {
        let objective = try fastStyleObjective(style)
        try checkPixelValues(images)
        let x = try batched(images)
        return try plans.with(planKey(.trainStep, x)) { ws in
            let r = try fastStyleLossAndGradients(x, objective: objective, workspace: ws)
            return (r.loss, r.gradients)
        }
    }

    /// The loss, each part of it (content, each style layer, tv) and the
    /// decoder's gradients, the decoder's activations from `workspace`.
    func fastStyleLossAndGradients(_ x: Tensor, objective o: FastStyleObjective, workspace ws: Workspace) throws
        -> (loss: Double, parts: [Double], gradients: [String: Tensor]) {
        let pass = try encoderForward(x, keep: false, workspace: ws)
        let content = o.contentLayer == cutIndex ? pass.features
            : try encoderForward(x, keep: false, through: o.contentLayer).features
        let (output, cache) = try decodeKeeping(pass.features, trace: pass.trace, keep: true, workspace: ws)
        let terms = [SynthesisTerm(layer: o.contentLayer, name: o.contentName, weight: o.contentWeight,
                                   target: .features(content, o.synthesis.featureNormalization))] + o.styleTerms
        let e = try SynthesisObjective(model: self, terms: terms, options: o.synthesis).evaluate(output)
        // The output gradient in a workspace buffer: decoderBackward gives it
        // back to the workspace, which then stays balanced step after step.
        var gradOutput = try uninitializedTensor(output.shape, what: "fast-style output gradient", workspace: ws)
        gradOutput.data.withUnsafeMutableBufferPointer { g in
            e.gradient.data.withUnsafeBufferPointer { s in
                for i in 0..<g.count { g[i] = s[i] }
            }
        }
        let grads = try decoderBackward(cache: cache, trace: pass.trace, gradOutput: gradOutput, workspace: ws)
        ws.recycle(pass.features)
        for t in cache.outputs { ws.recycle(t) }
        for s in pass.trace.switches.values { ws.recycle(s) }
        return (e.value, e.parts, grads)
    }
}
