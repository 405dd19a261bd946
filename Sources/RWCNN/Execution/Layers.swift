// Typed layers: the encoder and its mirrored decoder as lists of layer
// values, built once from the `Architecture` when the model is made. Each
// layer knows its geometry and its parameter names, and has `forward`,
// `backwardData` (the gradient at its input) and, where it has weights,
// `backwardWeights`. Each conv holds the ids of its weight and bias in
// the model's `ParameterBlock` (named by the safetensors names), and reads
// them there in place. Layers are plain values (no references), so walking
// them costs no reference counting.

/// A 2-D convolution (3x3 in VGG), bias, then ReLU when `relu`.
struct Conv2d: Equatable {
    /// Index of the encoder layer it is (or mirrors).
    let index: Int
    let weight: ParameterID
    let bias: ParameterID
    let kernel: Int
    let padding: Int
    let relu: Bool

    /// y = relu?(conv(x, W) + b), bias and ReLU fused into the output stage.
    func forward(_ x: Tensor, weight w: any WeightValues, bias b: (any WeightValues)?, transformed: [Float]?,
                 context: ExecutionContext, workspace: Workspace? = nil) throws -> Tensor {
        try conv2dForward(input: x, weight: w, bias: b, stride: 1, padding: padding, relu: relu,
                          transformed: transformed, context: context, workspace: workspace)
    }

    /// The gradient at the layer's input `inputShape`, given the gradient at
    /// its output and the output itself (for the ReLU mask: the gradient
    /// passes where the forward output is positive): the transposed
    /// convolution of the masked gradient, through Winograd where it pays.
    /// `transformed`: the cached Winograd weights of the flipped kernel, when
    /// the model has them. Buffers come from `workspace` when given.
    func backwardData(_ gradOutput: Tensor, output: Tensor, inputShape: [Int], weight w: any WeightValues,
                      transformed: [Float]? = nil, context: ExecutionContext,
                      workspace: Workspace? = nil) throws -> Tensor {
        let g = relu ? try reluBackward(output: output, gradOutput: gradOutput, context: context,
                                        workspace: workspace) : gradOutput
        defer { if relu { workspace?.recycle(g) } }
        let gx = try convTranspose2dForward(input: g, weight: w, bias: nil, stride: 1, padding: padding, relu: false,
                                            transformed: transformed, context: context, workspace: workspace)
        if gx.shape == inputShape { return gx }
        workspace?.recycle(gx)
        // Rows or columns the convolution never read get no gradient; the
        // general kernel handles those sizes.
        return try conv2dBackward(input: Tensor(zeros: inputShape), weight: w, gradOutput: g, stride: 1,
                                  padding: padding, context: context, workspace: nil).input!
    }
}

/// A 2-D transposed convolution (the decoder's mirror of a `Conv2d`), bias,
/// then ReLU when `relu`.
struct ConvTranspose2d: Equatable {
    let index: Int
    /// The encoder's weight for tied decoders.
    let weight: ParameterID
    /// nil: no bias (tied decoders).
    let bias: ParameterID?
    let padding: Int
    let relu: Bool

    func forward(_ x: Tensor, weight w: any WeightValues, bias b: (any WeightValues)?, transformed: [Float]?,
                 context: ExecutionContext, workspace: Workspace? = nil) throws -> Tensor {
        try convTranspose2dForward(input: x, weight: w, bias: b, stride: 1, padding: padding, relu: relu,
                                   transformed: transformed, context: context, workspace: workspace)
    }

    /// Weight and bias gradients and, with `needInputGradient`, the gradient
    /// at the input, given the forward input and output (ReLU mask).
    func backward(_ gradOutput: Tensor, input: Tensor, output: Tensor, weight w: any WeightValues,
                  needInputGradient: Bool,
                  context: ExecutionContext, workspace: Workspace? = nil) throws -> ConvGradients {
        guard relu else {
            return try convTranspose2dBackward(input: input, weight: w, gradOutput: gradOutput, stride: 1,
                                               padding: padding, needInputGradient: needInputGradient,
                                               context: context, workspace: workspace)
        }
        let g = try reluBackward(output: output, gradOutput: gradOutput, context: context, workspace: workspace)
        defer { workspace?.recycle(g) }
        return try convTranspose2dBackward(input: input, weight: w, gradOutput: g, stride: 1, padding: padding,
                                           needInputGradient: needInputGradient, context: context,
                                           workspace: workspace)
    }
}

/// Max pooling with argmax switches.
struct MaxPool2d: Equatable {
    let index: Int
    let kernel: Int
    let stride: Int

    func forward(_ x: Tensor, context: ExecutionContext, workspace: Workspace? = nil) throws -> PoolOutput {
        try maxPoolForward(input: x, kernel: kernel, stride: stride, context: context, workspace: workspace)
    }

    /// The gradient at the input: each output gradient back at its switch.
    func backwardData(_ gradOutput: Tensor, switches: [Int32], inputShape: [Int],
                      context: ExecutionContext, workspace: Workspace? = nil) throws -> Tensor {
        try maxPoolBackward(gradOutput: gradOutput, switches: switches, inputShape: inputShape, context: context,
                            workspace: workspace)
    }
}

