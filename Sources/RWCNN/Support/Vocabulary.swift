/// The enums of the public API, each value with its name and the number the
/// C ABI pins for it (include/rwcnn.h): the one table that the C shim, the
/// Python binding and the CLI translate through. A name's number is its
/// index in `names`; a new value goes at the end.
public enum Vocabulary: Int, CaseIterable, Sendable {
    case distribution = 0, scaleRule = 1, unpoolMode = 2, decoderMode = 3, optimizer = 4, progressKind = 5
    // image synthesis
    case synthesisOptimizer = 6, synthesisStart = 7, featureNormalization = 8, gramNormalization = 9
    // metrics
    case colourMap = 10
    // image synthesis, continued
    case synthesisTask = 11

    /// What the C header calls the enum, for messages.
    public var cName: String {
        switch self {
        case .distribution: return "rwcnn_distribution"
        case .scaleRule: return "rwcnn_scale_rule"
        case .unpoolMode: return "rwcnn_unpool_mode"
        case .decoderMode: return "rwcnn_decoder_mode"
        case .optimizer: return "rwcnn_optimizer"
        case .progressKind: return "rwcnn_progress_kind"
        case .synthesisOptimizer: return "rwcnn_synthesis_optimizer"
        case .synthesisStart: return "rwcnn_synthesis_start"
        case .featureNormalization: return "rwcnn_feature_normalization"
        case .gramNormalization: return "rwcnn_gram_normalization"
        case .colourMap: return "rwcnn_colour_map"
        case .synthesisTask: return "rwcnn_synthesis_task"
        }
    }

    /// Names in number order.
    public var names: [String] {
        switch self {
        case .distribution: return Distribution.allCases.map(\.rawValue)
        case .scaleRule: return ScaleRule.names
        case .unpoolMode: return UnpoolMode.allCases.map(\.rawValue)
        case .decoderMode: return DecoderMode.allCases.map(\.rawValue)
        case .optimizer: return OptimizerKind.allCases.map(\.rawValue)
        case .progressKind: return ["step", "eval", "warning"]
        case .synthesisOptimizer: return SynthesisOptimizer.allCases.map(\.rawValue)
        case .synthesisStart: return SynthesisStart.allCases.map(\.rawValue)
        case .featureNormalization: return FeatureLossNormalization.allCases.map(\.rawValue)
        case .gramNormalization: return GramNormalization.allCases.map(\.rawValue)
        case .colourMap: return ColourMapKind.allCases.map(\.rawValue)
        case .synthesisTask: return SynthesisTask.allCases.map(\.rawValue)
        }
    }

    /// The name of `value`, or nil when it is not one of this enum's.
    public func name(of value: Int) -> String? {
        names.indices.contains(value) ? names[value] : nil
    }

    /// The number of `name` (case-insensitive); the error lists the names.
    public func value(of name: String) throws -> Int {
        guard let i = names.firstIndex(of: name.lowercased()) else {
            throw RWCNNError.argument("unknown \(cName) \"\(name)\"; valid: \(names.joined(separator: ", "))")
        }
        return i
    }

    /// The Swift value of a C number, for the String-backed enums.
    public func decode<T: RawRepresentable>(_ value: Int, as _: T.Type, field: String) throws -> T where T.RawValue == String {
        guard let name = name(of: value), let v = T(rawValue: name) else {
            throw RWCNNError.argument("\(field) \(value) is not an \(cName) (valid: \(names.enumerated().map { "\($0.offset) \($0.element)" }.joined(separator: ", ")))")
        }
        return v
    }
}

extension ScaleRule {
    /// The scale rules' names in C number order (`fixed` carries its std).
    public static let names = ["he", "glorot", "fixed"]
}

extension ScaleRule {
    /// This rule's name in `names` ("he", "glorot" or "fixed").
    public var name: String {
        switch self {
        case .he: return "he"
        case .glorot: return "glorot"
        case .fixed: return "fixed"
        }
    }

    /// The standard deviation of a `.fixed` rule, nil for the others.
    public var fixedStd: Double? {
        if case .fixed(let s) = self { return s }
        return nil
    }
}

extension WeightInit {
    /// The standard deviation a fixed scale rule takes when none is given
    /// (the C struct's `std`, Python's `std=None`, the CLI's `--scale fixed`).
    public static let defaultFixedStd = 0.01
}

/// The names of the training options, one per concept, spelled as the C
/// fields of `rwcnn_train_options` and Python's `train()` keywords are; the
/// CLI writes them with dashes (`--learning-rate`), the sweep grid and the
/// checkpoint's run record as they are. (C's typed `data_dir` / `images` /
/// `batch_fn` and `eval_dir` / `eval_images` are the forms of `data` and
/// `eval_data`; Python's `betas` is `beta1`, `beta2`.)
public enum TrainOptionName: String, CaseIterable, Sendable {
    case data, evalData = "eval_data", evalFraction = "eval_fraction", steps, batch, crop
    case shortSide = "short_side", resizeWhole = "resize_whole", flip, optimizer
    case learningRate = "learning_rate", momentum, beta1, beta2, epsilon, weightDecay = "weight_decay"
    case dataSeed = "data_seed", evalEvery = "eval_every", checkpoint, checkpointEvery = "checkpoint_every", resume

    /// The CLI's spelling without the leading dashes ("learning-rate").
    public var cliName: String { rawValue.split(separator: "_").joined(separator: "-") }
}
