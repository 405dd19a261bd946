extension Model {
    /// Replaces the encoder's weights with a torchvision VGG16/VGG19
    /// checkpoint converted to safetensors (names `features.<i>.weight` and
    /// `features.<i>.bias`, as written by scripts/export_torchvision_vgg.py).
    /// Only the layers up to the cut are read; other tensors are ignored.
    /// Missing tensors, shape mismatches and non-finite values are `.format`
    /// errors naming the tensor.
    /// torchvision's models expect ImageNet-normalised input: create the
    /// model with `normalizeInput` for them. Needs exclusive use.
    public func loadTorchvisionEncoder(path: String) throws {
        try loadTorchvisionEncoder(file: SafetensorsFile.read(path: path), source: path)
    }

    /// As `loadTorchvisionEncoder(path:)`, from a decoded file.
    public func loadTorchvisionEncoder(file: SafetensorsFile, source: String) throws {
        var values: [String: Tensor] = [:]
        for layer in encoderLayers where layer.isConv {
            for part in ["weight", "bias"] {
                let torchName = "features.\(layer.torchIndex).\(part)"
                let name = "encoder.\(layer.name).\(part)"
                guard let t = file.tensor(named: torchName) else {
                    throw RWCNNError.format("\(source): tensor \(torchName) (for \(layer.name)) is missing")
                }
                guard let want = parameterShape(name) else { throw RWCNNError.internal("missing parameter \(name)") }
                guard t.shape == want else {
                    throw RWCNNError.format("\(source): tensor \(torchName) has shape \(t.shape); \(layer.name) of \(config.arch) (width \(config.width)) needs \(want)")
                }
                if let bad = t.data.firstIndex(where: { !$0.isFinite }) {
                    throw RWCNNError.format("\(source): tensor \(torchName) holds a non-finite value (\(t.data[bad]) at index \(bad))")
                }
                values[name] = t
            }
        }
        try setParameters(values)
        // A tied decoder reads the encoder's tensors, so it follows along.
    }
}
