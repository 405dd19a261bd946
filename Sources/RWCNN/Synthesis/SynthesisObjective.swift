// One objective over the pixels: losses on the features of named encoder
// layers (feature MSE, Gram) plus the image priors, and its gradient with
// respect to the image through the encoder's backwardData chain.
//
// Evaluation: one encoder forward through the deepest loss layer, keeping
// every activation; each term's loss and dL/dF at its layer (terms at the
// same layer add up); one backward chain from the deepest layer to the
// pixels, each shallower layer's dL/dF added as the chain passes it
// (`encoderBackwardData(_:gradFeatures:gradAt:)`); then the priors on the
// pixels.

/// What one term compares at its layer.
enum SynthesisTarget {
    /// Features [N, C, H, W] of the layer (inversion, style content).
    case features(Tensor, FeatureLossNormalization)
    /// Gram matrices [N, C, C] or [C, C] (texture, style).
    case gram(Tensor, GramNormalization)
}

/// A weighted loss at one encoder layer.
struct SynthesisTerm {
    let layer: Int
    let name: String
    let weight: Double
    let target: SynthesisTarget
}

/// The loss of an image under a set of terms and priors.
struct SynthesisObjective {
    let model: Model
    let terms: [SynthesisTerm]
    let tvWeight: Double, tvBeta: Double
    let alphaWeight: Double, alpha: Double

    init(model: Model, terms: [SynthesisTerm], options: SynthesisOptions) {
        self.model = model
        self.terms = terms
        tvWeight = options.tvWeight; tvBeta = options.tvBeta
        alphaWeight = options.alphaWeight; alpha = options.alpha
    }

    var deepest: Int { terms.map(\.layer).max() ?? 0 }

    /// Names of the parts `evaluate` reports, in order.
    var partNames: [String] {
        terms.map(\.name) + (tvWeight > 0 ? ["tv"] : []) + (alphaWeight > 0 ? ["alpha"] : [])
    }

    /// The total loss at `image` [N, C, H, W], each part of it, and the
    /// gradient with respect to the image.
    /// Every buffer of the pass (activations, switches, the losses'
    /// gradients, the backward chain's) comes from the model's planned
    /// workspace for this size (`PlanKey.Job.synthesisStep`) and goes back to
    /// it, so a step after the first allocates only the gradient it returns.
    func evaluate(_ image: Tensor) throws -> (value: Double, parts: [Double], gradient: Tensor) {
        let x = try model.batched(image)
        return try model.plans.with(model.planKey(.synthesisStep, x)) { ws in try evaluate(x, workspace: ws) }
    }

    func evaluate(_ image: Tensor, workspace ws: Workspace) throws
        -> (value: Double, parts: [Double], gradient: Tensor) {
        let last = deepest
        let pass = try model.encoderForward(image, keep: true, through: last, workspace: ws)
        // Every kept output (the features are the last of them) and the
        // switches go back to the workspace once the gradient is made.
        defer {
            for t in pass.outputs { ws.recycle(t) }
            for s in pass.trace.switches.values { ws.recycle(s) }
        }
        var gradAt: [Int: Tensor] = [:]
        var parts: [Double] = []
        for term in terms {
            let f = pass.outputs[term.layer]
            let r: LossAndGradient
            switch term.target {
            case .features(let t, let norm):
                r = try featureLoss(features: f, target: t, weight: term.weight, normalization: norm, workspace: ws)
            case .gram(let t, let norm):
                r = try gramLoss(features: f, target: t, weight: term.weight, normalization: norm, workspace: ws)
            }
            parts.append(r.value)
            if var g = gradAt.removeValue(forKey: term.layer) {
                addInPlace(&g, r.gradient)
                ws.recycle(r.gradient)
                gradAt[term.layer] = g
            } else {
                gradAt[term.layer] = r.gradient
            }
        }
        // The chain takes every gradient at a layer and gives it back to the workspace.
        let top = try gradAt.removeValue(forKey: last)
            ?? zeroTensor(pass.features.shape, what: "feature gradient", workspace: ws)
        var gradient = try model.encoderBackwardData(pass, gradFeatures: consume top, gradAt: consume gradAt,
                                                     workspace: ws)
        func addPrior(_ r: LossAndGradient) {
            parts.append(r.value)
            addInPlace(&gradient, r.gradient)
            ws.recycle(r.gradient)
        }
        if tvWeight > 0 {
            addPrior(try totalVariationLoss(image: image, beta: tvBeta, weight: tvWeight, workspace: ws))
        }
        if alphaWeight > 0 {
            addPrior(try alphaNormLoss(image: image, alpha: alpha, center: 0.5, weight: alphaWeight, workspace: ws))
        }
        return (parts.reduce(0, +), parts, gradient)
    }
}
