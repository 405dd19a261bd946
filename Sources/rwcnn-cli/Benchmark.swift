import ArgumentParser
import RWCNN

struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the paper's workload: decoder train steps, encoder forwards and a same-run sgemm.",
        discussion: """
        Each configuration runs in a fresh process (this tool re-executes itself), so its peak RSS (getrusage) is its own. The protocol is the reference harness's (../shared/bench): 2 warm-up calls, then at least --reps timed calls and at least --min-time seconds; the figure is the median (min and quartiles come along).

        Configurations (see --list):

        train:CUT[:SIZE[:BATCH]] - one decoder training step through Model.train: VGG16 cut at CUT, nearest unpooling, trained decoder, Adam lr 1e-3, batches of whole SIZE x SIZE images from a temporary folder of 16 seeded noise PNGs (removed after). The time is the interval between consecutive step callbacks. Default 64x64, batch 16.

        forward:CUT[:SIZE[:BATCH]] - Model.encode of a random VGG16 to CUT. Default 224x224, batch 1.

        sgemm[:N] - OpenBLAS sgemm N^3, median of 10 calls. Default 2048.

        GFLOP count 2 x the multiply-adds of the direct convolution (a train step: 4 x the encoder's minus the deepest conv, as the reference harness counts), so Winograd can pass the sgemm rate. --json prints one JSON object per configuration. Each record also holds the CPU user/sys split, context switches and minor page faults of the timed calls, and foreign_cpu_s: the CPU time other processes used meanwhile (near 0: the machine was otherwise idle). scripts/bench-torch puts PyTorch beside these figures (docs/BENCHMARK.md).
        """)

    @Option(name: .customLong("only"), parsing: .upToNextOption,
            help: "Configurations to run: ids (see --list), or the groups all, train, forward, synthesis. Default: the whole suite.")
    var only: [String] = []

    @Flag(help: "A small smoke run: sgemm 512, forward conv1_2 64x64 batch 1, train pool1 batch 4; 1 warm-up, 3 calls.")
    var quick = false

    @Flag(help: "Print the suite's configuration ids and exit.")
    var list = false

    @Flag(help: "One JSON object per configuration on standard output instead of the table.")
    var json = false

    @Option(help: "Forward only: the encoder cut (with --size and --batch; replaces the suite).")
    var cut: String?

    @Option(help: "Forward only: input size, square (default 224).")
    var size: Int?

    @Option(parsing: .upToNextOption, help: "Forward only: batch sizes (default 1 8).")
    var batch: [Int] = []

    @Option(help: "Warm-up calls before timing.")
    var warmup = 2

    @Option(help: "Minimum timed calls.")
    var reps = 7

    @Option(help: "Minimum timed seconds per configuration.")
    var minTime = 3.0

    @Flag(help: "Also the time-to-quality rows: 500 decoder training steps at pool1 and pool2 on --quality-data (a seeded quarter held out), wall time and held-out PSNR (minutes).")
    var quality = false

    @Option(help: "Photos for --quality and quality:CUT ids (default data/images).")
    var qualityData = "data/images"

    @Option(help: "Winograd's tile threshold with cached weights (KernelTuning.winogradMinTilesCached) for the models measured; to find its break-even (default: the engine's).")
    var winogradCachedMinTiles: Int?

    @Option(help: "Kernel thresholds NAME=VALUE for the models measured (KernelTuning's field names, e.g. winogradBlockFloats=262144); repeatable. To find break-evens.")
    var tuning: [String] = []

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard warmup >= 0, warmup <= 100 else { throw ValidationError("--warmup must be in 0...100") }
        guard reps >= 1, reps <= 2000 else { throw ValidationError("--reps must be in 1...2000") }
        guard minTime >= 0, minTime <= 3600 else { throw ValidationError("--min-time must be in 0...3600 seconds") }
        if let s = size, s < 1 { throw ValidationError("--size must be >= 1") }
        if batch.contains(where: { $0 < 1 }) { throw ValidationError("batch sizes must be >= 1") }
        if let t = winogradCachedMinTiles, t < 1 { throw ValidationError("--winograd-cached-min-tiles must be >= 1") }
        _ = try tuningSettings()
    }

    /// `--tuning` as (name, value) pairs, each checked by `KernelTuning.set`.
    func tuningSettings() throws -> [(String, Int)] {
        var probe = KernelTuning()
        return try tuning.map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Int(parts[1]) else {
                throw ValidationError("--tuning wants NAME=VALUE, got \(item)")
            }
            do { try probe.set(parts[0], to: value) } catch { throw ValidationError("--tuning: \(error)") }
            return (parts[0], value)
        }
    }

    func run() throws {
        if list {
            for w in BenchWork.suite { print(w.id.padding(24) + "  " + w.title) }
            return
        }
        try threads.apply()
        var timing = TimingProtocol(warmup: warmup, reps: reps, minTime: minTime)
        if quick { timing = TimingProtocol(warmup: 1, reps: 3, minTime: 0) }
        timing.qualityData = qualityData
        timing.winogradCachedMinTiles = winogradCachedMinTiles
        timing.tuning = try tuningSettings()
        let work = try selection()

        if work.count == 1 {
            // One configuration: measure it here (this is the fresh process).
            let rec = try work[0].run(timing)
            if json { print(try JSONValue.object(rec).serialized()) } else { printTable([rec], timing: timing) }
            return
        }
        var records: [[(String, JSONValue)]] = []
        var failed = 0
        if !json { print("rwcnn \(RWCNNVersion.string) benchmark, \(Threads.count) threads, load average \(loadAverage()) at start") }
        for w in work {
            if !json { printError("running \(w.id)") }
            let args = ["benchmark", "--only", w.id, "--json", "--threads", String(Threads.count),
                        "--warmup", String(timing.warmup), "--reps", String(timing.reps), "--min-time", String(timing.minTime),
                        "--quality-data", timing.qualityData]
                + (winogradCachedMinTiles.map { ["--winograd-cached-min-tiles", String($0)] } ?? [])
                + tuning.flatMap { ["--tuning", $0] }
            let (status, out) = try runSelf(args)
            let line = out.split(separator: "\n").last.map(String.init) ?? ""
            if status == 0, let v = try? JSONValue.parse(Array(line.utf8)), case .object(let rec) = v {
                records.append(rec)
                if json { print(line) }
            } else {
                failed += 1
                let rec: [(String, JSONValue)] = [("id", .string(w.id)), ("error", .string("exit status \(status)"))]
                if json { print(try JSONValue.object(rec).serialized()) } else { printError("\(w.id) failed (exit status \(status))") }
            }
        }
        if !json { printTable(records, timing: timing) }
        if failed > 0 { throw ExitCode(1) }
    }

    /// The configurations the options name, in order, without repeats.
    func selection() throws -> [BenchWork] {
        if quick { return BenchWork.quick }
        var out: [BenchWork] = []
        func add(_ w: BenchWork) { if !out.contains(w) { out.append(w) } }
        if cut != nil || size != nil || !batch.isEmpty {
            add(.sgemm(n: 2048))
            for b in batch.isEmpty ? [1, 8] : batch { add(.forward(cut: cut ?? "pool5", size: size ?? 224, batch: b)) }
        }
        for id in only {
            switch id {
            case "all": BenchWork.suite.forEach(add)
            case "train": BenchWork.suite.filter { if case .trainStep = $0 { return true }; return false }.forEach(add)
            case "forward": BenchWork.suite.filter { if case .forward = $0 { return true }; return false }.forEach(add)
            case "synthesis": BenchWork.suite.filter { if case .synthesis = $0 { return true }; return false }.forEach(add)
            default: add(try BenchWork(id: id))
            }
        }
        if out.isEmpty { BenchWork.suite.forEach(add) }
        if quality { ["pool1", "pool2"].forEach { add(.quality(cut: $0, steps: 500)) } }
        return out
    }
}

