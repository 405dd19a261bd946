// The settings every image-optimisation task shares (invert, texture,
// style): the optimiser on the pixels, the image priors, the start, the
// scales and the seed. One home for their names and defaults; the C shim,
// Python and the CLI translate from here.

/// The optimiser that moves the pixels.
public enum SynthesisOptimizer: String, CaseIterable, Sendable {
    /// `PixelAdam`: one step per gradient.
    case adam
    /// `lbfgsMinimize`: one step is one L-BFGS iteration (its line search
    /// may evaluate the loss several times).
    case lbfgs
}

/// Where the optimisation starts.
public enum SynthesisStart: String, CaseIterable, Sendable {
    /// Seeded white noise, uniform in (0, 1) (`whiteNoiseImage`).
    case noise
    /// The content image (style transfer only; the other tasks have none).
    case content
}

/// Options of `Model.invert`, `Model.texture` and `Model.style`.
public struct SynthesisOptions: Equatable, Sendable {
    /// Optimiser steps at each scale (at least 1).
    public var steps = 200
    public var optimizer: SynthesisOptimizer = .adam
    /// Adam's step size in pixel units (images are in [0, 1]).
    public var learningRate = 0.05
    /// Keep every pixel in [0, 1] after each step.
    public var clamp = true
    /// Coarse-to-fine scales (1: only the final size); scale i of n runs at
    /// the final size / scaleFactor^(n - 1 - i) (`coarseToFineSizes`).
    public var scales = 1
    public var scaleFactor = 2.0
    /// Seed of the white-noise start (stream `synthesis.start`).
    public var seed: UInt64 = 0
    public var start: SynthesisStart = .noise
    /// beta-TV prior (`totalVariationLoss`) weight and exponent; 0: off.
    public var tvWeight = 0.0
    public var tvBeta = 2.0
    /// alpha-norm prior (`alphaNormLoss`, centred at 0.5) weight and exponent; 0: off.
    public var alphaWeight = 0.0
    public var alpha = 6.0
    /// Normalisation of the feature (inversion, content) losses.
    public var featureNormalization: FeatureLossNormalization = .relative
    /// Normalisation of the Gram (texture, style) losses.
    public var gramNormalization: GramNormalization = .scaled

    public init() {}

    /// Throws `.argument` naming the first bad option.
    func validate(op: String) throws {
        guard steps >= 1, steps <= 1_000_000 else {
            throw RWCNNError.argument("\(op): steps must be in 1...1000000, got \(steps)")
        }
        guard learningRate.isFinite, learningRate > 0 else {
            throw RWCNNError.argument("\(op): learning rate must be finite and positive, got \(learningRate)")
        }
        guard scales >= 1, scales <= 16 else { throw RWCNNError.argument("\(op): scales must be in 1...16, got \(scales)") }
        guard scaleFactor.isFinite, scaleFactor > 1, scaleFactor <= 16 else {
            throw RWCNNError.argument("\(op): scale factor must be in (1, 16], got \(scaleFactor)")
        }
        for (name, w) in [("tv weight", tvWeight), ("alpha-norm weight", alphaWeight)] {
            guard w.isFinite, w >= 0 else { throw RWCNNError.argument("\(op): \(name) must be finite and at least 0, got \(w)") }
        }
        for (name, e) in [("tv beta", tvBeta), ("alpha", alpha)] {
            guard e.isFinite, e >= 1, e <= 64 else { throw RWCNNError.argument("\(op): \(name) must be in [1, 64], got \(e)") }
        }
    }
}

/// One step's report to a task's progress callback.
public struct SynthesisProgress {
    /// Steps completed over all scales, and the run's total (scales x steps).
    public var step: Int
    public var steps: Int
    /// The current scale (1-based) and the number of scales.
    public var scale: Int
    public var scales: Int
    /// The total loss at the current image (after the step for L-BFGS,
    /// before it for Adam, whose step needs that evaluation's gradient).
    public var loss: Double
    /// The current image [N, C, H, W] (at the current scale's size).
    public var image: Tensor
    /// Seconds since the task started.
    public var seconds: Double
}

/// The outcome of a task.
public struct SynthesisResult {
    /// The synthesised image(s), [N, C, H, W].
    public var image: Tensor
    /// The total loss after each step, in order over the scales.
    public var losses: [Double]
    /// The final image's total loss, and each term's part of it (in the
    /// order `terms` names them).
    public var finalLoss: Double
    public var termLosses: [Double]
    /// Name of each term: "feature:<layer>", "gram:<layer>", "tv", "alpha".
    public var terms: [String]
    /// The total loss of the start image at the final size (the noise, or
    /// the content for a content start): what the run improved on.
    public var startLoss: Double
    public var steps: Int
    public var seconds: Double
}
