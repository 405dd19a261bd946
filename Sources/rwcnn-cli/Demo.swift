import ArgumentParser
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconstruct a bundled photo from every block of a random VGG16.",
        discussion: """
        For each layer (conv1_2, pool1 ... pool5) the photo is encoded by a random VGG16 and \
        decoded by the tied decoder (the encoder's adjoint), by an independent random decoder, \
        and, where a trained decoder file ships in data/decoders, by a trained one. Writes one \
        labelled grid PNG and prints PSNR / SSIM / colour-invariant SSIM per layer. Random and \
        tied outputs are display-normalised (their scale is arbitrary); trained ones are \
        clamped to [0, 1].
        """)

    @Option(help: "PNG or JPEG image (default: the bundled astronaut.png).")
    var image: String?

    @Option(help: "Resize the short side to this and centre-crop a square.")
    var size = 224

    @Option(parsing: .upToNextOption, help: "Layers to reconstruct from.")
    var layers = ["conv1_2", "pool1", "pool2", "pool3", "pool4", "pool5"]

    @Option(help: "Seed of the random weights.")
    var seed: UInt64 = 0

    @Option(name: .shortAndLong, help: "Output grid PNG.")
    var output = "out/demo.png"

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let started = monotonicSeconds()
        guard let path = image ?? bundledFile("data/images/astronaut.png") else {
            throw ValidationError("cannot find the bundled data/images/astronaut.png; pass --image")
        }
        let x = try loadInput(path, size: size)
        print("rwcnn demo: \(path) at \(size)x\(size), random VGG16 (seed \(seed), He-normal weights)")

        // Row "original" holds the photo under its column; decoder rows leave
        // that column empty (nil tiles stay blank).
        var table: [String: [String: (Double, Double, Double)]] = [:]
        var kinds: [String] = ["tied", "random"]
        var tiles: [String: [Tensor?]] = ["tied": [nil], "random": [nil], "trained": [nil]]
        var trainedAvailable = false
        for cut in layers {
            var models: [Model] = []
            for mode in [DecoderMode.tied, .random] { models.append(try Model(config: ModelConfig(cut: cut, seed: seed, decoder: mode))) }
            if let file = bundledFile("data/decoders/vgg16_seed\(seed)_\(cut).safetensors") {
                models.append(try Model.load(path: file))
                trainedAvailable = true
            } else {
                tiles["trained"]!.append(nil)
            }
            for m in models {
                let y = try m.forDisplay(m.reconstruct(x)).item(0)
                table[cut, default: [:]][m.config.decoder.rawValue] = try scores(y, x)
                tiles[m.config.decoder.rawValue]!.append(y)
            }
        }
        if trainedAvailable { kinds.append("trained") }
        let rows = [GridRow(label: "original", tiles: [x])] + kinds.map { GridRow(label: $0, tiles: tiles[$0]!) }

        try makeParent(output)
        try saveImageTensor(labelledGrid(rows: rows, columns: ["original"] + layers, tile: size), path: output)

        var header = pad("layer", 9)
        for k in kinds { header += pad("\(k) PSNR", 13, right: true) + pad("SSIM", 7, right: true) + pad("colour-inv", 11, right: true) }
        print(header)
        for cut in layers {
            var line = pad(cut, 9)
            for k in kinds {
                if let (p, s, c) = table[cut]?[k] {
                    line += pad(fixed(p, 2), 13, right: true) + pad(fixed(s, 3), 7, right: true) + pad(fixed(c, 3), 11, right: true)
                } else {
                    line += pad("-", 13, right: true) + pad("-", 7, right: true) + pad("-", 11, right: true)
                }
            }
            print(line)
        }
        if !trainedAvailable { print("(no trained decoders for seed \(seed) in data/decoders; see `rwcnn train`)") }
        print("grid: \(output)  (\(fixed(monotonicSeconds() - started, 1)) s)")
    }
}

private func scores(_ y: Tensor, _ x: Tensor) throws -> (Double, Double, Double) {
    (try Metrics.psnr(y, x), try Metrics.ssim(y, x), try Metrics.colourInvariantSSIM(reconstruction: y, original: x))
}

/// A file shipped with rwcnn: relative to the working directory, to the
/// repository that holds this executable (.build/<config>/rwcnn-cli), or to
/// an installed share/rwcnn.
func bundledFile(_ relative: String) -> String? {
    var candidates = [relative]
    var buf = [CChar](repeating: 0, count: 4096)
    let n = readlink("/proc/self/exe", &buf, buf.count - 1)
    if n > 0 {
        let exe = String(cString: buf)
        let dir = String(exe[..<(exe.lastIndex(of: "/") ?? exe.endIndex)])
        candidates += [dir + "/../../" + relative, dir + "/../share/rwcnn/" + relative.replacingPrefix("data/", with: "")]
    }
    return candidates.first { access($0, R_OK) == 0 }
}

extension String {
    func replacingPrefix(_ prefix: String, with new: String) -> String {
        hasPrefix(prefix) ? new + dropFirst(prefix.count) : self
    }
}

/// Creates the folders above `path` if they are missing.
func makeParent(_ path: String) throws {
    var parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
    var current = path.hasPrefix("/") ? "" : "."
    if path.hasPrefix("/") { parts = parts.dropFirst() }
    for p in parts where !p.isEmpty {
        current += "/" + p
        if mkdir(current, 0o755) != 0 && errno != EEXIST {
            throw RWCNNError.io("cannot create folder \(current): \(String(cString: strerror(errno)))")
        }
    }
}
