// Per-task defaults of the image-optimisation tasks: the one home of what
// invert, texture and style start from. The C shim (rwcnn_synthesis_options_init_task
// and NULL options), Python (None = the library's default) and the CLI read
// them from here.
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
