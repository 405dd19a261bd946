// The paper's studies (arXiv 1704.00330) as sweeps of runs. A run is one
// model (or baseline) scored on the held-out crops; a study is the list of
// its runs, fixed by its name and settings, so an interrupted study can be
// resumed by skipping the runs already recorded.

/// The studies `rwcnn study` runs.
public enum StudyName: String, CaseIterable {
    /// Claim 1: a trained decoder at every cut, beside its random decoder and
    /// the bicubic resolution baseline.
    case layers
    /// Claim 2: weight distributions at equal variance, and a fixed small std, over seeds.
    case distributions
    /// Claim 3: purely random CNN-DeCNN per cut, plain and colour-invariant
    /// scores beside the cross-image baseline.
    case random
    /// Claim 4: the one-layer theory, and tied against random decoders per cut.
    case tied
    /// Claim 5: width multipliers 1/8 to 2.
    case width
    /// Claim 6: the same depth with and without pooling; kernel sizes 1 to 7.
    case shape
    /// Claim 7: unpooling by switches, nearest and zeros.
    case unpool

    /// What the study checks, for help text and the report.
    public var claim: String {
        switch self {
        case .layers: return "A decoder trained on a random CNN reconstructs every layer; quality falls with depth."
        case .distributions: return "The weight distribution hardly matters (equal variance; a fixed small std beside He)."
        case .random: return "A purely random CNN-DeCNN keeps positions at low layers and loses colours."
        case .tied: return "The tied (adjoint) random decoder: cos(x, W^T relu(W x)) ≈ (1 + 2n/N)^(-1/2); tied against independent random decoders."
        case .width: return "More feature maps give better reconstructions."
        case .shape: return "Feature-map shape: the same depth with and without pooling, and kernel sizes 1, 3, 5, 7."
        case .unpool: return "Unpooling by switches, nearest or zeros, for trained and random decoders."
        }
    }

    /// Training steps of a full (non-quick) run, sized so a study takes at
    /// most about 30 minutes on 2 cores.
    var fullSteps: Int {
        switch self {
        case .layers: return 400
        case .distributions, .width: return 200
        case .shape, .unpool: return 300
        case .random, .tied: return 0
        }
    }
}

/// How a run reconstructs.
public enum StudyMethod: String, CaseIterable {
    case trained, random, tied
    /// The image reduced to the cut's resolution and resized back bicubically.
    case bicubic
    /// The one-layer adjoint check (no images).
    case theory
}

/// The protocol shared by every run of a study.
public struct StudySettings: Equatable {
    public var dataFolder: String
    /// Held-out folder; nil for a seeded split of `dataFolder`.
    public var evalFolder: String? = nil
    public var evalFraction: Double = 0.3
    public var crop: Int = 64
    public var shortSide: Int = 128
    /// Training steps; nil for the study's default.
    public var steps: Int? = nil
    public var batchSize: Int = 8
    public var learningRate: Double = 1e-3
    public var dataSeed: UInt64 = 0
    /// Model seeds of the studies that repeat over seeds (distributions, random).
    public var seeds: [UInt64] = [0, 1, 2]
    /// Samples per point of the theory check.
    public var theorySamples: Int = 400
    public var quick: Bool = false

    public init(dataFolder: String, quick: Bool = false) {
        self.dataFolder = dataFolder
        self.quick = quick
        if quick {
            crop = 32; shortSide = 48; batchSize = 2; theorySamples = 100
        }
    }

    public func steps(for study: StudyName) -> Int {
        if let steps { return steps }
        return quick ? (study.fullSteps > 0 ? 8 : 0) : study.fullSteps
    }

    /// Checkpoint interval of trained runs (so an interrupted run resumes near where it stopped).
    var checkpointEvery: Int { quick ? 2 : 50 }

    func validate() throws {
        guard !dataFolder.isEmpty else { throw RWCNNError.argument("a study needs a data folder") }
        // Whether the crop survives each cut's pools is checked per run (StudyData).
        guard crop >= 11, crop <= 4096 else {
            throw RWCNNError.argument("study crop must be in 11...4096 (SSIM needs 11 pixels), got \(crop)")
        }
        guard !seeds.isEmpty, seeds.count <= 64 else { throw RWCNNError.argument("a study needs 1...64 seeds") }
        guard theorySamples >= 1, theorySamples <= 100_000 else { throw RWCNNError.argument("theory samples must be in 1...100000") }
        if let steps, steps < 0 || steps > 1_000_000 { throw RWCNNError.argument("steps must be in 0...1000000, got \(steps)") }
    }

