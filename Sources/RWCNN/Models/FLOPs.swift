// Operation counts of the paper's workload, for throughput figures
// (`rwcnn benchmark`, scripts/bench-torch): counted once, here, from the
// architecture alone.

extension Architecture {
    /// Floating-point operations of one image's encoder pass up to layer
    /// `cut` (an index into `layers`) at `height` x `width`: 2 x the
    /// multiply-adds of every convolution computed directly (Winograd
    /// performs fewer, so its rate can pass the sgemm rate). Pools, ReLUs
    /// and biases are not counted.
    public func encoderFLOPs(cut: Int, height: Int, width: Int) throws -> Double {
        guard layers.indices.contains(cut) else {
            throw RWCNNError.argument("encoderFLOPs: layer index \(cut) is outside 0..<\(layers.count)")
        }
        let shapes = try self.shapes(height: height, width: width, through: cut)
        var total = 0.0
        for i in 0...cut where layers[i].isConv {
            total += convFLOPs(layer: i, output: shapes[i])
        }
        return total
    }

    /// Floating-point operations of one image's decoder training step with
    /// the cut at layer `cut`, counted as the PyTorch reference harness
    /// does: encoder forward + decoder forward + decoder weight gradients +
    /// decoder input gradients, the last without the deepest layer's (the
    /// features need no gradient) = 4 x the encoder's convolutions minus the
    /// deepest one.
    public func trainStepFLOPs(cut: Int, height: Int, width: Int) throws -> Double {
        let encoder = try encoderFLOPs(cut: cut, height: height, width: width)
        guard let deepest = (0...cut).last(where: { layers[$0].isConv }) else { return 0 }
        let shapes = try self.shapes(height: height, width: width, through: cut)
        return 4 * encoder - convFLOPs(layer: deepest, output: shapes[deepest])
    }

    /// 2 x Cout x Cin x k x k x (output pixels) of conv layer `i`.
    private func convFLOPs(layer i: Int, output shape: [Int]) -> Double {
        let l = layers[i]
        return 2 * Double(l.outChannels) * Double(l.inChannels) * Double(l.kernel * l.kernel)
            * Double(shape[1]) * Double(shape[2])
    }
}
