// The companion tasks of He, Wang & Hopcroft (NIPS 2016) on a model's
// random encoder, by optimising the image itself:
// - invert: reconstruct images from their features at one layer;
// - texture: synthesise images whose Gram matrices at a set of layers match
//   those of a source image, at any size;
// - style: the content (features) of one image at a layer plus the style
//   (Grams) of another at a set of layers.
// Each task builds its `SynthesisTerm`s (per scale where the targets depend
// on the size) and hands them to one runner: Adam or L-BFGS on the pixels,
// coarse to fine, with a progress callback that can cancel.

/// Called after every step; return false to cancel (the task then throws
/// `RWCNNError.cancelled`). Runs on the calling thread.
public typealias SynthesisCallback = (SynthesisProgress) -> Bool

extension Model {
    /// Reconstructs `images` ([N, C, H, W] or [C, H, W] in [0, 1]) from
    /// their features at `layer` (at or before the cut): the feature loss
    /// (`options.featureNormalization`, relative by default) times `weight`,
    /// plus the optional priors, from seeded white noise. Batched: image n
    /// of the result inverts image n.
    ///
    /// ```swift
    /// let model = try Model(config: ModelConfig(arch: "vgg16", cut: "pool1"))
    /// let photo = try resizeBilinear(loadImageTensor(path: "data/images/astronaut.png"), height: 64, width: 64)
    /// let r = try model.invert(photo, layer: "pool1")
    /// try saveImageTensor(r.image.item(0), path: "out/invert.png")
    /// ```
    public func invert(_ images: Tensor, layer: String, weight: Double = 1,
                       options: SynthesisOptions = SynthesisOptions(task: .invert),
                       progress: SynthesisCallback? = nil) throws -> SynthesisResult {
        let op = "invert"
        try options.validate(op: op)
        guard options.start == .noise else {
            throw RWCNNError.argument("\(op): start must be noise (content is for style transfer)")
        }
        let x = try synthesisImages(images, "images", op: op)
        let l = try synthesisLayer(layer, op: op)
        try requireTaskWeight(weight, "weight", op: op)
        let sizes = try synthesisSizes(height: x.shape[2], width: x.shape[3], deepest: l, options: options, op: op)
        let start = try whiteNoiseImage(shape: [x.shape[0], x.shape[1], sizes[0].height, sizes[0].width],
                                        seed: options.seed)
        return try runSynthesis(start: start, sizes: sizes, options: options, progress: progress) { size in
            let source = try resizeBilinear(x, height: size.height, width: size.width)
            let target = try encoderForward(source, keep: true, through: l).outputs[l]
            return [SynthesisTerm(layer: l, name: "feature:\(architecture.layers[l].name)", weight: weight,
                                  target: .features(target, options.featureNormalization))]
        }
    }

    /// Synthesises `count` textures of `height` x `width` whose Gram
    /// matrices at `layers` match those of `source` ([C, H, W] or
    /// [1, C, H, W]; or [N, C, H, W] with count = N: texture n follows
    /// source n), weighted by `weights` (default 1 each). Gram losses use
    /// `options.gramNormalization` ("scaled", the relative Gram error, by
    /// default, so each layer's loss is 1 at a black image).
    public func texture(_ source: Tensor, layers: [String], weights: [Double]? = nil, height: Int, width: Int,
                        count: Int? = nil, options: SynthesisOptions = SynthesisOptions(task: .texture),
                        progress: SynthesisCallback? = nil) throws -> SynthesisResult {
        let op = "texture"
        try options.validate(op: op)
        guard options.start == .noise else {
            throw RWCNNError.argument("\(op): start must be noise (content is for style transfer)")
        }
        let s = try synthesisImages(source, "source", op: op)
        let (indices, w) = try synthesisLayers(layers, weights: weights, what: "layers", op: op)
        let n = count ?? s.shape[0]
        guard n >= 1, n <= 1024, s.shape[0] == 1 || s.shape[0] == n else {
            throw RWCNNError.argument("\(op): count must be in 1...1024 and match a batch of sources (\(s.shape[0])), got \(n)")
        }
        let deepest = indices.max()!
        _ = try synthesisSizes(height: s.shape[2], width: s.shape[3], deepest: deepest, options: SynthesisOptions(),
                               op: "\(op) source")
        let sizes = try synthesisSizes(height: height, width: width, deepest: deepest, options: options, op: op)
        let grams = try sourceGrams(s, layers: indices, shared: s.shape[0] == 1)
        let start = try whiteNoiseImage(shape: [n, s.shape[1], sizes[0].height, sizes[0].width], seed: options.seed)
        let terms = zip(indices, w).enumerated().map { k, lw in
            SynthesisTerm(layer: lw.0, name: "gram:\(architecture.layers[lw.0].name)", weight: lw.1,
                          target: .gram(grams[k], options.gramNormalization))
        }
        return try runSynthesis(start: start, sizes: sizes, options: options, progress: progress) { _ in terms }
    }

