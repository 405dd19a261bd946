// How a decoder's raw output becomes a viewable image: the one place that
// decides between display normalisation and clamping, so the CLI, the C
// ABI, Python, evaluation and the studies show and score outputs alike.

/// How raw reconstructions are mapped to [0, 1] for viewing and scoring.
public enum DisplayRule: String, CaseIterable, Sendable {
    /// Each image by its own minimum and maximum (`displayNormalize`): for
    /// outputs of arbitrary scale and offset.
    case normalize
    /// Every value clamped to [0, 1] (`clampedToUnit`): for outputs that
    /// estimate the image itself.
    case clamp

    /// The rule for a decoder: random and tied decoders give an arbitrary
    /// scale (nothing fitted them to pixels), so they are normalised; a
    /// trained decoder was fitted to the pixels by MSE, so it is clamped
    /// (normalising would hide its errors of scale and offset).
    public init(decoder: DecoderMode) {
        self = decoder == .trained ? .clamp : .normalize
    }

    /// `images` ([C, H, W] or [N, C, H, W]) mapped to [0, 1] by this rule.
    public func apply(_ images: Tensor) -> Tensor {
        switch self {
        case .normalize: return displayNormalize(images)
        case .clamp: return clampedToUnit(images)
        }
    }
}

extension Model {
    /// The rule for this model's decoder (see `DisplayRule.init(decoder:)`).
    public var displayRule: DisplayRule { DisplayRule(decoder: config.decoder) }

    /// Raw reconstructions of this model as viewable images in [0, 1]:
    /// display-normalised for random and tied decoders, clamped for a
    /// trained one.
    public func forDisplay(_ reconstruction: Tensor) -> Tensor {
        displayRule.apply(reconstruction)
    }
}
