import ArgumentParser
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

/// Where training and held-out images come from; shared by `train` and
/// `evaluate` so both see exactly the same held-out crops.
struct DataOptions: ParsableArguments {
    private static let defaults = TrainOptions()

    @Option(help: "Folder of PNG and JPEG files (searched recursively).")
    var data: String

    @Option(name: .customLong(TrainOptionName.evalData.cliName), help: "Held-out folder; default: a seeded split of --data.")
    var evalData: String?

    @Option(name: .customLong("eval"), help: ArgumentHelp("Old name of --eval-data.", visibility: .hidden))
    var evalAlias: String?

    /// --eval-data, or its old name --eval.
    var eval: String? { evalData ?? evalAlias }

    @Option(help: "Share of --data held out when there is no --eval-data.")
    var evalFraction = defaults.evalFraction

    @Option(help: "Square crop side.")
    var crop = defaults.crop

    @Option(help: "Resize images so the shorter side is this before cropping (0 keeps them).")
    var shortSide = defaults.shortSide

    @Flag(help: "Use whole images resized to crop x crop instead of random crops.")
    var resizeWhole = false

    @Option(name: .customLong(TrainOptionName.dataSeed.cliName), help: "Seed of the split, data order, crops and flips.")
    var dataSeed = defaults.dataSeed

    /// These settings written into training options.
    func apply(to o: inout TrainOptions) {
        o.dataFolder = data; o.evalFolder = eval; o.evalFraction = evalFraction
        o.crop = crop; o.shortSide = shortSide; o.resizeWhole = resizeWhole; o.dataSeed = dataSeed
    }
}

/// The model a `--decoder` option names: `random` or `tied` built from the
/// model options at `cut`, or a model file written by `rwcnn train`.
func modelForDecoder(_ decoder: String, cut: String?, options: ModelOptions) throws -> Model {
    if let mode = DecoderMode(rawValue: decoder), mode != .trained {
        guard let cut else { throw ValidationError("--cut is required with --decoder \(decoder)") }
        return try Model(config: options.config(cut: cut, decoder: mode))
    }
    guard access(decoder, F_OK) == 0 else {
        throw ValidationError("--decoder \(decoder): not one of \(DecoderMode.allCases.filter { $0 != .trained }.map(\.rawValue).joined(separator: ", ")) and no such model file")
    }
    let m = try Model.load(path: decoder)
    if let cut, try m.architecture.canonicalName(of: cut) != m.config.cut {
        throw ValidationError("\(decoder) reconstructs from \(m.config.cut), not \(cut)")
    }
    return m
}