    /// Style transfer: the features of `content` ([N, C, H, W] or
    /// [C, H, W]) at `contentLayer`, weighted by `contentWeight`, plus the
    /// Grams of `style` (one image, shared by the batch, or N) at
    /// `styleLayers`, weighted by `styleWeights` (default 1 each). The result
    /// has the content's size; it starts from noise or, with
    /// `options.start = .content`, from the content image.
    public func style(content: Tensor, style: Tensor, contentLayer: String = StyleDefaults.contentLayer,
                      styleLayers: [String] = StyleDefaults.styleLayers,
                      contentWeight: Double = StyleDefaults.contentWeight, styleWeights: [Double]? = nil,
                      options: SynthesisOptions = SynthesisOptions(task: .style),
                      progress: SynthesisCallback? = nil) throws -> SynthesisResult {
        let op = "style"
        try options.validate(op: op)
        let c = try synthesisImages(content, "content", op: op)
        let s = try synthesisImages(style, "style", op: op)
        guard s.shape[0] == 1 || s.shape[0] == c.shape[0] else {
            throw RWCNNError.argument("\(op): give one style image or one per content image (\(c.shape[0])), got \(s.shape[0])")
        }
        guard s.shape[1] == c.shape[1] else {
            throw RWCNNError.argument("\(op): the style image has \(s.shape[1]) channels, the content \(c.shape[1])")
        }
        let cl = try synthesisLayer(contentLayer, op: op)
        try requireTaskWeight(contentWeight, "content weight", op: op)
        let (indices, w) = try synthesisLayers(styleLayers, weights: styleWeights, what: "style layers", op: op)
        let deepest = max(cl, indices.max()!)
        _ = try synthesisSizes(height: s.shape[2], width: s.shape[3], deepest: indices.max()!,
                               options: SynthesisOptions(), op: "\(op) style image")
        let sizes = try synthesisSizes(height: c.shape[2], width: c.shape[3], deepest: deepest, options: options, op: op)
        let grams = try sourceGrams(s, layers: indices, shared: s.shape[0] == 1)
        let start = try options.start == .content
            ? resizeBilinear(c, height: sizes[0].height, width: sizes[0].width)
            : whiteNoiseImage(shape: [c.shape[0], c.shape[1], sizes[0].height, sizes[0].width], seed: options.seed)
        let styleTerms = zip(indices, w).enumerated().map { k, lw in
            SynthesisTerm(layer: lw.0, name: "gram:\(architecture.layers[lw.0].name)", weight: lw.1,
                          target: .gram(grams[k], options.gramNormalization))
        }
        return try runSynthesis(start: start, sizes: sizes, options: options, progress: progress) { size in
            let source = try resizeBilinear(c, height: size.height, width: size.width)
            let target = try encoderForward(source, keep: true, through: cl).outputs[cl]
            return [SynthesisTerm(layer: cl, name: "feature:\(architecture.layers[cl].name)", weight: contentWeight,
                                  target: .features(target, options.featureNormalization))] + styleTerms
        }
    }

    // MARK: checks shared by the tasks

