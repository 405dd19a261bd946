extension Model {
    /// The reconstruction loss mean((decode(encode(x)) - x)^2) for a batch
    /// [N, C, H, W] and its gradient w.r.t. every decoder parameter
    /// (`decoder.<layer>.weight|bias`). The encoder is held fixed. Useful for
    /// custom training loops; `train` uses it for every step.
    public func reconstructionLossAndGradients(_ images: Tensor) throws -> (loss: Double, gradients: [String: Tensor]) {
        guard config.decoder != .tied else {
            throw RWCNNError.argument("a tied decoder has no parameters of its own to differentiate")
        }
        let target = try batched(images)
        try checkWorkingMemory(.gradients, batch: target.shape[0], height: target.shape[2], width: target.shape[3],
                               context: context)
        return try plans.with(planKey(.trainStep, target)) { ws in try lossAndGradients(target, workspace: ws) }
    }

    /// `reconstructionLossAndGradients` of a batch [N, C, H, W] with every
    /// buffer from `workspace` (a training step's plan): the activations and
    /// gradients of the pass go back to it, only the returned gradients stay
    /// out (give them back with `workspace.recycle` once applied).
    func lossAndGradients(_ target: Tensor, workspace ws: Workspace) throws -> (loss: Double, gradients: [String: Tensor]) {
        let pass = try encoderForward(target, keep: false, workspace: ws)
        let (output, cache) = try decodeKeeping(pass.features, trace: pass.trace, keep: true, workspace: ws)
        let context = self.context
        let loss = try mseForward(prediction: output, target: target, context: context)
        let grads = try decoderBackward(cache: cache, trace: pass.trace,
                                        gradOutput: mseBackward(prediction: output, target: target, context: context,
                                                                workspace: ws),
                                        workspace: ws)
        // Every layer's output (the next layer's input) and the features,
        // once each, then the switches.
        ws.recycle(pass.features)
        for t in cache.outputs { ws.recycle(t) }
        for s in pass.trace.switches.values { ws.recycle(s) }
        return (loss, grads)
    }
}
