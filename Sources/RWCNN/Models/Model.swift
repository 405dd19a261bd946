/// A random-weight encoder up to a cut, and its mirrored decoder.
///
/// ```swift
/// let model = try Model(config: ModelConfig(arch: "vgg16", cut: "pool2", seed: 7, decoder: .tied))
/// let image = try loadImageTensor(path: "astronaut.png")          // [3, H, W] in [0, 1]
/// let features = try model.encode(image)                          // [1, 128, H/4, W/4]
/// let raw = try model.reconstruct(image)                          // arbitrary scale
/// try saveImageTensor(displayNormalize(raw).item(0), path: "out.png")
/// ```
///
/// Reading calls (`encode`, `decode`, `reconstruct`, `featureShape`) may run
/// concurrently; calls that change the weights (training, loading weights)
/// need exclusive use.
// Sendable without compiler checks: reading calls only read `config`,
// `architecture` and the parameter block, and the calls that change them
// (training, loading weights) are documented to need exclusive use.
public final class Model: @unchecked Sendable {
    public internal(set) var config: ModelConfig
    public let architecture: Architecture
    /// Index of the cut layer in `architecture.layers`.
    public let cutIndex: Int
    /// All weights by name: `encoder.<layer>.weight|bias`, and for random and
    /// trained decoders `decoder.<layer>.weight|bias` (see docs/ENGINE.md).
    /// A copy: the model keeps them in one block (`setParameters` changes them).
    public var parameters: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: parameterBlock.layout.slots.map { ($0.name, parameterBlock.tensor($0)) })
    }
    /// Every parameter in one contiguous buffer (`ParameterBlock`).
    let parameterBlock: ParameterBlock
    /// True while the encoder holds the draw `config.seed` gives (not
    /// pretrained or set by hand), so a file may leave it out and redraw it.
    public internal(set) var encoderIsSeeded = true
    /// How this model's passes run; nil: `ExecutionContext.current` at each
    /// call (the process-wide thread budget and memory limit). Setting it
    /// needs exclusive use of the model.
    public var executionContext: ExecutionContext? = nil
    /// Winograd weights of the fixed filters, reused across calls.
    let transforms = TransformCache()
    /// Planned workspaces by job and size, reused across calls and steps.
    let plans = PlanPool()
    /// The encoder and decoder as typed layers, built once.
    let network: Network

    /// The context of one call.
    var context: ExecutionContext { executionContext ?? .current }

    /// The layers the encoder runs, up to and including the cut.
    public var encoderLayers: ArraySlice<Layer> { architecture.layers[0...cutIndex] }

    /// Builds the model and draws its weights from `config.seed`.
    public init(config: ModelConfig) throws {
        self.config = config
        self.architecture = try Architecture(spec: config.arch, width: config.width, kernelSize: config.kernelSize)
        self.cutIndex = try architecture.index(of: config.cut)
        self.config.cut = architecture.layers[cutIndex].name  // an alias (relu4_2, features.22) becomes conv4_2
        let layout = try ParameterLayout(architecture: architecture, cutIndex: cutIndex, decoder: config.decoder)
        self.network = try Network(architecture: architecture, cutIndex: cutIndex, decoder: config.decoder,
                                   unpool: config.unpool, layout: layout)
        let block = try ParameterBlock(layout: layout)  // biases start at zero
        self.parameterBlock = block
        // Each weight is drawn in place (`drawTensor`'s values, no copy).
        func draw(_ name: String, _ init: WeightInit, fanIn: Int, fanOut: Int) throws {
            let slot = try block.slot(name)
            let std = try checkedStd(init: `init`, fanIn: fanIn, fanOut: fanOut)
            drawValues(into: UnsafeMutableBufferPointer(rebasing: block.values[slot.range]),
                       distribution: `init`.distribution, mean: `init`.mean, std: std, seed: config.seed,
                       stream: streamID(forName: name))
        }
        for layer in architecture.layers[0...cutIndex] where layer.isConv {
            let kk = layer.kernel * layer.kernel
            try draw("encoder.\(layer.name).weight", config.weightInit, fanIn: layer.inChannels * kk,
                     fanOut: layer.outChannels * kk)
            guard config.decoder != .tied else { continue }
            // The transposed conv sums over its input channels (the conv's
            // outputs): fan_in = Cout * k * k.
            let decoderInit = config.decoder == .trained ? WeightInit(distribution: .normal, scale: .he) : config.weightInit
            try draw("decoder.\(layer.name).weight", decoderInit, fanIn: layer.outChannels * kk,
                     fanOut: layer.inChannels * kk)
        }
    }

    /// Parameter names in a stable order (encoder then decoder, by layer).
    public var parameterNames: [String] { parameterBlock.layout.slots.map(\.name) }

    /// A copy of one parameter.
    func parameter(_ name: String) throws -> Tensor { parameterBlock.tensor(try parameterBlock.slot(name)) }

    /// The shape of a parameter, or nil when the model has none of that name.
    func parameterShape(_ name: String) -> [Int]? { parameterBlock.layout.slot(name)?.shape }

    /// Feature shape [C, H, W] at the cut for an input of the given size.
    public func featureShape(height: Int, width: Int) throws -> [Int] {
        try architecture.featureShape(at: config.cut, height: height, width: width)
    }

    /// Encoder then decoder on a batch [N, C, H, W] (or one image [C, H, W]).
    /// Returns the raw decoder output [N, C, H, W]; random decoders give an
    /// arbitrary scale and colour (see `displayNormalize`). Images must be
    /// finite and in [0, 1] (`checkPixelValues`).
    public func reconstruct(_ images: Tensor) throws -> Tensor {
        let x = try batched(images)
        try checkWorkingMemory(.reconstruct, batch: x.shape[0], height: x.shape[2], width: x.shape[3], context: context)
        try checkPixelValues(x)  // finite, in [0, 1] (not 0..255), as for encode
        return try plans.with(planKey(.reconstruct, x)) { ws in
            let pass = try encoderForward(x, keep: false, workspace: ws)
            let output = try decodeKeeping(pass.features, trace: pass.trace, keep: false, workspace: ws).output
            ws.recycle(pass.features)
            for s in pass.trace.switches.values { ws.recycle(s) }
            return output
        }
    }

    /// Replaces named weights (loading a file, training). Shapes must match.
    public func setParameters(_ values: [String: Tensor]) throws {
        var slots: [(ParameterSlot, Tensor)] = []
        for (name, t) in values {
            guard let slot = parameterBlock.layout.slot(name) else {
                throw RWCNNError.argument("model has no parameter \(name); it has \(parameterNames.joined(separator: ", "))")
            }
            guard slot.shape == t.shape else {
                throw RWCNNError.argument("parameter \(name) has shape \(slot.shape), got \(t.shape)")
            }
            slots.append((slot, t))
        }
        for (slot, t) in slots { parameterBlock.write(t, to: slot) }
        transforms.clear()
        if values.keys.contains(where: { $0.hasPrefix("encoder.") }) { encoderIsSeeded = false }
    }
}
