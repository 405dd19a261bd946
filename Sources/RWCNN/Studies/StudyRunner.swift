#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Runs a study and records it: one JSON line per finished run in
// <folder>/<study>.jsonl, the reconstruction of the first held-out crop in
// <folder>/images/, training checkpoints in <folder>/checkpoints/ while a
// run trains. A rerun skips every run already recorded with the same
// settings and resumes an interrupted training from its checkpoint, so an
// interrupted study continues where it stopped and (with one thread, where
// training is bit-exact) writes the same lines.

/// What a study tells its caller while it runs.
public enum StudyEvent {
    /// Run `index` of `total` starts (or is skipped, already recorded).
    case started(index: Int, total: Int, run: StudyRun)
    case skipped(index: Int, total: Int, run: StudyRun)
    /// A training step or evaluation of the current run.
    case training(TrainProgress)
    /// A run finished; its recorded line.
    case finished(index: Int, total: Int, run: StudyRun, record: JSONValue)
    case warning(String)
}

/// Where a study writes.
public struct StudyFiles {
    public let folder: String
    public let study: StudyName
    public var results: String { folder + "/" + study.rawValue + ".jsonl" }
    public var images: String { folder + "/images" }
    public var checkpoints: String { folder + "/checkpoints" }
    public init(folder: String, study: StudyName) { self.folder = folder; self.study = study }

    /// A file name for a run id.
    static func fileName(_ id: String) -> String {
        String(id.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }
}

public enum Study {
    /// Runs (or resumes) `study` under `settings`, writing into `folder`.
    /// `command` is recorded with every run (how to reproduce it). The
    /// callback may return `.cancel` to stop: the current training's
    /// checkpoint is written and `RWCNNError.cancelled` thrown. Returns the
    /// records of every run of the study, in plan order.
    @discardableResult
    public static func run(_ study: StudyName, settings: StudySettings, folder: String, command: String,
                           progress: ((StudyEvent) -> TrainControl)? = nil) throws -> [JSONValue] {
        try settings.validate()
        let report = progress ?? { _ in .proceed }
        let files = StudyFiles(folder: folder, study: study)
        let runs = study.runs(settings)
        let needsImages = runs.contains { $0.method != .theory }
        let data = needsImages ? try StudyData(settings: settings, runs: runs) : nil
        if let data { for w in data.warnings { _ = report(.warning(w)) } }

        for path in [folder, files.images, files.checkpoints] { try makeFolder(path) }
        var done = try recordedRuns(files.results, settings: settings)
        if let data { try saveImageTensor(data.crops.item(0), path: files.images + "/original.png") }
        var records: [JSONValue] = []
        for (i, run) in runs.enumerated() {
            if let record = done[run.id] {
                records.append(record)
                if report(.skipped(index: i + 1, total: runs.count, run: run)) == .cancel {
                    throw RWCNNError.cancelled("study cancelled")
                }
                continue
            }
            if report(.started(index: i + 1, total: runs.count, run: run)) == .cancel {
                throw RWCNNError.cancelled("study cancelled")
            }
            let started = monotonicSeconds()
            let outcome = try execute(run, data: data, settings: settings, files: files, report: report)
            let record = StudyRecord.make(run: run, settings: settings, metrics: outcome.metrics,
                                          image: outcome.image, seconds: monotonicSeconds() - started, command: command)
            try appendLine(try record.serialized(), to: files.results)
            if let checkpoint = outcome.checkpoint { unlink(checkpoint) }
            done[run.id] = record
            records.append(record)
            _ = report(.finished(index: i + 1, total: runs.count, run: run, record: record))
        }
        // Every run is recorded: what is left in checkpoints (a checkpoint
        // whose run was killed after its line was written, a temporary file
        // of an interrupted write) belongs to finished runs.
        for file in try listFiles(in: files.checkpoints, suffix: "") where file.contains(".ckpt") { unlink(file) }
        rmdir(files.checkpoints)  // only if empty
        return records
    }

    /// The records already in a results file, by run id. A last line cut
    /// short by an interruption is dropped (and the file truncated to the
    /// lines before it); records made with other settings are an error.
    static func recordedRuns(_ path: String, settings: StudySettings) throws -> [String: JSONValue] {
        guard fileExists(path) else { return [:] }
        let bytes = try readFile(path: path)
        var out: [String: JSONValue] = [:]
        var kept = 0, start = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            defer { start = i + 1 }
            if i == start { continue }
            let record = try JSONValue.parse(bytes[start..<i])
            guard case .string(let id)? = record["run"], let protocolJSON = record["protocol"] else {
                throw RWCNNError.format("\(path): a line without \"run\" or \"protocol\"")
            }
            guard protocolJSON == settings.json else {
                throw RWCNNError.argument("\(path) holds runs made with other settings (\(try protocolJSON.serialized())); use another --out folder or delete it")
            }
            out[id] = record
            kept = i + 1
        }
        if kept < bytes.count {  // an unfinished last line
            guard truncate(path, off_t(kept)) == 0 else { throw RWCNNError.io("cannot truncate \(path)") }
        }
        return out
    }

