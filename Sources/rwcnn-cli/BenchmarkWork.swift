import RWCNN
#if canImport(Glibc)
import Glibc
#endif

/// One benchmark configuration, named by an id such as `train:pool1:64:16`,
/// `forward:pool5:224:8` or `sgemm:2048`.
enum BenchWork: Equatable {
    /// OpenBLAS sgemm, n x n x n: the machine's ceiling, same run.
    case sgemm(n: Int)
    /// Random VGG16 encoder to `cut` (`Model.encode`), square images.
    case forward(cut: String, size: Int, batch: Int)
    /// One decoder training step through `Model.train`: Adam 1e-3,
    /// nearest unpooling, crops of `size` from noise PNGs of that size.
    case trainStep(cut: String, size: Int, batch: Int)
    /// Time to quality: `steps` decoder training steps at `cut` on the
    /// photos of a folder (default data/images), batch 16, 64x64 crops,
    /// Adam 1e-3, seed 0, a seeded quarter of the files held out; the wall
    /// time from the start of `Model.train` to its end and the held-out PSNR.
    case quality(cut: String, steps: Int)
    /// One Adam step of image synthesis (BenchmarkSynthesis.swift).
    case synthesis(SynthesisBench)

    /// The standard suite: the work of issue #7's table, as the reference
    /// harness (../shared/bench/side_by_side.py) measures it.
    static let suite: [BenchWork] = [.sgemm(n: 2048)]
        + ["pool1", "pool2", "pool3", "pool4"].map { .trainStep(cut: $0, size: 64, batch: 16) }
        + [.forward(cut: "conv1_2", size: 64, batch: 1), .forward(cut: "conv1_2", size: 64, batch: 8),
           .forward(cut: "pool3", size: 64, batch: 1), .forward(cut: "pool3", size: 64, batch: 8),
           .forward(cut: "pool5", size: 224, batch: 1), .forward(cut: "pool5", size: 224, batch: 8)]
        + SynthesisBench.suite.map { .synthesis($0) }

    /// `--quick`: small work that checks the tool end to end in seconds.
    static let quick: [BenchWork] = [.sgemm(n: 512), .forward(cut: "conv1_2", size: 64, batch: 1),
                                     .trainStep(cut: "pool1", size: 64, batch: 4)]

    var id: String {
        switch self {
        case .sgemm(let n): return "sgemm:\(n)"
        case let .forward(c, s, b): return "forward:\(c):\(s):\(b)"
        case let .trainStep(c, s, b): return "train:\(c):\(s):\(b)"
        case let .quality(c, n): return "quality:\(c):\(n)"
        case .synthesis(let w): return w.id
        }
    }

    /// Readable name, as in the ratio table.
    var title: String {
        switch self {
        case .sgemm(let n): return "sgemm \(n)^3"
        case let .forward(c, s, b): return "forward \(c), \(s)x\(s), batch \(b)"
        case let .trainStep(c, s, b): return "train step \(c), \(s)x\(s), batch \(b), Adam"
        case let .quality(c, n): return "\(n) training steps at \(c) (time to quality)"
        case .synthesis(let w): return w.title
        }
    }

    /// Parses an id; missing trailing parts take the suite's values
    /// (`train:pool2` = `train:pool2:64:16`, `forward:pool5` = `forward:pool5:224:1`).
    init(id: String) throws {
        if let w = try SynthesisBench(id: id) { self = .synthesis(w); return }
        let p = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func int(_ i: Int, _ def: Int, _ what: String) throws -> Int {
            guard i < p.count else { return def }
            guard let v = Int(p[i]), v >= 1 else { throw CLIError("\(id): \(what) must be a positive integer, got '\(p[i])'") }
            return v
        }
        switch p[0] {
        case "sgemm" where p.count <= 2:
            self = .sgemm(n: try int(1, 2048, "n"))
        case "forward" where p.count >= 2 && p.count <= 4:
            self = .forward(cut: p[1], size: try int(2, 224, "size"), batch: try int(3, 1, "batch"))
        case "train" where p.count >= 2 && p.count <= 4:
            self = .trainStep(cut: p[1], size: try int(2, 64, "size"), batch: try int(3, 16, "batch"))
        case "quality" where p.count >= 2 && p.count <= 3:
            self = .quality(cut: p[1], steps: try int(2, 500, "steps"))
        default:
            throw CLIError("unknown configuration '\(id)'; expected sgemm[:N], forward:CUT[:SIZE[:BATCH]], train:CUT[:SIZE[:BATCH]], quality:CUT[:STEPS], invert:LAYER[:SIZE] or texture:LAYER[:SIZE] (see --list)")
        }
    }

