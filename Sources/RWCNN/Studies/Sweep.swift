#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A sweep: a grid of settings (cut x width x distribution x seed ...), each
// combination one run that trains (or draws) a decoder and scores it on the
// held-out crops. Runs are numbered so that a job array (Slurm's
// $SLURM_ARRAY_TASK_ID) runs one each: `rwcnn sweep GRID.json --index I`.
//
// The grid file is one JSON object:
//
//     {
//       "data": "data/images",                     (folder of photos; required)
//       "eval_data": "held-out",                   (optional; else a seeded split)
//       "base": {"steps": 200, "crop": 64, "short_side": 128},
//       "grid": {"cut": ["pool1", "pool2"], "width": [0.5, 1],
//                "distribution": ["normal", "uniform"], "seed": [0, 1]}
//     }
//
// "base" holds single values and "grid" lists of values, both keyed by the
// setting names of `SweepSettings.keys`. Run I is the I-th combination of
// the grid's lists in row-major order: the last key varies fastest, as in
// nested loops (Python's itertools.product over the lists in file order).
// The names are the C fields' and Python's (`distribution`, `learning_rate`,
// `data_seed`); the older "init" and "lr" are read as those.

/// One run of a sweep, fully resolved.
public struct SweepRun: Sendable {
    public var index: Int
    /// Every setting of the run (base, then grid values), in key order.
    public var settings: [(String, JSONValue)]
    public var model: ModelConfig
    public var train: TrainOptions
}

/// The settings a grid may name, with their defaults.
public enum SweepSettings {
    /// Model settings, then training settings.
    public static let keys: [(name: String, help: String)] = [
        ("arch", "vgg16, vgg19 or a spec"), ("cut", "layer name (aliases too)"), ("width", "channel multiplier"),
        ("kernel_size", "odd kernel for every conv"), ("distribution", "normal, uniform, laplace or logistic"),
        ("scale", "he, glorot or a fixed std (number)"), ("mean", "mean of the weight draws"),
        ("seed", "weight seed"), ("unpool", "switches, nearest or zeros"),
        ("decoder", "trained (default), random or tied (no training)"),
        ("steps", "training steps"), ("batch", "batch size"), ("crop", "square crop side"),
        ("short_side", "resize the short side first (0 keeps)"), ("eval_fraction", "held-out share without eval_data"),
        ("learning_rate", "learning rate"), ("optimizer", "adam or sgd"), ("flip", "random flips (true/false)"),
        ("weight_decay", "L2"), ("data_seed", "seed of the split, order, crops and flips"),
        ("checkpoint_every", "steps between a run's checkpoints (with rwcnn sweep --out; default 100)"),
    ]

    /// Older names of settings, read as the new ones.
    public static let oldNames = ["init": "distribution", "lr": "learning_rate"]
}

/// A parsed grid file.
public struct Sweep: Sendable {
    public var data: String
    public var evalData: String?
    var base: [(String, JSONValue)]
    var grid: [(String, [JSONValue])]

    /// Number of runs (the product of the grid's list lengths; 1 for an empty grid).
    public var count: Int { grid.reduce(1) { $0 * $1.1.count } }