    struct Outcome {
        var metrics: [(String, JSONValue)]
        var image: String?
        var checkpoint: String?
    }

    static func execute(_ run: StudyRun, data: StudyData?, settings: StudySettings, files: StudyFiles,
                        report: @escaping (StudyEvent) -> TrainControl) throws -> Outcome {
        if let t = run.theory {
            let c = try AdjointCosine.measure(inputs: t.inputs, outputs: t.outputs, samples: settings.theorySamples,
                                              seed: run.config.seed)
            return Outcome(metrics: [("cosine", .number(c.measured)), ("cosine_sd", .number(c.deviation)),
                                     ("predicted", .number(c.predicted)), ("samples", .number(Double(c.samples)))],
                           image: nil, checkpoint: nil)
        }
        guard let data else { throw RWCNNError.internal("study images missing") }
        var checkpoint: String? = nil
        let outputs: Tensor
        switch run.method {
        case .bicubic:
            let arch = try Architecture(spec: run.config.arch, width: run.config.width, kernelSize: run.config.kernelSize)
            let shape = try arch.featureShape(at: run.config.cut, height: settings.crop, width: settings.crop)
            outputs = try resolutionBaseline(data.crops, height: shape[1], width: shape[2])
        case .random, .tied:
            let model = try Model(config: run.config)
            outputs = model.forDisplay(try reconstructAll(model, data.crops, batch: settings.batchSize))
        case .trained:
            let model = try Model(config: run.config)
            var o = data.options
            o.steps = run.steps
            o.evalEvery = 0
            let path = files.checkpoints + "/" + StudyFiles.fileName(run.id) + ".ckpt"
            o.checkpointPath = path
            o.checkpointEvery = settings.checkpointEvery
            o.resume = fileExists(path)
            checkpoint = path
            try model.train(options: o) { p in
                if p.kind == .warning { return .proceed }
                return report(.training(p))
            }
            outputs = model.forDisplay(try reconstructAll(model, data.crops, batch: settings.batchSize))
        case .theory:
            throw RWCNNError.internal("theory run without a layer size")
        }
        let image = "images/" + StudyFiles.fileName(run.id) + ".png"
        try saveImageTensor(outputs.item(0), path: files.folder + "/" + image)
        return Outcome(metrics: try StudyRecord.scores(outputs, data.crops), image: image, checkpoint: checkpoint)
    }

    static func reconstructAll(_ model: Model, _ crops: Tensor, batch: Int) throws -> Tensor {
        var parts: [Tensor] = []
        var start = 0
        let n = crops.shape[0]
        while start < n {
            let count = min(batch, n - start)
            let chunk = try Tensor.stack((start..<(start + count)).map { try crops.item($0) })
            let out = try model.reconstruct(chunk)
            parts += try (0..<count).map { try out.item($0) }
            start += count
        }
        return try Tensor.stack(parts)
    }
}

/// The images of a study: the training options every trained run uses and
/// the held-out crops every run is scored on, checked up front so bad input
/// fails before any work with a clear message.
struct StudyData {
    var options: TrainOptions
    var crops: Tensor
    var warnings: [String] = []

    init(settings: StudySettings, runs: [StudyRun]) throws {
        var o = TrainOptions()
        o.dataFolder = settings.dataFolder; o.evalFolder = settings.evalFolder; o.evalFraction = settings.evalFraction
        o.crop = settings.crop; o.shortSide = settings.shortSide; o.batchSize = settings.batchSize
        o.learningRate = settings.learningRate; o.dataSeed = settings.dataSeed
        options = o
        // The crop must survive every pool of every model in the study.
        for run in runs where run.method != .theory {
            let arch = try Architecture(spec: run.config.arch, width: run.config.width, kernelSize: run.config.kernelSize)
            let cut = try arch.index(of: run.config.cut)
            let shrink = arch.layers[0...cut].reduce(1) { $0 * $1.stride }
            guard settings.crop >= shrink else {
                throw RWCNNError.argument("crop \(settings.crop) is too small for \(run.config.cut), which needs at least \(shrink) pixels")
            }
        }
        for (folder, role) in [(settings.dataFolder, "data")] + (settings.evalFolder.map { [($0, "eval")] } ?? []) {
            let files = try listImageFiles(in: folder)
            guard !files.isEmpty else { throw RWCNNError.argument("the \(role) folder \(folder) has no PNG or JPEG files") }
            let set = try ImageSet(paths: files, shortSide: settings.shortSide, minSide: settings.crop)
            guard !set.images.isEmpty else {
                throw RWCNNError.argument("no image in \(folder) is at least \(settings.crop)x\(settings.crop) pixels"
                                          + (settings.shortSide > 0 ? " after resizing its short side to \(settings.shortSide)" : "")
                                          + "; the study's crop needs that (\(set.skipped.first?.reason ?? ""))")
            }
            warnings += set.skipped.map { "skipped \($0.path): \($0.reason)" }
        }
        crops = try heldOutCrops(options: o).crops
        guard crops.shape[0] >= 2 else {
            throw RWCNNError.argument("the held-out set has \(crops.shape[0]) usable image; the cross-image baseline needs at least 2 (add photos or raise --eval-fraction)")
        }
    }
}

