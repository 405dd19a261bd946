import ArgumentParser
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT; the progress callback turns it into a clean stop.
nonisolated(unsafe) private var sweepInterrupted: sig_atomic_t = 0

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a grid of settings (for a job array: one run per --index) and print one JSON line per run.",
        discussion: """
        GRID.json is one JSON object: "data" (folder of photos, required), "eval_data" (held-out \
        folder; default a seeded split), "base" (settings shared by every run) and "grid" (settings with \
        a list of values each). Run I is the I-th combination of the grid's lists, the last key varying \
        fastest. Example:

          {"data": "data/images", "base": {"steps": 100, "crop": 64, "short_side": 128},
           "grid": {"cut": ["pool1", "pool2"], "width": [0.5, 1], "distribution": ["normal", "uniform"], "seed": [0, 1]}}

        Settings: \(SweepSettings.keys.map { "\($0.name) (\($0.help))" }.joined(separator: ", ")).

        Each run trains the decoder (decoder "trained", the default; "random" and "tied" are scored \
        without training) and prints {"index", "settings", "metrics": {mse, psnr, ssim, images}, \
        "final_loss", "seconds", ...} on stdout. In a Slurm array: \
        rwcnn sweep grid.json --index $SLURM_ARRAY_TASK_ID >> results.jsonl (with --array=0-N-1, N from --count).

        With --out DIR each run also keeps its decoder (run-I.safetensors), its JSON line \
        (run-I.json) and, while it trains, a checkpoint (run-I.checkpoint.safetensors, every \
        checkpoint_every steps and on Ctrl-C). --resume (with --out) then prints the line of a \
        finished run again without running it, continues an interrupted run from its \
        checkpoint exactly, and starts the others: a requeued array job or a rerun of the \
        whole grid picks up where it stopped.
        """)

    @Argument(help: "The grid file (JSON).")
    var grid: String

    @Option(help: "Run only this run (0-based); default: every run, one after the other.")
    var index: Int?

    @Flag(help: "Print the number of runs and exit.")
    var count = false

    @Flag(help: "Print every run's settings as a JSON line and exit.")
    var list = false

    @Option(help: "Folder for each run's decoder (run-<index>.safetensors, decoder only), result line (run-<index>.json) and checkpoint.")
    var out: String?

    @Flag(help: "With --out: skip finished runs (their line is printed again) and continue interrupted ones from their checkpoints.")
    var resume = false

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        let sweep = try Sweep(json: try readFile(path: grid), source: grid)
        if count { print(sweep.count); return }
        let runs = try index.map { [try sweep.run($0)] } ?? (0..<sweep.count).map { try sweep.run($0) }
        if list {
            for r in runs {
                print(try JSONValue.object([("index", .number(Double(r.index))), ("settings", .object(r.settings))]).serialized())
            }
            return
        }
        guard !resume || out != nil else { throw ValidationError("--resume needs --out (the folder of the runs' results and checkpoints)") }
        try threads.apply()
        if let out, mkdir(out, 0o755) != 0 && errno != EEXIST {
            throw ValidationError("cannot create --out folder \(out): \(String(cString: strerror(errno)))")
        }
        signal(SIGINT) { _ in sweepInterrupted = 1 }
        defer { signal(SIGINT, SIG_DFL) }
        for r in runs {
            let stem = out.map { $0 + "/run-\(r.index)" }
            if resume, let stem, let done = try? readFile(path: stem + ".json"),
               let line = try? JSONValue.parse(done), case .object = line {
                print(try line.serialized())  // finished before: its line again, nothing run
                fflush(stdout)
                continue
            }
            let checkpoint = stem.map { $0 + ".checkpoint.safetensors" }
            let line = try Sweep.execute(r, decoderPath: stem.map { $0 + ".safetensors" }, checkpointPath: checkpoint,
                                         resume: resume) { p in
                if p.kind == .warning { printError("run \(r.index): warning: \(p.message)") }
                return sweepInterrupted != 0 ? .cancel : .proceed
            }
            let text = try line.serialized()
            if let stem {
                try writeFileAtomically(path: stem + ".json", bytes: Array((text + "\n").utf8))
                if let checkpoint { unlink(checkpoint) }  // the run is complete; its line says so
            }
            print(text)
            fflush(stdout)
        }
    }
}
