import ArgumentParser
import RWCNN

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write an image's features at a layer to a safetensors or .npy file.",
        discussion: """
        The format follows the output's extension: .safetensors holds one F32 tensor `features` of \
        shape [1, C, H, W] plus the model's metadata (numpy and PyTorch read it with the \
        safetensors package); .npy holds the [1, C, H, W] float32 array alone (numpy.load).
        """)

    @Argument(help: "PNG or JPEG image.")
    var image: String

    @Option(help: "Layer to take the features at (e.g. conv1_2, pool3).")
    var cut: String

    @Option(help: "Resize the short side to this and centre-crop a square (0 keeps the image as is).")
    var size = 224

    @Option(name: .shortAndLong, help: "Output file: .safetensors or .npy.")
    var output: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let lower = output.lowercased()
        guard lower.hasSuffix(".safetensors") || lower.hasSuffix(".npy") else {
            throw ValidationError("-o \(output): the name must end in .safetensors or .npy (the format follows it)")
        }
        let m = try Model(config: model.config(cut: cut, decoder: .tied))
        let x = try loadInput(image, size: size)
        let f = try m.encode(x)
        var meta = m.fileMetadata
        meta["image"] = image
        if lower.hasSuffix(".npy") {
            try writeFileAtomically(path: output, bytes: npyBytes(f))
        } else {
            try SafetensorsFile(metadata: meta, tensors: [(name: "features", tensor: f)]).write(path: output)
        }
        print("features at \(cut): \(f.shape.map(String.init).joined(separator: "x")) -> \(output)")
    }
}

/// Loads a PNG or JPEG as RGB [3, H, W]; with size > 0, resized and centre-cropped to size x size.
func loadInput(_ path: String, size: Int) throws -> Tensor {
    let t = try loadImageTensor(path: path, channels: 3)
    return size > 0 ? try resizeAndCenterCrop(t, size: size) : t
}