    /// Measures this configuration in the current process; one JSON object.
    func run(_ timing: TimingProtocol) throws -> [(String, JSONValue)] {
        let start = Usage.now()
        var rec: [(String, JSONValue)] = [("id", .string(id))]
        var setupRSS: Double? = nil
        // The model's working-memory estimate for the job, and the resident
        // memory just before it ran: peak - ready is what the job added.
        var estimate: Int? = nil, readyRSS: Double? = nil
        let times: [Double], cost: [(String, JSONValue)], gflop: Double
        switch self {
        case .sgemm(let n):
            rec += [("bench", .string("sgemm")), ("n", .number(Double(n)))]
            (times, cost) = timeSgemm(n: n, timing)
            gflop = 2 * Double(n) * Double(n) * Double(n) / 1e9
        case let .forward(cut, size, batch):
            rec += [("bench", .string("forward")), ("cut", .string(cut)), ("size", .number(Double(size))),
                    ("batch", .number(Double(batch))), ("api", .string("Model.encode"))]
            let model = try Model(config: ModelConfig(arch: "vgg16", cut: cut, seed: 0, unpool: .nearest, decoder: .tied))
            timing.apply(to: model)
            var rng = SplitMix64(seed: 7)
            let x = try Tensor(shape: [batch, 3, size, size], data: (0..<(batch * 3 * size * size)).map { _ in rng.nextUnit() })
            setupRSS = Usage.now().peakRSSMB
            estimate = try model.workingMemoryEstimate(.encode, batch: batch, height: size, width: size)
            readyRSS = currentRSSMB()
            (times, cost) = try timeCalls(timing) { _ = try model.encode(x) }
            gflop = try model.architecture.encoderFLOPs(cut: model.cutIndex, height: size, width: size) * Double(batch) / 1e9
        case let .trainStep(cut, size, batch):
            rec += [("bench", .string("train_step")), ("cut", .string(cut)), ("size", .number(Double(size))),
                    ("batch", .number(Double(batch))), ("unpool", .string("nearest")), ("optimizer", .string("adam")),
                    ("lr", .number(1e-3)), ("api", .string("Model.train step callbacks"))]
            let model = try Model(config: ModelConfig(arch: "vgg16", cut: cut, seed: 0, unpool: .nearest, decoder: .trained))
            timing.apply(to: model)
            setupRSS = Usage.now().peakRSSMB
            estimate = try model.workingMemoryEstimate(.trainStep, batch: batch, height: size, width: size)
            // The whole run's: the 16 noise images are also its held-out set.
            rec += [("working_run_estimate_mb", .number(rounded(Double(try model.trainingWorkingMemoryEstimate(
                batch: batch, crop: size, evalImages: 16)) / 1048576, 1)))]
            readyRSS = currentRSSMB()
            (times, cost) = try timeTrainSteps(model, size: size, batch: batch, timing)
            gflop = try model.architecture.trainStepFLOPs(cut: model.cutIndex, height: size, width: size) * Double(batch) / 1e9
        case let .quality(cut, steps):
            rec += [("bench", .string("quality")), ("cut", .string(cut)), ("steps", .number(Double(steps))),
                    ("batch", .number(16)), ("crop", .number(64)), ("unpool", .string("nearest")),
                    ("optimizer", .string("adam")), ("lr", .number(1e-3)), ("data", .string(timing.qualityData))]
            let model = try Model(config: ModelConfig(arch: "vgg16", cut: cut, seed: 0, unpool: .nearest, decoder: .trained))
            setupRSS = Usage.now().peakRSSMB
            let q = try timeToQuality(model, steps: steps, data: timing.qualityData)
            (times, cost) = ([q.seconds], q.cost)
            rec += [("psnr", .number(q.psnr)), ("eval_crops", .number(Double(q.crops)))]
            gflop = try model.architecture.trainStepFLOPs(cut: model.cutIndex, height: 64, width: 64) * 16 * Double(steps) / 1e9
        case .synthesis(let w):
            let r = try w.run(timing)
            rec += r.record
            (times, cost, gflop) = (r.times, r.cost, r.gflop)
            setupRSS = r.setupRSS
        }
        let t = TimeSummary(times)
        rec += [("threads", .number(Double(Threads.count))), ("warmup", .number(Double(timing.warmup))),
                ("reps", .number(Double(t.count))),
                ("s_median", .number(t.median)), ("s_min", .number(t.min)), ("s_q1", .number(t.q1)), ("s_q3", .number(t.q3)),
                ("s_timed", .number(times.reduce(0, +))), ("s_all", .array(times.map { .number($0) })),
                ("gflop", .number(gflop)), ("gflops", .number(gflop / t.median))]
        rec += cost
        let end = Usage.now()
        rec += [("rss_start_mb", .number(rounded(start.peakRSSMB, 1)))]
        if let s = setupRSS { rec += [("rss_setup_mb", .number(rounded(s, 1)))] }
        if let r = readyRSS { rec += [("rss_ready_mb", .number(rounded(r, 1)))] }
        if let e = estimate { rec += [("working_estimate_mb", .number(rounded(Double(e) / 1048576, 1)))] }
        rec += [("rss_peak_mb", .number(rounded(end.peakRSSMB, 1))),
                ("rwcnn", .string(RWCNNVersion.string)), ("loadavg", .string(loadAverage())),
                ("openblas_core", .string(blasCoreName ?? "none"))]
        return rec
    }
}