    /// A layer the task may use: known (any alias) and at or before the cut.
    func synthesisLayer(_ name: String, op: String) throws -> Int {
        let i = try architecture.index(of: name)
        guard i <= cutIndex else {
            throw RWCNNError.argument("\(op): layer \(architecture.layers[i].name) is past the model's cut \(config.cut); build the model with cut \(architecture.layers[i].name) or deeper")
        }
        return i
    }

    /// Resolved layers and their weights (default 1 each), checked.
    func synthesisLayers(_ names: [String], weights: [Double]?, what: String, op: String) throws -> ([Int], [Double]) {
        guard !names.isEmpty else {
            throw RWCNNError.argument("\(op): no \(what) given; name at least one, e.g. \(architecture.layers.prefix(3).map(\.name).joined(separator: ", "))")
        }
        guard names.count <= 256 else { throw RWCNNError.argument("\(op): \(names.count) \(what); at most 256") }
        let indices = try names.map { try synthesisLayer($0, op: op) }
        let w = weights ?? Array(repeating: 1, count: names.count)
        guard w.count == names.count else {
            throw RWCNNError.argument("\(op): \(w.count) weights for \(names.count) \(what); give one per layer")
        }
        for (name, v) in zip(names, w) { try requireTaskWeight(v, "weight of \(name)", op: op) }
        guard w.contains(where: { $0 > 0 }) else {
            throw RWCNNError.argument("\(op): every weight of the \(what) is 0; nothing to optimise")
        }
        return (indices, w)
    }

    func requireTaskWeight(_ w: Double, _ name: String, op: String) throws {
        guard w.isFinite, w >= 0 else { throw RWCNNError.argument("\(op): \(name) must be finite and at least 0, got \(w)") }
    }

    /// The images as [N, C, H, W] with finite values.
    func synthesisImages(_ t: Tensor, _ name: String, op: String) throws -> Tensor {
        let x = try batched(t)
        guard x.shape.allSatisfy({ $0 >= 1 }) else { throw RWCNNError.argument("\(op): \(name) of shape \(x.shape) is empty") }
        guard x.shape[1] == architecture.inputChannels else {
            throw RWCNNError.argument("\(op): \(name) has \(x.shape[1]) channels; the model expects \(architecture.inputChannels)")
        }
        guard x.data.allSatisfy({ $0.isFinite }) else { throw RWCNNError.argument("\(op): \(name) has non-finite values") }
        return x
    }

    /// The coarse-to-fine sizes ending at height x width, each checked to
    /// reach `deepest` (the clear "too small" error names the layer).
    func synthesisSizes(height: Int, width: Int, deepest: Int, options: SynthesisOptions,
                        op: String) throws -> [ImageSize] {
        guard height >= 1, width >= 1, height <= 1 << 14, width <= 1 << 14 else {
            throw RWCNNError.argument("\(op): image size \(height)x\(width) must be in 1...16384 on each side")
        }
        let sizes = try coarseToFineSizes(final: ImageSize(height: height, width: width), scales: options.scales,
                                          factor: options.scaleFactor)
        for (i, size) in sizes.enumerated() {
            do {
                _ = try architecture.shapes(height: size.height, width: size.width, through: deepest)
            } catch RWCNNError.argument(let m) {
                let at = sizes.count > 1 ? " at scale \(i + 1) of \(sizes.count)" : ""
                throw RWCNNError.argument("\(op): \(m) (the deepest loss layer is \(architecture.layers[deepest].name))\(at)")
            }
        }
        return sizes
    }

    /// Gram targets at each layer: [C, C] of the single source, or [N, C, C].
    func sourceGrams(_ source: Tensor, layers: [Int], shared: Bool) throws -> [Tensor] {
        let pass = try encoderForward(source, keep: true, through: layers.max()!)
        return try layers.map { l -> Tensor in
            let g = try gramMatrix(features: pass.outputs[l])
            return try shared ? g.reshaped(Array(g.shape.dropFirst())) : g
        }
    }

    // MARK: the runner

