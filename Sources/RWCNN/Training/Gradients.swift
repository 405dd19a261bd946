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
        let (features, trace) = try encodeWithTrace(target)
        let (output, cache) = try decodeKeeping(features, trace: trace, keep: true)
        let context = self.context
        let loss = try mseForward(prediction: output, target: target, context: context)
        let grads = try decoderBackward(cache: cache, trace: trace,
                                        gradOutput: mseBackward(prediction: output, target: target, context: context))
        return (loss, grads)
    }
}