    /// Parses a grid file's bytes; every problem is `.argument` (or `.format`
    /// for JSON that does not parse) naming the key.
    public init(json bytes: [UInt8], source: String = "grid") throws {
        let root = try JSONValue.parse(bytes)
        guard case .object(let members) = root else { throw RWCNNError.argument("\(source): the grid file must be a JSON object") }
        var data: String? = nil
        base = []; grid = []
        let known = Set(SweepSettings.keys.map(\.name))
        func checkKey(_ k: inout String, in part: String) throws {
            k = SweepSettings.oldNames[k] ?? k
            guard known.contains(k) else {
                throw RWCNNError.argument("\(source): unknown setting \"\(k)\" in \(part); valid: \(SweepSettings.keys.map(\.name).joined(separator: ", "))")
            }
        }
        for (key, value) in members {
            switch (key, value) {
            case ("data", .string(let s)): data = s
            case ("eval_data", .string(let s)): evalData = s
            case ("eval_data", .null): evalData = nil
            case ("base", .object(let items)):
                for (key, v) in items { var k = key; try checkKey(&k, in: "base"); base.append((k, v)) }
            case ("grid", .object(let items)):
                for (key, v) in items {
                    var k = key
                    try checkKey(&k, in: "grid")
                    guard case .array(let values) = v, !values.isEmpty else {
                        throw RWCNNError.argument("\(source): grid \"\(k)\" must be a non-empty list of values")
                    }
                    grid.append((k, values))
                }
            default:
                throw RWCNNError.argument("\(source): unexpected \"\(key)\"; a grid file has \"data\" (string), \"eval_data\" (string), \"base\" (object) and \"grid\" (object of lists)")
            }
        }
        guard let data, !data.isEmpty else { throw RWCNNError.argument("\(source): \"data\" (a folder of photos) is required") }
        self.data = data
        guard grid.reduce(1.0, { $0 * Double($1.1.count) }) <= 1_000_000 else {
            throw RWCNNError.argument("\(source): the grid has more than 10^6 runs")
        }
        for i in 0..<count { _ = try run(i) }  // every run's settings are valid before any is run
    }