    /// Optimises `start` (at sizes[0]) through every size, the terms of
    /// each size from `terms`.
    func runSynthesis(start: Tensor, sizes: [ImageSize], options: SynthesisOptions,
                      progress: SynthesisCallback?,
                      terms: (ImageSize) throws -> [SynthesisTerm]) throws -> SynthesisResult {
        let began = monotonicSeconds()
        let total = options.steps * sizes.count
        var losses: [Double] = []
        losses.reserveCapacity(total)
        var image = start
        var startLoss = Double.nan
        var done = 0
        var objective = SynthesisObjective(model: self, terms: [], options: options)
        let box: ClosedRange<Float>? = options.clamp ? 0...1 : nil
        func report(_ loss: Double, _ pixels: [Float], _ shape: [Int], scale: Int) throws -> Bool {
            guard let progress else { return true }
            let p = SynthesisProgress(step: done, steps: total, scale: scale + 1, scales: sizes.count, loss: loss,
                                      image: try Tensor(shape: shape, data: pixels),
                                      seconds: monotonicSeconds() - began)
            return progress(p)
        }
        func cancelled() -> RWCNNError {
            .cancelled("synthesis cancelled after step \(done) of \(total)")
        }
        for (si, size) in sizes.enumerated() {
            objective = SynthesisObjective(model: self, terms: try terms(size), options: options)
            try checkWorkingMemory(.synthesisStep, batch: image.shape[0], height: size.height, width: size.width,
                                   through: objective.deepest, context: context)
            var x = try resizeBilinear(image, height: size.height, width: size.width)
            if let box {
                x.data.withUnsafeMutableBufferPointer { p in
                    for j in 0..<p.count { p[j] = min(max(p[j], box.lowerBound), box.upperBound) }
                }
            }
            let shape = x.shape
            switch options.optimizer {
            case .adam:
                var adam = try PixelAdam(count: x.count, learningRate: options.learningRate, clamp: box)
                var pixels = x.data
                for _ in 0..<options.steps {
                    let e = try objective.evaluate(try Tensor(shape: shape, data: pixels))
                    guard e.value.isFinite else {
                        throw RWCNNError.argument("synthesis: the loss became non-finite at step \(done + 1); lower the learning rate")
                    }
                    if startLoss.isNaN { startLoss = e.value }
                    try adam.step(parameters: &pixels, gradient: e.gradient.data)
                    losses.append(e.value)
                    done += 1
                    guard try report(e.value, pixels, shape, scale: si) else { throw cancelled() }
                }
                x = try Tensor(shape: shape, data: pixels)
            case .lbfgs:
                var lo = LBFGSOptions()
                lo.maxIterations = options.steps
                lo.clamp = box
                lo.gradientTolerance = 0
                lo.valueTolerance = 0
                var stop = false
                var failure: Error?
                let r = try lbfgsMinimize(start: x.data, options: lo, objective: { xs, g in
                    let e = try objective.evaluate(try Tensor(shape: shape, data: xs))
                    if startLoss.isNaN { startLoss = e.value }
                    g = e.gradient.data
                    return e.value
                }, onIteration: { p in
                    losses.append(p.value)
                    done += 1
                    do {
                        if try !report(p.value, p.x, shape, scale: si) { stop = true; return false }
                    } catch {
                        failure = error
                        return false
                    }
                    return true
                })
                if let failure { throw failure }
                if stop { throw cancelled() }
                x = try Tensor(shape: shape, data: r.x)
            }
            image = x
        }
        let last = try objective.evaluate(image)
        return SynthesisResult(image: image, losses: losses, finalLoss: last.value, termLosses: last.parts,
                               terms: objective.partNames, startLoss: startLoss, steps: done,
                               seconds: monotonicSeconds() - began)
    }
}

extension Architecture {
    /// The deepest of `layers` (any alias), by its rwcnn name: the cut a
    /// model needs to run a task on them.
    public func deepestLayer(of layers: [String]) throws -> String {
        guard !layers.isEmpty else { throw RWCNNError.argument("no layers given") }
        return self.layers[try layers.map { try index(of: $0) }.max()!].name
    }
}