/// sgemm n^3 through the engine's BLAS entry point (OpenBLAS on Linux).
private func timeSgemm(n: Int, _ timing: TimingProtocol) -> (times: [Double], cost: [(String, JSONValue)]) {
    var rng = SplitMix64(seed: 0)
    let a = (0..<(n * n)).map { _ in rng.nextUnit() }, b = (0..<(n * n)).map { _ in rng.nextUnit() }
    var c = [Float](repeating: 0, count: n * n)
    // A fixed count of 10 calls after the warm-up, as the reference does.
    var p = timing
    p.reps = max(p.reps, 10); p.minTime = 0; p.maxReps = p.reps
    return a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
        timeCalls(p) {
            sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: ap.baseAddress!, lda: n,
                  b: bp.baseAddress!, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
        }
    } } }
}

/// Train-step times: the intervals between consecutive step callbacks of
/// one `Model.train` run (each is a whole step: batch assembly, encoder,
/// decoder, backward, Adam), after `warmup` steps. The callback cancels the
/// run once the protocol is satisfied. Data: a temporary folder of 16 seeded
/// noise PNGs of size x size (the crop is the whole image), removed after.
private func timeTrainSteps(_ model: Model, size: Int, batch: Int,
                            _ timing: TimingProtocol) throws -> (times: [Double], cost: [(String, JSONValue)]) {
    let folder = try NoiseImageFolder(count: 16, size: size, seed: 7)
    defer { folder.remove() }
    var o = TrainOptions()
    o.dataFolder = folder.path; o.evalFolder = folder.path
    o.steps = timing.warmup + timing.maxReps + 1
    o.batchSize = batch; o.crop = size; o.flip = true; o.dataSeed = 0
    o.optimizer = .adam; o.learningRate = 1e-3; o.beta1 = 0.9; o.beta2 = 0.999; o.epsilon = 1e-8
    o.evalEvery = 0; o.checkpointEvery = 0; o.checkpointPath = nil

    var stamps: [Double] = [], times: [Double] = []
    var cost: IntervalCost? = nil, fields: [(String, JSONValue)] = []
    do {
        try model.train(options: o) { p in
            guard p.kind == .step else { return .proceed }
            let now = monotonicSeconds()
            if stamps.count == timing.warmup { cost = IntervalCost() }
            if stamps.count > timing.warmup { times.append(now - stamps[stamps.count - 1]) }
            stamps.append(now)
            if timing.done(times) {
                fields = cost?.fields() ?? []
                return .cancel
            }
            return .proceed
        }
    } catch RWCNNError.cancelled {
        // The callback stopped the run: the expected end.
    }
    guard !times.isEmpty else { throw CLIError("training ended before any step was timed") }
    return (times, fields)
}

/// `steps` training steps on `data` (a seeded quarter held out), timed from
/// the call of `Model.train` (image loading included) to its return, and
/// the held-out PSNR at the end (mean over the held-out crops).
private func timeToQuality(_ model: Model, steps: Int, data: String) throws
    -> (seconds: Double, psnr: Double, crops: Int, cost: [(String, JSONValue)]) {
    var o = TrainOptions()
    o.dataFolder = data; o.evalFraction = 0.25
    o.steps = steps; o.batchSize = 16; o.crop = 64; o.flip = true; o.dataSeed = 0
    o.optimizer = .adam; o.learningRate = 1e-3; o.beta1 = 0.9; o.beta2 = 0.999; o.epsilon = 1e-8
    o.evalEvery = 0; o.checkpointEvery = 0; o.checkpointPath = nil
    let cost = IntervalCost()
    let t0 = monotonicSeconds()
    let result = try model.train(options: o)
    let seconds = monotonicSeconds() - t0
    return (seconds, result.eval?.psnr ?? .nan, result.eval?.images ?? 0, cost.fields())
}

/// SplitMix64 (Steele, Lea and Flood 2014): seeded noise for inputs and the
/// training images; any fixed values would do, these are reproducible.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits.
    mutating func nextUnit() -> Float { Float(next() >> 40) * 0x1p-24 }
}

/// A temporary folder (under $TMPDIR, default /tmp) of seeded noise PNGs
/// (8-bit RGB), for train-step timing.
struct NoiseImageFolder {
    let path: String
    private(set) var files: [String] = []

    init(count: Int, size: Int, seed: UInt64) throws {
        let tmp = getenv("TMPDIR").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((tmp + "/rwcnn-bench-XXXXXX").utf8CString)
        guard let dir = mkdtemp(&template) else {
            throw CLIError("cannot create a temporary folder: \(String(cString: strerror(errno)))")
        }
        path = String(cString: dir)
        var rng = SplitMix64(seed: seed)
        do {
            for i in 0..<count {
                let t = try Tensor(shape: [3, size, size], data: (0..<(3 * size * size)).map { _ in Float(rng.next() >> 56) / 255 })
                let file = path + "/noise\(i < 10 ? "0" : "")\(i).png"
                try saveImageTensor(t, path: file)
                files.append(file)
            }
        } catch {
            remove()
            throw error
        }
    }

    func remove() {
        for f in files { unlink(f) }
        rmdir(path)
    }
}
