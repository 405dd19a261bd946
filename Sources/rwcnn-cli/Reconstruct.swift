import ArgumentParser
import RWCNN

struct Reconstruct: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reconstruct an image from its features at a layer.",
        discussion: """
        --decoder random uses an independent random decoder, tied the encoder's own weights \
        (the adjoint), and a file a model written by `rwcnn train` (its architecture, cut and \
        seed come from the file). Random and tied outputs have an arbitrary scale and are \
        display-normalised before writing; trained outputs are clamped to [0, 1]. Prints \
        PSNR and SSIM of the written image and the colour-invariant SSIM.
        """)

    @Argument(help: "PNG or JPEG image.")
    var image: String

    @Option(help: "Layer to reconstruct from (e.g. conv1_2, pool3); taken from the file for a trained decoder.")
    var cut: String?

    @Option(help: "random, tied, or a model file written by `rwcnn train`.")
    var decoder = "random"

    @Option(help: "Resize the short side to this and centre-crop a square (0 keeps the image as is).")
    var size = 224

    @Option(name: .shortAndLong, help: "Output PNG.")
    var output: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let m = try modelForDecoder(decoder, cut: cut, options: model)
        let x = try loadInput(image, size: size)
        let y = try m.forDisplay(m.reconstruct(x)).item(0)
        try saveImageTensor(y, path: output)
        let psnr = try Metrics.psnr(y, x), ssim = try Metrics.ssim(y, x)
        let colour = try Metrics.colourInvariantSSIM(reconstruction: y, original: x)
        print("\(m.config.cut) \(m.config.decoder.rawValue): PSNR \(fixed(psnr, 2)) dB  SSIM \(fixed(ssim, 4))  colour-invariant SSIM \(fixed(colour, 4)) -> \(output)")
    }
}

/// A number with a fixed count of decimals, without Foundation.
func fixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "nan" : (v > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(v) * scale).rounded()
    let whole = Int(r / scale), frac = Int(r.truncatingRemainder(dividingBy: scale))
    var f = String(frac)
    while f.count < digits { f = "0" + f }
    return (v < 0 && r != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + f : "")
}