/// The readable table of `rwcnn benchmark`.
private func printTable(_ records: [[(String, JSONValue)]], timing: TimingProtocol) {
    func num(_ r: [(String, JSONValue)], _ k: String) -> Double {
        if case .number(let v)? = JSONValue.object(r)[k] { return v }
        return .nan
    }
    func str(_ r: [(String, JSONValue)], _ k: String) -> String {
        if case .string(let v)? = JSONValue.object(r)[k] { return v }
        return ""
    }
    func time(_ s: Double) -> String { s < 1 ? fixed(s * 1000, s < 0.01 ? 2 : 1) + " ms" : fixed(s, 3) + " s" }
    print("\(timing.warmup) warm-up, median of >= \(timing.reps) calls and >= \(fixed(timing.minTime, 1)) s; each line a fresh process")
    let head = ["work", "median", "q1 - q3", "calls", "GFLOP/s", "peak RSS", "sys CPU", "foreign CPU"]
    var rows = [head]
    for r in records {
        let title = (try? BenchWork(id: str(r, "id")).title) ?? str(r, "id")
        rows.append([title, time(num(r, "s_median")), time(num(r, "s_q1")) + " - " + time(num(r, "s_q3")),
                     fixed(num(r, "reps"), 0), fixed(num(r, "gflops"), 1), fixed(num(r, "rss_peak_mb"), 0) + " MB",
                     fixed(100 * num(r, "sys_share"), 0) + " %",
                     fixed(num(r, "foreign_cpu_s"), 1) + " of " + fixed(num(r, "watched_s"), 1) + " s"])
    }
    let widths = head.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
    for row in rows {
        print(row.indices.map { c in c == 0 ? row[c].padding(widths[c]) : row[c].leftPadding(widths[c]) }.joined(separator: "  "))
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
    func leftPadding(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
