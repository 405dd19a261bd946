/// One layer of an encoder stack.
public struct Layer: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// Convolution with "same" padding (kernel / 2), stride 1, followed by ReLU.
        case conv(kernel: Int)
        /// Pooling (max or average, see `pooling`), no padding, floor mode.
        case pool(kernel: Int, stride: Int)
    }
    /// What a pool layer takes of its window; `.max` for convs (unused).
    public enum Pooling: String, CaseIterable, Sendable {
        /// The largest value (with argmax switches for the decoder).
        case max
        /// The mean (Gatys et al. and He et al. synthesise with it).
        case avg
    }
    /// VGG-style name: conv<block>_<i> or pool<block>.
    public var name: String
    public var kind: Kind
    public var inChannels: Int
    public var outChannels: Int
    /// Index of this layer's module in torchvision's `features` Sequential
    /// (conv, ReLU and pool are separate modules there).
    public var torchIndex: Int
    /// Max or average, for pool layers.
    public var pooling: Pooling = .max

    public var isConv: Bool { if case .conv = kind { return true } else { return false } }
    public var kernel: Int {
        switch kind { case .conv(let k): return k; case .pool(let k, _): return k }
    }
    public var padding: Int { if case .conv(let k) = kind { return k / 2 } else { return 0 } }
    public var stride: Int { if case .pool(_, let s) = kind { return s } else { return 1 } }
    /// The same layer's names in the conventions users bring, all naming the
    /// output rwcnn gives at `name` (a conv's output is after its ReLU):
    /// - conv<b>_<i>: Caffe/Gatys `relu<b>_<i>`, Keras `block<b>_conv<i>`
    ///   (its convs have the ReLU built in), and torchvision's
    ///   `features.<r>` where r is the ReLU module, plus `features.<r-1>`,
    ///   the conv module itself, as torchvision feature extractors call it;
    /// - pool<b>: Keras `block<b>_pool` and torchvision `features.<p>`.
    public var aliases: [String] {
        switch kind {
        case .conv:
            let parts = name.dropFirst(4).split(separator: "_")
            guard parts.count == 2 else { return [] }
            return ["relu\(parts[0])_\(parts[1])", "block\(parts[0])_conv\(parts[1])",
                    "features.\(torchIndex + 1)", "features.\(torchIndex)"]
        case .pool:
            return ["block\(name.dropFirst(4))_pool", "features.\(torchIndex)"]
        }
    }

    /// Weight count + bias count (0 for pools).
    public var parameterCount: Int {
        isConv ? outChannels * inChannels * kernel * kernel + outChannels : 0
    }
}

/// A stack of conv and pool layers: the presets `vgg16` and `vgg19`, or a
/// text spec for custom stacks.
///
/// Spec grammar: tokens separated by commas or spaces.
/// - `64` is a conv with 64 output channels and a 3x3 kernel; `64k5` uses a
///   5x5 kernel (odd sizes only, padding k/2 keeps the spatial size).
/// - `M` is a 2x2 max pool with stride 2; `M3` is 3x3 with stride 3;
///   `M3s2` is 3x3 with stride 2. (`P` is a synonym of `M`.)
/// - `A`, `A3`, `A3s2`: the same geometry with average pooling.
/// - Presets `vgg16-avg` and `vgg19-avg` are VGG16/19 with every max pool
///   an average pool (the synthesis papers' choice); the weights of a
///   preset and its `-avg` twin are the same draw for a seed.
///
/// Layers are named as in VGG: the block number starts at 1 and grows after
/// each pool; convs within a block count from 1 (`conv2_1`), the pool that
/// ends block b is `pool<b>`. Wherever a layer name is taken, the aliases of
/// other conventions are too (`relu4_2`, `block4_conv2`, `features.22`; see
/// `Layer.aliases`).
///
/// ```swift
/// let vgg = try Architecture(spec: "vgg16")
/// try vgg.featureShape(at: "pool5", height: 224, width: 224)  // [512, 7, 7]
/// let small = try Architecture(spec: "32,M,64k5,M", width: 0.5)
/// ```
public struct Architecture: Equatable, Sendable {
    public static let presets: [String: String] = [
        "vgg16": "64,64,M,128,128,M,256,256,256,M,512,512,512,M,512,512,512,M",
        "vgg19": "64,64,M,128,128,M,256,256,256,256,M,512,512,512,512,M,512,512,512,512,M",
        "vgg16-avg": "64,64,A,128,128,A,256,256,256,A,512,512,512,A,512,512,512,A",
        "vgg19-avg": "64,64,A,128,128,A,256,256,256,256,A,512,512,512,512,A,512,512,512,512,A",
    ]

    /// The spec as given (a preset name or a custom text spec).
    public let spec: String
    public let width: Double
    public let kernelOverride: Int?
    public let inputChannels: Int
    public let layers: [Layer]

