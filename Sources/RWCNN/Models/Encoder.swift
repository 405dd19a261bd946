/// An encoder pass: the features, the trace, and (when kept) every layer's
/// output, which `encoderBackwardData` needs for the ReLU masks.
struct EncoderActivations {
    var features = Tensor(checkedZeros: [0])
    var trace = EncoderTrace()
    /// Output of each encoder layer (after its ReLU), in order; empty unless kept.
    var outputs: [Tensor] = []
}

/// What the encoder remembers for the decoder: each layer's input shape
/// (unpooling restores it exactly) and each pool's argmax switches. Encode
/// now, decode later: keep the trace of `encodeWithTrace` and hand it to
/// `decode(_:trace:)`, which checks it against the model and the features.
public struct EncoderTrace: Equatable, Sendable {
    /// Input shape [N, C, H, W] of each layer up to the cut.
    public var inputShapes: [[Int]] = []
    /// Switches of the pool at a layer index.
    public var switches: [Int: [Int32]] = [:]
}

extension Model {
    /// Features at the cut for a batch of images [N, C, H, W] (or one image
    /// [C, H, W]) in [0, 1]. Safe to call concurrently on one model.
    public func encode(_ images: Tensor) throws -> Tensor {
        try encodeWithTrace(images).features
    }

    /// Features plus the trace the mirrored decoder needs. Images must be
    /// finite and in [0, 1] (`checkPixelValues`: NaN, infinities and 0..255
    /// data are `.argument`).
    public func encodeWithTrace(_ images: Tensor) throws -> (features: Tensor, trace: EncoderTrace) {
        try checkPixelValues(images)
        let x = try batched(images)
        try checkWorkingMemory(.encode, batch: x.shape[0], height: x.shape[2], width: x.shape[3], context: context)
        let pass = try plans.with(planKey(.encode, x)) { ws in try encoderForward(x, keep: false, workspace: ws) }
        return (pass.features, pass.trace)
    }

    /// The plan key of `job` for a batch `x` [N, C, H, W].
    func planKey(_ job: PlanKey.Job, _ x: Tensor) -> PlanKey {
        PlanKey(job: job, batch: x.shape[0], height: x.shape[2], width: x.shape[3])
    }

    /// One encoder pass over `images` [N, C, H, W] (or [C, H, W]) in [0, 1].
    /// With `keep`, every layer's output is kept, for `encoderBackwardData`.
    /// `through`: stop after this encoder layer (default: the cut).
    func encoderForward(_ images: Tensor, keep: Bool, through last: Int? = nil) throws -> EncoderActivations {
        try encoderForward(images, keep: keep, through: last, workspace: nil)
    }

    /// `encoderForward(_:keep:through:)` with its buffers from `workspace`
    /// when given: without `keep`, each layer's input goes back to it as soon
    /// as the layer has run (the caller's images never do).
    func encoderForward(_ images: Tensor, keep: Bool, through last: Int? = nil,
                        workspace: Workspace?) throws -> EncoderActivations {
        var x = try batched(images)
        guard x.shape[1] == architecture.inputChannels else {
            throw RWCNNError.argument("images have \(x.shape[1]) channels; the model expects \(architecture.inputChannels)")
        }
        let context = self.context
        let stop = min(last ?? cutIndex, cutIndex)
        if workspace == nil {  // a planned pass's caller checked its whole job first
            try checkWorkingMemory(keep ? .encodeKeeping : .encode, batch: x.shape[0], height: x.shape[2],
                                   width: x.shape[3], through: stop, context: context)
        } else {
            _ = try architecture.shapes(height: x.shape[2], width: x.shape[3], through: stop)  // clear size errors
        }
        // Whether x is a buffer of this pass that nothing keeps (not the
        // caller's images, not a kept output).
        var owned = false
        if config.normalizeInput { x = try imageNetNormalized(x, workspace: workspace); owned = true }
        var pass = EncoderActivations()
        for layer in network.encoder.prefix(stop + 1) {
            pass.trace.inputShapes.append(x.shape)
            let y: Tensor
            switch layer {
            case .conv(let conv):
                let weight = parameterBlock.view(conv.weight)
                y = try conv.forward(x, weight: weight, bias: parameterBlock.view(conv.bias),
                                     transformed: cachedTransform(layer: conv.index, transposed: false, input: x.shape,
                                                                  weight: weight, context: context),
                                     context: context, workspace: workspace)
            case .maxPool(let pool):
                let pooled = try pool.forward(x, context: context, workspace: workspace)
                y = pooled.output
                pass.trace.switches[pool.index] = pooled.switches
            case .avgPool(let pool):
                y = try pool.forward(x, context: context, workspace: workspace)
            }
            if owned { workspace?.recycle(x) }
            if keep { pass.outputs.append(y) }
            x = y
            owned = !keep
        }
        pass.features = x
        return pass
    }

