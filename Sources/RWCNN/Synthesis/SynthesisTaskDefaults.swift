// Per-task defaults of the image-optimisation tasks: the one home of what
// invert, texture and style start from (options, the model they advise and
// style's layers and weight). The C shim (rwcnn_synthesis_options_init_task,
// rwcnn_synthesis_task_defaults and NULL options), Python (None = the
// library's default) and the CLI read them from here.
//
// Why they differ (docs/ENGINE.md, "Synthesis"): with pixels in [0, 1] and
// zero biases, a random filter answers mostly the image's mean colour, so
// the Grams of an uncentred input are dominated by it and 200 Adam steps
// leave the texture free. Texture and style therefore take L-BFGS on a
// model that centres its input (ImageNet mean/std); inversion does better
// with Adam on the raw input (PSNR 14.9 against 11.5 dB centred at conv3_1).

/// The image-optimisation tasks, for their defaults.
public enum SynthesisTask: String, CaseIterable, Sendable {
    case invert, texture, style

    /// Whether the task's model should centre its input
    /// (`ModelConfig.normalizeInput`): the model is the caller's, so this is
    /// the recommendation the CLI and Python follow when they build it.
    public var centredInput: Bool { self != .invert }

    /// The architecture the CLI and Python build the task's model from when
    /// the caller names none: average pools for texture and style (Gatys and
    /// He synthesise with them), VGG16's max pools for inversion.
    public var defaultArch: String { self == .invert ? "vgg16" : "vgg16-avg" }
}

/// Style transfer's layers and content weight when the caller names none:
/// Gatys et al.'s choice (content at conv4_2, style at the first conv of
/// each block, every term weight 1).
public enum StyleDefaults {
    public static let contentLayer = "conv4_2"
    public static let styleLayers = ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]
    public static let contentWeight = 1.0
}

extension SynthesisOptions {
    /// The defaults of `task`: `SynthesisOptions()` for invert; L-BFGS for
    /// texture and style.
    public init(task: SynthesisTask) {
        self.init()
        switch task {
        case .invert: break
        case .texture, .style: optimizer = .lbfgs
        }
    }
}
