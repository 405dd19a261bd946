import ArgumentParser
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

@main
struct RWCNNCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rwcnn",
        abstract: "Random-weight CNNs: what their features keep of an image.",
        discussion: """
        Build a VGG-style CNN with random weights, take the features at any layer and \
        reconstruct the image from them with a mirrored deconvolutional network that is \
        random, tied to the encoder, or trained.
        """,
        version: RWCNNVersion.string,
        subcommands: [Demo.self, Info.self, Reconstruct.self, Features.self, Train.self, Evaluate.self, Benchmark.self, StudyCommand.self, ReportCommand.self, SweepCommand.self,
                      /* image synthesis */ Invert.self, Texture.self, Style.self])

    /// As ArgumentParser's `main`, except that a usage error a subcommand
    /// finds while it runs (a `ValidationError` from `run()`) prints that
    /// subcommand's usage, not the top-level one.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            finish(error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            let sub = type(of: command)
            let usage = usageString(for: sub)
            let name = usage.split(separator: " ").prefix { !"<[-".contains($0.first ?? "<") }.joined(separator: " ")
            printError(wrappingUsage("Error: \(error.message)\nUsage: \(usage)\n  See '\(name) --help' for more information."))
            Glibc.exit(ExitCode.validationFailure.rawValue)
        } catch {
            finish(error)
        }
    }

    /// ArgumentParser's `exit(withError:)`, with the usage line wrapped.
    static func finish(_ error: Error) -> Never {
        let code = exitCode(for: error)
        let text = wrappingUsage(fullMessage(for: error))
        if !text.isEmpty {
            if code == .success { print(text) } else { printError(text) }
        }
        Glibc.exit(code.rawValue)
    }
}

/// The terminal width ArgumentParser wraps help to: $COLUMNS, the terminal's, or 80.
func helpColumns() -> Int {
    if let c = getenv("COLUMNS").flatMap({ Int(String(cString: $0)) }), c > 0 { return c }
    var size = winsize()
    if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
    return 80
}

/// `text` with its "USAGE: " / "Usage: " line wrapped at `columns` (which
/// ArgumentParser leaves as one long line): whole groups ("[--size
/// <size>]", "--cut <cut>") are filled greedily, continuation lines
/// indented under the first option.
func wrappingUsage(_ text: String, columns: Int = helpColumns()) -> String {
    let width = max(40, columns)
    return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
        guard line.hasPrefix("USAGE: ") || line.hasPrefix("Usage: "), line.count > width else { return String(line) }
        // Split at spaces outside brackets, then keep "--name <value>" together.
        var groups: [String] = [], current = "", depth = 0
        for ch in line {
            if ch == "[" || ch == "<" { depth += 1 }
            if ch == "]" || ch == ">" { depth -= 1 }
            if ch == " " && depth == 0 {
                if !current.isEmpty { groups.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { groups.append(current) }
        var units: [String] = []
        for g in groups {
            if g.hasPrefix("<"), let last = units.last, last.hasPrefix("--"), !last.contains(" ") {
                units[units.count - 1] = last + " " + g
            } else {
                units.append(g)
            }
        }
        // The head: "USAGE:", "rwcnn" and the subcommand names.
        let headCount = units.prefix { !"<[-".contains($0.first ?? "<") }.count
        var out = units.prefix(headCount).joined(separator: " ")
        let indent = out.count + 1 <= width / 2 ? out.count + 1 : 8
        var lineLength = out.count
        for u in units.dropFirst(headCount) {
            if lineLength + 1 + u.count > width && lineLength > indent {
                out += "\n" + String(repeating: " ", count: indent) + u
                lineLength = indent + u.count
            } else {
                out += " " + u
                lineLength += 1 + u.count
            }
        }
        return out
    }.joined(separator: "\n")
}

/// Model settings shared by the subcommands. Defaults are the core's
/// (`ModelConfig()`); names match the C struct and Python (`distribution`).
struct ModelOptions: ParsableArguments {
    private static let defaults = ModelConfig()

    @Option(help: "Architecture: vgg16, vgg19 or a spec such as \"64,64,M,128k5,M\".")
    var arch = defaults.arch

    @Option(help: "Channel multiplier (each conv keeps at least one channel).")
    var width = defaults.width

    @Option(help: "Use this odd kernel size for every conv (C and Python: kernel_size).")
    var kernelSize: Int?

    @Option(name: .customLong("kernel"), help: ArgumentHelp("Old name of --kernel-size.", visibility: .hidden))
    var kernelAlias: Int?

    /// --kernel-size, or its old name --kernel.
    var kernel: Int? { kernelSize ?? kernelAlias }

    @Option(help: "Seed of the random weights.")
    var seed = defaults.seed

    @Option(help: ArgumentHelp("Weight distribution: \(Vocabulary.distribution.names.joined(separator: ", ")).",
                               valueName: "name"))
    var distribution = defaults.weightInit.distribution.rawValue

    @Option(name: .customLong("init-distribution"), help: ArgumentHelp("Old name of --distribution.", visibility: .hidden))
    var initDistribution: String?

    @Option(help: "Scale rule: he, glorot, fixed (standard deviation \(WeightInit.defaultFixedStd)) or a standard deviation such as 0.02.")
    var scale = defaults.weightInit.scale.name

    @Option(help: "Mean of the weight draws.")
    var mean = defaults.weightInit.mean

    @Option(help: ArgumentHelp("Unpooling in the decoder: \(Vocabulary.unpoolMode.names.joined(separator: ", ")).",
                               valueName: "mode"))
    var unpool = defaults.unpool.rawValue

    func config(cut: String, decoder: DecoderMode) throws -> ModelConfig {
        if let old = initDistribution, old != distribution, distribution != ModelOptions.defaults.weightInit.distribution.rawValue {
            throw ValidationError("--distribution \(distribution) and its old name --init-distribution \(old) disagree; pass one")
        }
        let name = initDistribution ?? distribution
        guard let d = Distribution(rawValue: name.lowercased()) else {
            throw ValidationError("--distribution must be one of \(Vocabulary.distribution.names.joined(separator: ", ")), got \"\(name)\"")
        }
        let rule: ScaleRule
        switch scale.lowercased() {
        case "he": rule = .he
        case "glorot": rule = .glorot
        case "fixed": rule = .fixed(std: WeightInit.defaultFixedStd)
        default:
            guard let s = Double(scale), s >= 0 else { throw ValidationError("--scale must be he, glorot, fixed or a non-negative number, got \"\(scale)\"") }
            rule = .fixed(std: s)
        }
        guard let u = UnpoolMode(rawValue: unpool.lowercased()) else {
            throw ValidationError("--unpool must be one of \(Vocabulary.unpoolMode.names.joined(separator: ", ")), got \"\(unpool)\"")
        }
        return ModelConfig(arch: arch, cut: cut, width: width, kernelSize: kernel,
                           weightInit: WeightInit(distribution: d, scale: rule, mean: mean),
                           seed: seed, unpool: u, decoder: decoder)
    }
}

/// Threads option shared by the subcommands that compute.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads (BLAS included); default: all cores.")
    var threads: Int?

    func apply() throws {
        if let t = threads {
            guard t >= 1 else { throw ValidationError("--threads must be >= 1") }
            Threads.set(t)
        } else {
            Threads.set(Threads.count)
        }
    }
}
