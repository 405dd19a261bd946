/// The decoder is the encoder's mirror, run from the cut back to the image:
/// a k x k conv (Cin -> Cout) becomes a k x k transposed conv (Cout -> Cin)
/// followed by ReLU, except the mirror of the first conv (it produces the
/// image, so it has no ReLU); a max pool becomes unpooling in the model's
/// mode. Weight layout [Cout, Cin, k, k] is PyTorch's ConvTranspose2d layout
/// (input channels first), so a tied decoder uses the encoder's tensor as is.

/// Activations kept by a decoder pass for its backward pass.
public struct DecoderCache {
    /// Input of each decoder step, in decoder order.
    var inputs: [Tensor] = []
    /// Output of each decoder step (after ReLU where there is one).
    var outputs: [Tensor] = []
}

extension Model {
    /// Encoder layer indices in decoder order (cut first).
    var decoderOrder: [Int] { Array((0...cutIndex).reversed()) }

    /// Images from features, given the trace of the encoder pass that made
    /// them (unpool sizes and switches). Returns the raw decoder output.
    /// Non-finite features are `.argument`.
    public func decode(_ features: Tensor, trace: EncoderTrace) throws -> Tensor {
        try checkFinite(features, what: "features")
        let f = try batched(features)
        try check(trace: trace, features: f.shape)
        return try decodeKeeping(f, trace: trace, keep: false).output
    }

    /// Images from features alone. Unpooled sizes are taken as the largest
    /// input each pool maps to the feature size; `switches` unpooling needs
    /// the encoder's trace and is an error here (use `reconstruct`).
    public func decode(_ features: Tensor) throws -> Tensor {
        let f = try batched(features)
        try checkFinite(f, what: "features")
        guard config.unpool != .switches || !encoderLayers.contains(where: { !$0.isConv && $0.pooling == .max }) else {
            throw RWCNNError.argument("decoding with unpool mode 'switches' needs the encoder's pooling switches; reconstruct from the images instead, or use unpool 'nearest' or 'zeros'")
        }
        let trace = try inferredTrace(featureShape: f.shape)
        try checkWorkingMemory(.decode, batch: f.shape[0], height: trace.inputShapes[0][2],
                               width: trace.inputShapes[0][3], context: context)
        return try decode(f, trace: trace)
    }

    /// Image shape [C, H, W] that `decode(_:)` makes from features of fh x fw.
    public func decodedShape(featureHeight: Int, featureWidth: Int) throws -> [Int] {
        let c = encoderLayers.last!.outChannels
        return Array(try inferredTrace(featureShape: [1, c, featureHeight, featureWidth]).inputShapes[0].dropFirst())
    }

    /// The trace that `decode(_:)` assumes for features of a given shape.
    func inferredTrace(featureShape: [Int]) throws -> EncoderTrace {
        let expected = encoderLayers.last!.outChannels
        guard featureShape.count == 4, featureShape[1] == expected else {
            throw RWCNNError.argument("features must be [N, \(expected), H, W] at \(config.cut), got \(featureShape)")
        }
        guard featureShape[2] >= 1, featureShape[3] >= 1 else {
            throw RWCNNError.argument("feature maps must be at least 1x1, got \(featureShape)")
        }
        var shape = featureShape
        var trace = EncoderTrace()
        trace.inputShapes = Array(repeating: [], count: encoderLayers.count)
        for i in decoderOrder {
            let layer = encoderLayers[i]
            if case .pool(let k, let s) = layer.kind {
                shape[2] = (shape[2] - 1) * s + k
                shape[3] = (shape[3] - 1) * s + k
                guard shape[2] <= 1 << 20, shape[3] <= 1 << 20 else {
                    throw RWCNNError.argument("features \(featureShape) would decode to more than 2^20 pixels a side")
                }
            }
            shape[1] = layer.inChannels
            trace.inputShapes[i] = shape
        }
        return trace
    }

    /// One decoder pass; with `keep` the activations are kept for `decoderBackward`.
    /// With a `workspace`, buffers come from it; without `keep`, each
    /// layer's input (but `features`) goes back to it once the layer has run.
    func decodeKeeping(_ features: Tensor, trace: EncoderTrace, keep: Bool,
                       workspace: Workspace? = nil) throws -> (output: Tensor, cache: DecoderCache) {
        var x = try batched(features)
        let expected = encoderLayers.last!.outChannels
        guard x.shape[1] == expected else {
            throw RWCNNError.argument("features have \(x.shape[1]) channels; \(config.cut) has \(expected)")
        }
        guard trace.inputShapes.count == encoderLayers.count else {
            throw RWCNNError.argument("encoder trace has \(trace.inputShapes.count) layers, the model \(encoderLayers.count)")
        }
        var cache = DecoderCache()
        let context = self.context
        let tied = config.decoder == .tied
        var owned = false  // x is a buffer of this pass, not `features`
        for layer in network.decoder {
            if keep { cache.inputs.append(x) }
            let y: Tensor
            switch layer {
            case .convTranspose(let conv):
                let weight = parameterBlock.view(conv.weight)
                y = try conv.forward(x, weight: weight, bias: conv.bias.map(parameterBlock.view),
                                     transformed: tied ? cachedTransform(layer: conv.index, transposed: true,
                                                                         input: x.shape, weight: weight,
                                                                         context: context) : nil,
                                     context: context, workspace: workspace)
            case .unpool(let unpool):
                y = try unpool.forward(x, outputShape: trace.inputShapes[unpool.index],
                                       switches: trace.switches[unpool.index], context: context,
                                       workspace: workspace)
            }
            if keep {
                cache.outputs.append(y)
            } else if owned {
                workspace?.recycle(x)
            }
            x = y
            owned = true
        }
        return (x, cache)
    }

    /// Gradients of a loss w.r.t. every decoder parameter, given the
    /// gradient at the decoder's output. Names as in `parameters`.
    /// With a `workspace`, buffers come from it, and every gradient passed
    /// down (`gradOutput` included) goes back to it once used.
    func decoderBackward(cache: DecoderCache, trace: EncoderTrace, gradOutput: Tensor,
                         workspace: Workspace? = nil) throws -> [String: Tensor] {
        var g = gradOutput
        var grads: [String: Tensor] = [:]
        let context = self.context
        // Gradients go down only as far as a layer with weights needs them:
        // past the convolution nearest the cut (the cut's mirror, or the one
        // below its unpooling) they would be thrown away.
        let cutSideConv = network.decoder.firstIndex { if case .convTranspose = $0 { return true } else { return false } }
        for (step, layer) in network.decoder.enumerated().reversed() {
            switch layer {
            case .convTranspose(let conv):
                let r = try conv.backward(g, input: cache.inputs[step], output: cache.outputs[step],
                                          weight: parameterBlock.view(conv.weight), needInputGradient: step > (cutSideConv ?? 0),
                                          context: context, workspace: workspace)
                let slots = parameterBlock.layout.slots
                grads[slots[conv.weight.index].name] = r.weight
                if let bias = conv.bias { grads[slots[bias.index].name] = r.bias }
                if let gi = r.input { workspace?.recycle(g); g = gi }
            case .unpool(let unpool):
                if step > (cutSideConv ?? 0) {
                    let gi = try unpool.backwardData(g, inputShape: cache.inputs[step].shape,
                                                     switches: trace.switches[unpool.index], context: context,
                                                     workspace: workspace)
                    workspace?.recycle(g)
                    g = gi
                }
            }
        }
        workspace?.recycle(g)
        return grads
    }
}
