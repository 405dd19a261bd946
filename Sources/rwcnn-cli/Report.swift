import ArgumentParser
import RWCNN

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML page from study results.",
        discussion: """
        Reads the JSON lines written by `rwcnn study` (files, or folders searched for .jsonl) and writes \
        OUTPUT/index.html: per study the plots (SVG drawn by rwcnn, no plotting library), the \
        reconstruction grid (method x swept value), the protocol with the exact commands, and a table of \
        every run. Images are embedded, so the page is one file.
        """)

    @Argument(help: "Results: .jsonl files or folders holding them.")
    var results: [String]

    @Option(name: .shortAndLong, help: "Output folder.")
    var output = "report"

    func run() throws {
        let path = try StudyReport.write(results: results, folder: output)
        print("report: \(path)")
    }
}
