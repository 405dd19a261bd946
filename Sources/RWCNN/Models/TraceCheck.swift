extension Model {
    /// Checks a trace handed in from outside (a caller's, possibly from
    /// another model or edited): every layer's input shape must be the one
    /// this model's encoder gives for the trace's input size, every pool
    /// before the cut needs its switches (one per pooled value, each inside
    /// its plane) when unpooling uses them, and `features` [N, C, h, w] must
    /// be the shape that pass ends with. Also bounds the decoder's working
    /// memory. All failures are `.argument`, so no trace can make a decode trap.
    func check(trace: EncoderTrace, features: [Int]) throws {
        guard trace.inputShapes.count == encoderLayers.count else {
            throw RWCNNError.argument("encoder trace has \(trace.inputShapes.count) layers; this model's encoder has \(encoderLayers.count) (to \(config.cut))")
        }
        let first = trace.inputShapes[0]
        guard first.count == 4, first[0] >= 1, first[1] == architecture.inputChannels else {
            throw RWCNNError.argument("encoder trace starts with shape \(first); expected [N, \(architecture.inputChannels), H, W]")
        }
        let n = first[0]
        try checkWorkingMemory(.decode, batch: n, height: first[2], width: first[3], context: context)
        let outputs = try architecture.shapes(height: first[2], width: first[3], through: cutIndex)
        var input = first
        for (i, layer) in encoderLayers.enumerated() {
            guard trace.inputShapes[i] == input else {
                throw RWCNNError.argument("encoder trace: input of \(layer.name) is \(trace.inputShapes[i]); this model gives \(input) for a \(first[2])x\(first[3]) input (a trace from another model?)")
            }
            let output = [n] + outputs[i]
            if !layer.isConv && layer.pooling == .max && config.unpool == .switches {  // an average pool has no switches
                guard let s = trace.switches[i] else {
                    throw RWCNNError.argument("encoder trace has no switches for \(layer.name)")
                }
                let needed = try checkedProduct(output, what: "encoder trace")
                guard s.count == needed else {
                    throw RWCNNError.argument("encoder trace: \(layer.name) has \(s.count) switches; its output \(output) needs \(needed)")
                }
                let plane = input[2] * input[3]
                if let bad = s.firstIndex(where: { $0 < 0 || Int($0) >= plane }) {
                    throw RWCNNError.argument("encoder trace: switch \(s[bad]) at \(bad) of \(layer.name) is outside its \(input[2])x\(input[3]) plane")
                }
            }
            input = output
        }
        guard features == input else {
            throw RWCNNError.argument("features have shape \(features); the trace is of features \(input)")
        }
    }
}