    /// Run `index` (0-based), resolved and validated.
    public func run(_ index: Int) throws -> SweepRun {
        guard index >= 0, index < count else {
            throw RWCNNError.argument("run index \(index) is outside 0...\(count - 1) (the grid has \(count) runs)")
        }
        var chosen: [(String, JSONValue)] = []
        var rest = index
        for (key, values) in grid.reversed() {
            chosen.insert((key, values[rest % values.count]), at: 0)
            rest /= values.count
        }
        var all = base.filter { b in !chosen.contains { $0.0 == b.0 } } + chosen
        all.sort { a, b in
            SweepSettings.keys.firstIndex { $0.name == a.0 }! < SweepSettings.keys.firstIndex { $0.name == b.0 }!
        }
        var model = ModelConfig(decoder: .trained)
        var train = TrainOptions()
        train.dataFolder = data
        train.evalFolder = evalData
        train.evalEvery = 0
        for (key, value) in all {
            func bad(_ expected: String) -> RWCNNError {
                .argument("run \(index): \(key) must be \(expected), got \((try? value.serialized()) ?? "?")")
            }
            func number() throws -> Double { guard case .number(let x) = value else { throw bad("a number") }; return x }
            func integer(_ range: ClosedRange<Double>) throws -> Int {
                let x = try number()
                guard x == x.rounded(), range.contains(x) else { throw bad("an integer in \(Int(range.lowerBound))...\(Int(range.upperBound))") }
                return Int(x)
            }
            func text() throws -> String { guard case .string(let s) = value else { throw bad("a string") }; return s }
            func choice<E: RawRepresentable & CaseIterable>(_ type: E.Type) throws -> E where E.RawValue == String {
                guard let e = E(rawValue: try text().lowercased()) else {
                    throw bad("one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return e
            }
            switch key {
            case "arch": model.arch = try text()
            case "cut": model.cut = try text()
            case "width": model.width = try number()
            case "kernel_size": model.kernelSize = try integer(1...63)
            case "distribution": model.weightInit.distribution = try choice(Distribution.self)
            case "scale":
                switch value {
                case .string("he"): model.weightInit.scale = .he
                case .string("glorot"): model.weightInit.scale = .glorot
                case .number(let s): model.weightInit.scale = .fixed(std: s)
                default: throw bad("\"he\", \"glorot\" or a number (a fixed std)")
                }
            case "mean": model.weightInit.mean = try number()
            case "seed": model.seed = UInt64(try integer(0...9_007_199_254_740_992))
            case "unpool": model.unpool = try choice(UnpoolMode.self)
            case "decoder": model.decoder = try choice(DecoderMode.self)
            case "steps": train.steps = try integer(0...100_000_000)
            case "batch": train.batchSize = try integer(1...Double(TrainOptions.maxBatchSize))
            case "crop": train.crop = try integer(1...4096)
            case "short_side": train.shortSide = try integer(0...16384)
            case "eval_fraction": train.evalFraction = try number()
            case "learning_rate": train.learningRate = try number()
            case "checkpoint_every": train.checkpointEvery = try integer(1...100_000_000)
            case "optimizer": train.optimizer = try choice(OptimizerKind.self)
            case "flip": guard case .bool(let b) = value else { throw bad("true or false") }; train.flip = b
            case "weight_decay": train.weightDecay = try number()
            case "data_seed": train.dataSeed = UInt64(try integer(0...9_007_199_254_740_992))
            default: throw RWCNNError.internal("sweep key \(key) without a meaning")
            }
        }
        do {
            try train.validate()
            let arch = try Architecture(spec: model.arch, width: model.width, kernelSize: model.kernelSize)
            _ = try arch.featureShape(at: model.cut, height: train.crop, width: train.crop)
            try model.weightInit.validate()
        } catch let e as RWCNNError {
            throw RWCNNError.argument("run \(index) (\(Sweep.describe(all))): \(e.message)")
        }
        return SweepRun(index: index, settings: all, model: model, train: train)
    }

    static func describe(_ settings: [(String, JSONValue)]) -> String {
        settings.map { "\($0.0)=\((try? $0.1.serialized()) ?? "?")" }.joined(separator: " ")
    }

    /// Trains (or, for random and tied decoders, draws) the run's decoder,
    /// scores it on the held-out crops (outputs clamped to [0, 1] for a
    /// trained decoder, display-normalised for random and tied ones) and
    /// returns its JSON line. `decoderPath`: also save the decoder there
    /// (decoder only; the encoder is redrawn from its seed). `checkpointPath`:
    /// training writes its checkpoint there (every `checkpoint_every` steps,
    /// and on cancel), and with `resume` continues from it when it exists.
    public static func execute(_ run: SweepRun, decoderPath: String? = nil, checkpointPath: String? = nil,
                               resume: Bool = false,
                               progress: ((TrainProgress) -> TrainControl)? = nil) throws -> JSONValue {
        let started = monotonicSeconds()
        let model = try Model(config: run.model)
        var metrics: EvalMetrics
        var finalLoss: JSONValue = .null
        var skipped = 0
        var resumedFrom: JSONValue = .null
        if run.model.decoder == .trained {
            var options = run.train
            if let checkpointPath {
                options.checkpointPath = checkpointPath
                options.resume = resume && access(checkpointPath, F_OK) == 0
                if options.resume { resumedFrom = .string(checkpointPath) }
            }
            let r = try model.train(options: options, progress: progress)
            guard let e = r.eval else { throw RWCNNError.internal("a finished run without its evaluation") }
            metrics = e
            finalLoss = r.finalLoss.isFinite ? .number(r.finalLoss) : .null
            skipped = r.skipped.count
        } else {
            let held = try heldOutCrops(options: run.train)
            metrics = try model.evaluate(held.crops, batchSize: run.train.batchSize, rule: .normalize)
            skipped = held.skipped.count
        }
        if let decoderPath { try model.save(path: decoderPath, includeEncoder: false) }
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        return .object([
            ("index", .number(Double(run.index))), ("settings", .object(run.settings)),
            ("metrics", .object([("mse", number(metrics.mse)), ("psnr", number(metrics.psnr)),
                                 ("ssim", number(metrics.ssim)), ("images", .number(Double(metrics.images)))])),
            ("final_loss", finalLoss), ("skipped_files", .number(Double(skipped))),
            ("decoder_file", decoderPath.map { .string($0) } ?? .null), ("resumed_from", resumedFrom),
            ("seconds", .number(((monotonicSeconds() - started) * 1000).rounded() / 1000)),
            ("rwcnn", .string(RWCNNVersion.string)),
        ])
    }
}
