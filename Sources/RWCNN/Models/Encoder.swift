/// What the encoder remembers for the decoder: each layer's input shape
/// (unpooling restores it exactly) and each pool's argmax switches.
public struct EncoderTrace {
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

    /// Features plus the trace the mirrored decoder needs.
    public func encodeWithTrace(_ images: Tensor) throws -> (features: Tensor, trace: EncoderTrace) {
        var x = try batched(images)
        guard x.shape[1] == architecture.inputChannels else {
            throw RWCNNError.argument("images have \(x.shape[1]) channels; the model expects \(architecture.inputChannels)")
        }
        try checkWorkingMemory(batch: x.shape[0], height: x.shape[2], width: x.shape[3])
        if config.normalizeInput { x = try imageNetNormalized(x) }
        var trace = EncoderTrace()
        for (i, layer) in encoderLayers.enumerated() {
            trace.inputShapes.append(x.shape)
            switch layer.kind {
            case .conv:
                x = try conv2dForward(input: x, weight: parameter("encoder.\(layer.name).weight"),
                                      bias: parameter("encoder.\(layer.name).bias"),
                                      stride: 1, padding: layer.padding)
                reluInPlace(&x)
            case .pool(let k, let s):
                let pooled = try maxPoolForward(input: x, kernel: k, stride: s)
                x = pooled.output
                trace.switches[i] = pooled.switches
            }
        }
        return (x, trace)
    }

    /// Largest working set (bytes) a pass may take; calls that would need
    /// more fail with `RWCNNError.outOfMemory` instead of exhausting memory.
    /// The process-wide `MemoryBudget.limit` (values below its minimum are raised to it).
    public static var workingMemoryLimit: Int {
        get { MemoryBudget.limit }
        set { try? MemoryBudget.setLimit(max(newValue, MemoryBudget.minimumLimit)) }
    }

    /// Checks the input size (clear errors for inputs too small for the
    /// pools) and estimates the largest working set of an encoder/decoder
    /// pass: three activations of the widest layer plus one image's im2col.
    func checkWorkingMemory(batch: Int, height: Int, width: Int) throws {
        let shapes = try architecture.shapes(height: height, width: width, through: cutIndex)
        var worst = 0.0
        var inShape = [architecture.inputChannels, height, width]
        for (layer, s) in zip(encoderLayers, shapes) {
            let act = Double(batch) * Double(max(s[0] * s[1] * s[2], inShape[0] * inShape[1] * inShape[2]))
            let col = Double(inShape[0] * layer.kernel * layer.kernel) * Double(s[1] * s[2])
            worst = max(worst, 4 * (3 * act + col))
            inShape = s
        }
        guard worst <= Double(Model.workingMemoryLimit) else {
            throw RWCNNError.outOfMemory("\(batch) image(s) of \(height)x\(width) need about \(Int(worst / 1e6)) MB of working memory, over the \(Model.workingMemoryLimit >> 20) MiB limit; use smaller or fewer images")
        }
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

    private func imageNetNormalized(_ x: Tensor) throws -> Tensor {
        guard x.shape[1] == 3 else {
            throw RWCNNError.argument("ImageNet normalisation needs 3 channels, got \(x.shape[1])")
        }
        var y = x
        let plane = x.shape[2] * x.shape[3]
        y.data.withUnsafeMutableBufferPointer { p in
            for n in 0..<x.shape[0] {
                for c in 0..<3 {
                    let base = (n * 3 + c) * plane
                    let m = ImageNetStats.mean[c], s = 1 / ImageNetStats.std[c]
                    for j in 0..<plane { p[base + j] = (p[base + j] - m) * s }
                }
            }
        }
        return y
    }
}