    /// The gradient of a loss with respect to the input images, given its
    /// gradient at the features (`gradFeatures`, the shape of
    /// `pass.features`) and an encoder pass run with `keep`: the
    /// `backwardData` chain of every layer (max pool, ReLU, convolution),
    /// down to the pixels, through the ImageNet normalisation if the model
    /// has it. The weights are not differentiated. Image optimisation
    /// (inversion, texture) is built on this pair. `gradAt[i]` (shaped like
    /// layer i's output) is added to the running gradient when the chain
    /// reaches layer i: the losses of shallower layers. Each convolution
    /// uses the model's cached flipped Winograd weights (as the tied decoder
    /// does). With a `workspace` the chain's buffers come from it and go
    /// back to it as they die, `gradFeatures` and the `gradAt` tensors among
    /// them (reusing a buffer the caller still holds is safe: writing
    /// through it copies it).
    func encoderBackwardData(_ pass: EncoderActivations, gradFeatures: consuming Tensor,
                             gradAt: consuming [Int: Tensor] = [:], workspace: Workspace? = nil) throws -> Tensor {
        guard !pass.outputs.isEmpty, pass.outputs.count == pass.trace.inputShapes.count else {
            throw RWCNNError.argument("the encoder pass was not run with keep: true")
        }
        guard gradFeatures.shape == pass.features.shape else {
            throw RWCNNError.argument("feature gradient has shape \(gradFeatures.shape), the features \(pass.features.shape)")
        }
        let context = self.context
        var g = consume gradFeatures
        for (i, layer) in network.encoder.prefix(pass.outputs.count).enumerated().reversed() {
            if let extra = gradAt.removeValue(forKey: i) {
                guard extra.shape == pass.outputs[i].shape else {
                    throw RWCNNError.argument("gradient at layer \(i) has shape \(extra.shape), its output \(pass.outputs[i].shape)")
                }
                addInPlace(&g, extra)
                workspace?.recycle(extra)
            }
            let inputShape = pass.trace.inputShapes[i]
            let gx: Tensor
            switch layer {
            case .conv(let conv):
                let weight = parameterBlock.view(conv.weight)
                gx = try conv.backwardData(g, output: pass.outputs[i], inputShape: inputShape, weight: weight,
                                           transformed: cachedTransform(layer: conv.index, transposed: true,
                                                                        input: g.shape, weight: weight,
                                                                        context: context),
                                           context: context, workspace: workspace)
            case .maxPool(let pool):
                gx = try pool.backwardData(g, switches: pass.trace.switches[pool.index] ?? [], inputShape: inputShape,
                                           context: context, workspace: workspace)
            case .avgPool(let pool):
                gx = try pool.backwardData(g, inputShape: inputShape, context: context, workspace: workspace)
            }
            workspace?.recycle(g)
            g = gx
        }
        if config.normalizeInput {
            // x_norm = (x - mean) / std per channel: d/dx = 1 / std.
            let plane = g.shape[2] * g.shape[3], batch = g.shape[0]
            g.data.withUnsafeMutableBufferPointer { p in
                for n in 0..<batch {
                    for c in 0..<3 {
                        let base = (n * 3 + c) * plane, s = 1 / ImageNetStats.std[c]
                        for j in 0..<plane { p[base + j] *= s }
                    }
                }
            }
        }
        return g
    }

    /// Largest working set (bytes) a pass may take; calls that would need
    /// more fail with `RWCNNError.outOfMemory` instead of exhausting memory.
    /// The default memory budget of every `ExecutionContext`: the process-wide `MemoryBudget.limit` (values below its minimum are raised to it).
    public static var workingMemoryLimit: Int {
        get { MemoryBudget.limit }
        set { try? MemoryBudget.setLimit(max(newValue, MemoryBudget.minimumLimit)) }
    }

    /// The cached Winograd weights of encoder layer `layer` (flipped for the
    /// tied decoder when `transposed`), when that pass takes the Winograd
    /// path with cached weights for an input of `input` [N,C,H,W] and the
    /// cache has room; nil otherwise (the kernel then decides alone).
    func cachedTransform(layer: Int, transposed: Bool, input: [Int], weight: any WeightValues,
                         context: ExecutionContext) -> [Float]? {
        let l = encoderLayers[layer]
        guard l.isConv, l.kernel == 3, input.count == 4 else { return nil }
        let p = transposed ? 2 - l.padding : l.padding
        let shape = WinogradShape(batch: input[0], cin: transposed ? l.outChannels : l.inChannels,
                                  cout: transposed ? l.inChannels : l.outChannels,
                                  height: input[2], width: input[3], padding: p)
        guard shape.pays(context.tuning, cached: true), transposed || l.padding <= 1 else { return nil }
        return transforms.weights(.init(layer: layer, transposed: transposed), shape: shape, weight: weight,
                                  limit: context.tuning.winogradCacheFloats, threads: context.threads)
    }

    /// [C,H,W] -> [1,C,H,W]; [N,C,H,W] unchanged; anything else is an error.
    func batched(_ t: Tensor) throws -> Tensor {
        switch t.rank {
        case 4: return t
        case 3: return try t.reshaped([1] + t.shape)
        default:
            throw RWCNNError.argument("expected images [N,C,H,W] or [C,H,W], got shape \(t.shape)")
        }
    }

    private func imageNetNormalized(_ x: Tensor, workspace: Workspace?) throws -> Tensor {
        guard x.shape[1] == 3 else {
            throw RWCNNError.argument("ImageNet normalisation needs 3 channels, got \(x.shape[1])")
        }
        var y = try uninitializedTensor(x.shape, what: "normalised images", workspace: workspace)
        let plane = x.shape[2] * x.shape[3]
        x.data.withUnsafeBufferPointer { src in
            y.data.withUnsafeMutableBufferPointer { p in
                for n in 0..<x.shape[0] {
                    for c in 0..<3 {
                        let base = (n * 3 + c) * plane
                        let m = ImageNetStats.mean[c], s = 1 / ImageNetStats.std[c]
                        for j in 0..<plane { p[base + j] = (src[base + j] - m) * s }
                    }
                }
            }
        }
        return y
    }
}