/// Average pooling (no switches: every input of a window gets 1/k^2 of its
/// output's gradient).
struct AvgPool2d: Equatable {
    let index: Int
    let kernel: Int
    let stride: Int

    func forward(_ x: Tensor, context: ExecutionContext, workspace: Workspace? = nil) throws -> Tensor {
        try avgPoolForward(input: x, kernel: kernel, stride: stride, context: context, workspace: workspace)
    }

    func backwardData(_ gradOutput: Tensor, inputShape: [Int], context: ExecutionContext,
                      workspace: Workspace? = nil) throws -> Tensor {
        try avgPoolBackward(gradOutput: gradOutput, kernel: kernel, stride: stride, inputShape: inputShape,
                            context: context, workspace: workspace)
    }
}

/// Unpooling, the decoder's mirror of a pool.
struct Unpool: Equatable {
    let index: Int
    let mode: UnpoolMode
    let kernel: Int
    let stride: Int

    func forward(_ x: Tensor, outputShape: [Int], switches: [Int32]?, context: ExecutionContext,
                 workspace: Workspace? = nil) throws -> Tensor {
        guard outputShape.count == 4, outputShape[0] == x.shape[0] else {
            throw RWCNNError.argument("encoder trace does not match the features' batch size")
        }
        return try unpoolForward(input: x, mode: mode, kernel: kernel, stride: stride, outputHeight: outputShape[2],
                                 outputWidth: outputShape[3], switches: switches, context: context,
                                 workspace: workspace)
    }

    func backwardData(_ gradOutput: Tensor, inputShape: [Int], switches: [Int32]?,
                      context: ExecutionContext, workspace: Workspace? = nil) throws -> Tensor {
        try unpoolBackward(gradOutput: gradOutput, mode: mode, kernel: kernel, stride: stride,
                           inputShape: inputShape, switches: switches, context: context, workspace: workspace)
    }
}

/// One encoder layer.
enum EncoderLayer: Equatable {
    case conv(Conv2d)
    case maxPool(MaxPool2d)
    case avgPool(AvgPool2d)
}

/// One decoder layer.
enum DecoderLayer: Equatable {
    case convTranspose(ConvTranspose2d)
    case unpool(Unpool)
}

/// The encoder up to the cut and the mirrored decoder, built once.
struct Network: Equatable {
    /// Encoder layers in order (index i is architecture layer i).
    let encoder: [EncoderLayer]
    /// Decoder layers in decoder order (the cut's mirror first).
    let decoder: [DecoderLayer]

    /// `layout`: the model's parameters (`ParameterLayout` of the same
    /// architecture, cut and decoder), whose slots the convs hold.
    init(architecture: Architecture, cutIndex: Int, decoder mode: DecoderMode, unpool: UnpoolMode,
         layout: ParameterLayout) throws {
        func slot(_ name: String) throws -> ParameterID {
            guard let s = layout.id(name) else { throw RWCNNError.internal("missing parameter \(name)") }
            return s
        }
        let layers = architecture.layers[0...cutIndex]
        let firstConv = architecture.layers.firstIndex(where: \.isConv)
        var encoder: [EncoderLayer] = []
        for (i, l) in layers.enumerated() {
            switch l.kind {
            case .conv(let k):
                encoder.append(.conv(Conv2d(index: i, weight: try slot("encoder.\(l.name).weight"),
                                            bias: try slot("encoder.\(l.name).bias"),
                                            kernel: k, padding: l.padding, relu: true)))
            case .pool(let k, let s) where l.pooling == .avg:
                encoder.append(.avgPool(AvgPool2d(index: i, kernel: k, stride: s)))
            case .pool(let k, let s):
                encoder.append(.maxPool(MaxPool2d(index: i, kernel: k, stride: s)))
            }
        }
        var decoder: [DecoderLayer] = []
        for (i, l) in layers.enumerated().reversed() {
            switch l.kind {
            case .conv:
                // The mirror of the first conv writes the image: no ReLU.
                decoder.append(.convTranspose(ConvTranspose2d(
                    index: i, weight: try slot(mode == .tied ? "encoder.\(l.name).weight" : "decoder.\(l.name).weight"),
                    bias: mode == .tied ? nil : try slot("decoder.\(l.name).bias"), padding: l.padding,
                    relu: i != firstConv)))
            case .pool(let k, let s):
                // An average pool has no argmax: `switches` unpooling mirrors
                // it by spreading each value over its whole window (`nearest`,
                // k^2 times the average's adjoint); `nearest` and `zeros` are
                // as for max pools.
                let mode = l.pooling == .avg && unpool == .switches ? UnpoolMode.nearest : unpool
                decoder.append(.unpool(Unpool(index: i, mode: mode, kernel: k, stride: s)))
            }
        }
        self.encoder = encoder
        self.decoder = decoder
    }
}
