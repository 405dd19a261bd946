import ArgumentParser
import RWCNN

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the layer table: output shapes, parameter counts and each layer's other names.",
        discussion: """
        Every command that takes a layer name also takes the aliases listed under "also": \
        Caffe/Gatys relu<b>_<i>, Keras block<b>_conv<i> / block<b>_pool and torchvision \
        features.<i> (the ReLU module, or the conv module before it).
        """)

    @Option(help: "Architecture: vgg16, vgg19 or a spec such as \"64,64,M,128k5,M\".")
    var arch = ModelConfig().arch

    @Option(help: "Channel multiplier.")
    var width = ModelConfig().width

    @Option(help: "Use this odd kernel size for every conv.")
    var kernel: Int?

    @Option(help: "Input size (square) for the shapes.")
    var size = 224

    func run() throws {
        let a = try Architecture(spec: arch, width: width, kernelSize: kernel)
        let shapes = try a.shapes(height: size, width: size)
        print("\(arch) (width \(width)\(kernel.map { ", kernel \($0)" } ?? "")), input 3x\(size)x\(size)")
        print(pad("layer", 10) + pad("kind", 14) + pad("output CxHxW", 18) + pad("params", 12, right: true) + pad("total", 14, right: true) + "also")
        var total = 0
        for (layer, s) in zip(a.layers, shapes) {
            total += layer.parameterCount
            let kind: String
            switch layer.kind {
            case .conv(let k): kind = "conv \(k)x\(k)"
            case .pool(let k, let st): kind = "\(layer.pooling == .avg ? "avgpool" : "maxpool") \(k)/\(st)"
            }
            print(pad(layer.name, 10) + pad(kind, 14) + pad(s.map(String.init).joined(separator: "x"), 18)
                  + pad("\(layer.parameterCount)", 12, right: true) + pad("\(total)", 14, right: true)
                  + layer.aliases.joined(separator: ", "))
        }
    }
}

/// Pads (or right-aligns) a table cell.
func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, n - s.count))
    return right ? fill + s + "  " : s + fill
}
