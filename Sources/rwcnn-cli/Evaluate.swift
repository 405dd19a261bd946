import ArgumentParser
import RWCNN

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a decoder on the held-out crops a training run would use.",
        discussion: """
        Takes the same data options as `rwcnn train`, so a random or tied decoder is scored \
        on exactly the images a trained one was. Random and tied outputs are \
        display-normalised (their scale is arbitrary); trained outputs are clamped to [0, 1]. \
        Prints mean MSE, PSNR and SSIM over the held-out crops.
        """)

    @Option(help: "Layer to reconstruct from; taken from the file for a trained decoder.")
    var cut: String?

    @Option(help: "random, tied, or a model file written by `rwcnn train`.")
    var decoder = "random"

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var model: ModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let m = try modelForDecoder(decoder, cut: cut, options: model)
        var o = TrainOptions()
        dataOptions.apply(to: &o)
        let (crops, skipped) = try heldOutCrops(options: o)
        for s in skipped { printError("warning: skipped \(s.path): \(s.reason)") }
        let started = monotonicSeconds()
        let e = try m.evaluate(crops)
        print("\(m.config.cut) \(m.config.decoder.rawValue) on \(e.images) held-out crops: MSE \(fixed(e.mse, 5))  "
              + "PSNR \(fixed(e.psnr, 2)) dB  SSIM \(fixed(e.ssim, 4))  (\(fixed(monotonicSeconds() - started, 1)) s)")
    }
}
