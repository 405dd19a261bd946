import ArgumentParser
import RWCNN

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an image's features at a layer to a safetensors file.",
        discussion: "The file holds one F32 tensor `features` of shape [1, C, H, W]; numpy and PyTorch read it with the safetensors package.")

    @Argument(help: "PNG or JPEG image.")
    var image: String

    @Option(help: "Layer to take the features at (e.g. conv1_2, pool3).")
    var cut: String

    @Option(help: "Resize the short side to this and centre-crop a square (0 keeps the image as is).")
    var size = 224

    @Option(name: .shortAndLong, help: "Output safetensors file.")
    var output: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let m = try Model(config: model.config(cut: cut, decoder: .tied))
        let x = try loadInput(image, size: size)
        let f = try m.encode(x)
        var meta = m.fileMetadata
        meta["image"] = image
        try SafetensorsFile(metadata: meta, tensors: [(name: "features", tensor: f)]).write(path: output)
        print("features at \(cut): \(f.shape.map(String.init).joined(separator: "x")) -> \(output)")
    }
}

/// Loads a PNG or JPEG as RGB [3, H, W]; with size > 0, resized and centre-cropped to size x size.
func loadInput(_ path: String, size: Int) throws -> Tensor {
    let t = try loadImageTensor(path: path, channels: 3)
    return size > 0 ? try resizeAndCenterCrop(t, size: size) : t
}
