import ArgumentParser
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT; the progress callback turns it into a clean stop.
nonisolated(unsafe) private var studyInterrupted: sig_atomic_t = 0

struct StudyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "study",
        abstract: "Run one of the paper's studies (or all) and record every run as a JSON line.",
        discussion: """
        Studies: \(StudyName.allCases.map(\.rawValue).joined(separator: ", ")), all.

        \(StudyName.allCases.map { "\($0.rawValue): \($0.claim)" }.joined(separator: "\n\n"))

        Each run (a model or baseline scored on the held-out crops) appends one line to OUT/NAME.jsonl: \
        config, seed, metrics, seconds, the protocol and this command. The reconstruction of the first \
        held-out crop goes to OUT/images. Rerunning the same command skips recorded runs and resumes an \
        interrupted training from its checkpoint (OUT/checkpoints); Ctrl-C stops cleanly. --quick uses tiny \
        settings (32-pixel crops, 8 steps) and runs in minutes; the default takes up to about 30 minutes \
        per study on 2 cores. Then `rwcnn report OUT -o report/` draws the figures.
        """)

    @Argument(help: "Study name: \(StudyName.allCases.map(\.rawValue).joined(separator: ", ")) or all.")
    var name: String

    @Option(help: "Folder of PNG photos (default: the bundled data/images).")
    var data: String?

    @Option(help: "Held-out folder; default: a seeded split of --data.")
    var evalData: String?

    @Option(name: .customLong("eval"), help: ArgumentHelp("Old name of --eval-data.", visibility: .hidden))
    var evalAlias: String?

    /// --eval-data, or its old name --eval.
    var eval: String? { evalData ?? evalAlias }

    @Option(help: "Share of --data held out when there is no --eval-data.")
    var evalFraction = 0.3

    @Flag(help: "Tiny settings for a check in minutes (CI).")
    var quick = false

    @Option(help: "Training steps of trained runs (default: the study's, 8 with --quick).")
    var steps: Int?

    @Option(help: "Square crop side (default 64; 32 with --quick).")
    var crop: Int?

    @Option(help: "Resize the short side to this before cropping (default 128; 48 with --quick).")
    var shortSide: Int?

    @Option(help: "Images per training step (default 8; 2 with --quick).")
    var batch: Int?

    @Option(parsing: .upToNextOption, help: "Model seeds of the studies repeated over seeds (distributions, random).")
    var seeds: [UInt64] = [0, 1, 2]

    @Option(help: "Output folder (default: out/studies/NAME; for all, one folder per study inside it).")
    var out: String?

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard name == "all" || StudyName(rawValue: name) != nil else {
            throw ValidationError("unknown study \"\(name)\"; choose one of \(StudyName.allCases.map(\.rawValue).joined(separator: ", ")) or all")
        }
    }

    func run() throws {
        try threads.apply()
        guard let folder = data ?? bundledFile("data/images") else {
            throw ValidationError("cannot find the bundled data/images; pass --data")
        }
        var settings = StudySettings(dataFolder: folder, quick: quick)
        settings.evalFolder = eval; settings.evalFraction = evalFraction
        settings.steps = steps; settings.seeds = seeds
        if let crop { settings.crop = crop }
        if let shortSide { settings.shortSide = shortSide }
        if let batch { settings.batchSize = batch }
        let studies = name == "all" ? StudyName.allCases : [StudyName(rawValue: name)!]
        let command = (["rwcnn"] + CommandLine.arguments.dropFirst()).map(shellQuoted).joined(separator: " ")

        signal(SIGINT) { _ in studyInterrupted = 1 }
        defer { signal(SIGINT, SIG_DFL) }
        for study in studies {
            let target = name == "all" ? (out ?? "out/studies") + "/" + study.rawValue : out ?? "out/studies/" + study.rawValue
            let started = monotonicSeconds()
            print("study \(study.rawValue): \(study.claim)")
            let line = ProgressLine()
            let records = try Study.run(study, settings: settings, folder: target, command: command) { event in
                switch event {
                case .warning(let w): line.finish(); printError("warning: \(w)")
                case .skipped(let i, let n, let run): line.finish(); print("[\(i)/\(n)] \(run.id): recorded, skipped")
                case .started(let i, let n, let run): line.finish(); print("[\(i)/\(n)] \(run.id) ...")
                case .training(let p): if p.kind == .step { line.show("  " + stepLine(p)) }
                case .finished(_, _, _, let record): line.finish(); print("  " + summary(record))
                }
                return studyInterrupted != 0 ? .cancel : .proceed
            }
            print("study \(study.rawValue): \(records.count) runs in \(fixed(monotonicSeconds() - started, 1)) s -> \(target)/\(study.rawValue).jsonl")
        }
    }
}

/// The figures of a recorded run, for the progress output.
private func summary(_ record: JSONValue) -> String {
    func number(_ key: String) -> String {
        if case .number(let v)? = record["metrics"]?[key] { return fixed(v, key.contains("psnr") ? 2 : 3) }
        return "-"
    }
    var seconds = "?"
    if case .number(let s)? = record["seconds"] { seconds = fixed(s, 1) }
    if case .string("theory")? = record["method"] {
        return "cosine \(number("cosine")) (sd \(number("cosine_sd"))), predicted \(number("predicted"))  (\(seconds) s)"
    }
    return "PSNR \(number("psnr"))  SSIM \(number("ssim"))  colour-inv \(number("colour_ssim")) (cross-image \(number("cross_colour_ssim")))  "
        + "fitted PSNR \(number("fitted_psnr_channel")) / \(number("fitted_psnr_matrix"))  (\(seconds) s)"
}

/// An argument as a POSIX shell would need it written.
func shellQuoted(_ s: String) -> String {
    let plain = !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
    return plain ? s : "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}