    /// The settings as recorded with every run (a resumed study must match).
    public var json: JSONValue {
        .object([
            ("data", .string(dataFolder)), ("eval", evalFolder.map { .string($0) } ?? .null),
            ("eval_fraction", .number(evalFraction)), ("crop", .number(Double(crop))),
            ("short_side", .number(Double(shortSide))), ("batch", .number(Double(batchSize))),
            ("learning_rate", .number(learningRate)), ("optimizer", .string("adam")),
            ("data_seed", .number(Double(dataSeed))), ("theory_samples", .number(Double(theorySamples))),
            ("quick", .bool(quick)),
        ])
    }
}

/// One run of a study.
public struct StudyRun {
    public var study: StudyName
    public var method: StudyMethod
    /// The model (for bicubic: the architecture and cut whose resolution is used).
    public var config: ModelConfig
    /// The value the study sweeps, as shown on the report's axis ("pool2", "laplace", "0.5").
    public var x: String
    /// Training steps (trained runs).
    public var steps: Int = 0
    /// For theory runs: inputs n and outputs N of the layer.
    public var theory: (inputs: Int, outputs: Int)? = nil

    /// A name unique within the study, stable across versions of the plan.
    public var id: String {
        if let t = theory { return "\(study.rawValue)/theory/n\(t.inputs)/N\(t.outputs)" }
        let w = config.weightInit
        let scale: String
        switch w.scale { case .he: scale = "he"; case .glorot: scale = "glorot"; case .fixed(let s): scale = "std\(s)" }
        return [study.rawValue, method.rawValue, config.arch, config.cut, "w\(config.width)",
                "k\(config.kernelSize.map(String.init) ?? "arch")", "\(w.distribution.rawValue)-\(scale)",
                config.unpool.rawValue, "seed\(config.seed)", method == .trained ? "steps\(steps)" : nil]
            .compactMap { $0 }.joined(separator: "/")
    }
}

/// The cuts of VGG16 the studies sweep (every block's last layer).
public let studyCuts = ["conv1_2", "pool1", "pool2", "pool3", "pool4", "pool5"]

extension StudyName {
    /// The runs of this study under `settings`, in the order they run.
    public func runs(_ settings: StudySettings) -> [StudyRun] {
        let steps = settings.steps(for: self)
        func run(_ method: StudyMethod, _ x: String, cut: String = "pool2", arch: String = "vgg16", width: Double = 1,
                 kernel: Int? = nil, weights: WeightInit = WeightInit(), seed: UInt64 = 0,
                 unpool: UnpoolMode = .switches) -> StudyRun {
            let decoder: DecoderMode = method == .tied ? .tied : method == .trained ? .trained : .random
            return StudyRun(study: self, method: method,
                            config: ModelConfig(arch: arch, cut: cut, width: width, kernelSize: kernel, weightInit: weights,
                                                seed: seed, unpool: unpool, decoder: decoder),
                            x: x, steps: method == .trained ? steps : 0)
        }
        switch self {
        case .layers:
            return studyCuts.flatMap { cut in [StudyMethod.trained, .random, .bicubic].map { run($0, cut, cut: cut) } }
        case .distributions:
            let inits: [(String, WeightInit)] = Distribution.allCases.map { ($0.rawValue, WeightInit(distribution: $0)) }
                + [("normal std 0.01", WeightInit(distribution: .normal, scale: .fixed(std: 0.01)))]
            return settings.seeds.flatMap { seed in
                inits.flatMap { name, w in [StudyMethod.trained, .random].map { run($0, name, weights: w, seed: seed) } }
            }
        case .random:
            return settings.seeds.flatMap { seed in studyCuts.map { run(.random, $0, cut: $0, seed: seed) } }
        case .tied:
            let widths = settings.quick ? [16, 64, 256, 1024] : [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096]
            let theory = widths.map { n -> StudyRun in
                var r = run(.theory, "\(n)")
                r.theory = (inputs: 27, outputs: n)
                return r
            }
            return theory + studyCuts.flatMap { cut in [StudyMethod.tied, .random].map { run($0, cut, cut: cut) } }
        case .width:
            return [0.125, 0.25, 0.5, 1, 2].flatMap { w in
                [StudyMethod.trained, .random].map { run($0, shortNumber(w), width: w) }
            }
        case .shape:
            // Same four convs to the cut: VGG16's with its two pools, and without.
            let pooled = [StudyMethod.trained, .random].map { run($0, "with pools", cut: "pool2") }
            let flat = [StudyMethod.trained, .random].map { run($0, "no pools", cut: "conv1_4", arch: "64,64,128,128") }
            let kernels = [1, 3, 5, 7].flatMap { (k: Int) -> [StudyRun] in
                [StudyMethod.trained, .random].map { run($0, "k\(k)", kernel: k) }
            }
            return pooled + flat + kernels
        case .unpool:
            return UnpoolMode.allCases.flatMap { u in [StudyMethod.trained, .random].map { run($0, u.rawValue, unpool: u) } }
        }
    }
}

/// 0.125 -> "0.125", 2 -> "2".
func shortNumber(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}