    /// Builds a stack from a preset name or a text spec.
    /// - Parameters:
    ///   - width: channel multiplier; each conv keeps at least one channel.
    ///   - kernelSize: if set, every conv uses this (odd) kernel size.
    ///   - inputChannels: image channels (3 for RGB).
    public init(spec: String, width: Double = 1, kernelSize: Int? = nil, inputChannels: Int = 3) throws {
        guard width.isFinite, width > 0, width <= 64 else {
            throw RWCNNError.argument("width multiplier must be in (0, 64], got \(width)")
        }
        if let k = kernelSize, k < 1 || k > 31 || k % 2 == 0 {
            throw RWCNNError.argument("kernel size must be odd and in 1...31, got \(k)")
        }
        guard inputChannels >= 1 && inputChannels <= 4 else {
            throw RWCNNError.argument("input channels must be 1...4, got \(inputChannels)")
        }
        let text = Architecture.presets[spec.lowercased()] ?? spec
        var layers: [Layer] = []
        var channels = inputChannels, block = 1, convInBlock = 0, torchIndex = 0
        let tokens = text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\n" })
        guard !tokens.isEmpty else {
            throw RWCNNError.argument("architecture spec is empty; use vgg16, vgg19 or e.g. \"64,64,M,128,M\"")
        }
        for token in tokens.map(String.init) {
            if let pool = try Architecture.parsePool(token) {
                layers.append(Layer(name: "pool\(block)", kind: .pool(kernel: pool.k, stride: pool.s),
                                    inChannels: channels, outChannels: channels, torchIndex: torchIndex,
                                    pooling: pool.pooling))
                torchIndex += 1
                block += 1
                convInBlock = 0
            } else {
                let (c, k) = try Architecture.parseConv(token)
                let out = max(1, Int((Double(c) * width).rounded()))
                convInBlock += 1
                layers.append(Layer(name: "conv\(block)_\(convInBlock)", kind: .conv(kernel: kernelSize ?? k),
                                    inChannels: channels, outChannels: out, torchIndex: torchIndex))
                torchIndex += 2
                channels = out
            }
        }
        guard layers.count <= 256 else { throw RWCNNError.argument("architecture has \(layers.count) layers; at most 256") }
        self.spec = spec
        self.width = width
        self.kernelOverride = kernelSize
        self.inputChannels = inputChannels
        self.layers = layers
    }

    private static func parseConv(_ token: String) throws -> (Int, Int) {
        let parts = token.lowercased().split(separator: "k", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let c = Int(parts[0]), c >= 1, c <= 8192 else {
            throw RWCNNError.argument("bad spec token \"\(token)\": expected a conv like 64 or 64k5 (channels 1...8192) or a pool like M, M3, M3s2 (max) or A, A3, A3s2 (average)")
        }
        var k = 3
        if parts.count == 2 {
            guard let kk = Int(parts[1]), kk >= 1, kk <= 31, kk % 2 == 1 else {
                throw RWCNNError.argument("bad kernel size in \"\(token)\": use an odd size in 1...31")
            }
            k = kk
        }
        return (c, k)
    }

    private static func parsePool(_ token: String) throws -> (k: Int, s: Int, pooling: Layer.Pooling)? {
        guard let first = token.lowercased().first, "mpa".contains(first) else { return nil }
        let pooling: Layer.Pooling = first == "a" ? .avg : .max
        let rest = token.dropFirst().lowercased()
        if rest.isEmpty { return (2, 2, pooling) }
        let parts = rest.split(separator: "s", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let k = Int(parts[0]), (1...16).contains(k) else {
            throw RWCNNError.argument("bad pool token \"\(token)\": use M, M<k> or M<k>s<stride> (max) or A, A<k>, A<k>s<stride> (average) with k in 1...16")
        }
        var s = k
        if parts.count == 2 {
            guard let ss = Int(parts[1]), (1...16).contains(ss) else {
                throw RWCNNError.argument("bad pool stride in \"\(token)\": use 1...16")
            }
            s = ss
        }
        return (k, s, pooling)
    }

    public var layerNames: [String] { layers.map(\.name) }

    /// Index of a layer by its name or one of its aliases (see
    /// `Layer.aliases`); the error lists the valid names in every convention.
    /// Every place that takes a layer name resolves it here.
    public func index(of name: String) throws -> Int {
        if let i = layers.firstIndex(where: { $0.name == name || $0.aliases.contains(name) }) { return i }
        let valid = layers.map { ([$0.name] + $0.aliases).joined(separator: " = ") }
        throw RWCNNError.argument("unknown layer \"\(name)\"; valid layers: \(layerNames.joined(separator: ", ")); the same in other conventions (rwcnn = Caffe/Gatys = Keras = torchvision features modules): \(valid.joined(separator: ", "))")
    }

    /// The rwcnn name (conv<b>_<i> or pool<b>) of a layer given by any of its names.
    public func canonicalName(of name: String) throws -> String { layers[try index(of: name)].name }

    /// Shape [C, H, W] after every layer up to `last` (default: all) for an
    /// input of the given size. Throws if one of those layers' output would
    /// be empty; layers after `last` do not constrain the input.
    public func shapes(height: Int, width: Int, through last: Int? = nil) throws -> [[Int]] {
        guard height >= 1, width >= 1, height <= 1 << 16, width <= 1 << 16 else {
            throw RWCNNError.argument("input size \(height)x\(width) must be in 1...65536 on each side")
        }
        var h = height, w = width
        var out: [[Int]] = []
        for layer in layers[0...min(last ?? layers.count - 1, layers.count - 1)] {
            if case .pool(let k, let s) = layer.kind {
                guard h >= k, w >= k else {
                    throw RWCNNError.argument("input \(height)x\(width) is too small: \(layer.name) would get \(h)x\(w), smaller than its \(k)x\(k) window")
                }
                h = (h - k) / s + 1
                w = (w - k) / s + 1
            }
            out.append([layer.outChannels, h, w])
        }
        return out
    }

    /// Shape [C, H, W] of the features at layer `cut` for an input of the given size.
    public func featureShape(at cut: String, height: Int, width: Int) throws -> [Int] {
        let i = try index(of: cut)
        return try shapes(height: height, width: width, through: i)[i]
    }
}
