/// Where the decoder's weights come from.
public enum DecoderMode: String, CaseIterable, Sendable {
    /// An independent random draw (the configured distribution and scale rule).
    case random
    /// The encoder's own weights: each transposed conv is the adjoint of its conv.
    case tied
    /// Trainable: He-scaled normal draw, biases zero; see `Trainer`.
    case trained
}

/// Everything needed to build a model; the same config and seed give the
/// same weights bit for bit.
public struct ModelConfig: Equatable, Sendable {
    /// `vgg16`, `vgg19` or a text spec (see `Architecture`).
    public var arch: String = "vgg16"
    /// The layer the encoder stops at (a conv includes its ReLU).
    public var cut: String = "pool2"
    /// Channel multiplier (each conv keeps at least one channel).
    public var width: Double = 1
    /// If set, every conv uses this odd kernel size.
    public var kernelSize: Int? = nil
    /// Distribution and scale rule of the encoder's (and random decoder's) weights.
    public var weightInit = WeightInit()
    public var seed: UInt64 = 0
    public var unpool: UnpoolMode = .switches
    public var decoder: DecoderMode = .random
    /// Subtract ImageNet's mean and divide by its std before the encoder
    /// (for torchvision-pretrained encoders).
    public var normalizeInput: Bool = false

    public init(arch: String = "vgg16", cut: String = "pool2", width: Double = 1, kernelSize: Int? = nil,
                weightInit: WeightInit = WeightInit(), seed: UInt64 = 0, unpool: UnpoolMode = .switches,
                decoder: DecoderMode = .random, normalizeInput: Bool = false) {
        self.arch = arch; self.cut = cut; self.width = width; self.kernelSize = kernelSize
        self.weightInit = weightInit; self.seed = seed; self.unpool = unpool
        self.decoder = decoder; self.normalizeInput = normalizeInput
    }
}

/// ImageNet statistics used by torchvision's pretrained VGGs.
public enum ImageNetStats {
    public static let mean: [Float] = [0.485, 0.456, 0.406]
    public static let std: [Float] = [0.229, 0.224, 0.225]
}