/// The JSON line of one run.
enum StudyRecord {
    static func make(run: StudyRun, settings: StudySettings, metrics: [(String, JSONValue)], image: String?,
                     seconds: Double, command: String) -> JSONValue {
        let c = run.config
        let scale: JSONValue
        switch c.weightInit.scale {
        case .he: scale = .string("he")
        case .glorot: scale = .string("glorot")
        case .fixed(let s): scale = .number(s)
        }
        var config: [(String, JSONValue)]
        if let t = run.theory {
            config = [("inputs", .number(Double(t.inputs))), ("outputs", .number(Double(t.outputs))),
                      ("distribution", .string("normal")), ("scale", .string("he"))]
        } else {
            config = [("arch", .string(c.arch)), ("cut", .string(c.cut)), ("width", .number(c.width)),
                      ("kernel", c.kernelSize.map { .number(Double($0)) } ?? .null),
                      ("distribution", .string(c.weightInit.distribution.rawValue)), ("scale", scale),
                      ("unpool", .string(c.unpool.rawValue)), ("decoder", .string(run.method.rawValue))]
            if run.method == .trained { config.append(("steps", .number(Double(run.steps)))) }
        }
        return .object([
            ("study", .string(run.study.rawValue)), ("run", .string(run.id)), ("method", .string(run.method.rawValue)),
            ("x", .string(run.x)), ("seed", .number(Double(c.seed))), ("config", .object(config)),
            ("metrics", .object(metrics)), ("image", image.map { .string($0) } ?? .null),
            ("seconds", .number((seconds * 1000).rounded() / 1000)), ("protocol", settings.json),
            ("rwcnn", .string(RWCNNVersion.string)), ("command", .string(command)),
        ])
    }

    /// Scores of outputs [N, 3, H, W] against the originals, and the
    /// cross-image baselines: output i against original i + 1 (mod N).
    static func scores(_ outputs: Tensor, _ originals: Tensor) throws -> [(String, JSONValue)] {
        let n = originals.shape[0]
        let shifted = try Tensor.stack((0..<n).map { try originals.item(($0 + 1) % n) })
        func number(_ x: Double) -> JSONValue { x.isFinite ? .number(x) : .null }
        // fitted_psnr_<kind> for each colour map kind ("channel", "matrix").
        let fitted = try ColourMapKind.allCases.map {
            ("fitted_psnr_\($0.rawValue)", number(try Metrics.fittedPSNR(reconstruction: outputs, original: originals, kind: $0)))
        }
        return [
            ("psnr", number(try Metrics.psnr(outputs, originals))),
            ("ssim", number(try Metrics.ssim(outputs, originals))),
            ("colour_ssim", number(try Metrics.colourInvariantSSIM(reconstruction: outputs, original: originals))),
        ] + fitted + [
            ("cross_ssim", number(try Metrics.ssim(outputs, shifted))),
            ("cross_colour_ssim", number(try Metrics.colourInvariantSSIM(reconstruction: outputs, original: shifted))),
            ("cross_fitted_psnr_\(ColourMapKind.colourMatrix.rawValue)",
             number(try Metrics.fittedPSNR(reconstruction: outputs, original: shifted, kind: .colourMatrix))),
            ("images", .number(Double(n))),
        ]
    }
}

func fileExists(_ path: String) -> Bool { access(path, F_OK) == 0 }

/// mkdir -p.
func makeFolder(_ path: String) throws {
    var current = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") where !part.isEmpty {
        current += "/" + part
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw RWCNNError.io("cannot create folder \(current): \(String(cString: strerror(errno)))")
        }
    }
}

/// Appends one line and flushes it to the file.
func appendLine(_ line: String, to path: String) throws {
    guard let f = fopen(path, "a") else { throw RWCNNError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
    defer { fclose(f) }
    let bytes = Array((line + "\n").utf8)
    guard fwrite(bytes, 1, bytes.count, f) == bytes.count, fflush(f) == 0 else {
        throw RWCNNError.io("cannot write \(path): \(String(cString: strerror(errno)))")
    }
    fsync(fileno(f))
}
