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
// `architecture` and `parameters`, and the calls that change them (training,
// loading weights) are documented to need exclusive use.
public final class Model: @unchecked Sendable {
    public internal(set) var config: ModelConfig
    public let architecture: Architecture
    /// Index of the cut layer in `architecture.layers`.
    public let cutIndex: Int
    /// All weights by name: `encoder.<layer>.weight|bias`, and for random and
    /// trained decoders `decoder.<layer>.weight|bias` (see docs/ENGINE.md).
    public internal(set) var parameters: [String: Tensor]
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
        self.network = Network(architecture: architecture, cutIndex: cutIndex, decoder: config.decoder,
                               unpool: config.unpool)
        self.parameters = [:]
        for layer in architecture.layers[0...cutIndex] where layer.isConv {
            let k = layer.kernel
            let shape = [layer.outChannels, layer.inChannels, k, k]
            let encoderName = "encoder.\(layer.name).weight"
            parameters[encoderName] = try drawTensor(
                shape: shape, init: config.weightInit,
                fanIn: layer.inChannels * k * k, fanOut: layer.outChannels * k * k,
                seed: config.seed, stream: streamID(forName: encoderName))
            parameters["encoder.\(layer.name).bias"] = Tensor(checkedZeros: [layer.outChannels])
            guard config.decoder != .tied else { continue }
            // The transposed conv sums over its input channels (the conv's
            // outputs): fan_in = Cout * k * k.
            let decoderName = "decoder.\(layer.name).weight"
            let decoderInit = config.decoder == .trained ? WeightInit(distribution: .normal, scale: .he) : config.weightInit
            parameters[decoderName] = try drawTensor(
                shape: shape, init: decoderInit,
                fanIn: layer.outChannels * k * k, fanOut: layer.inChannels * k * k,
                seed: config.seed, stream: streamID(forName: decoderName))
            parameters["decoder.\(layer.name).bias"] = Tensor(checkedZeros: [layer.inChannels])
        }
    }

    /// Parameter names in a stable order (encoder then decoder, by layer).
    public var parameterNames: [String] {
        let order = ["encoder", "decoder"].flatMap { part in
            encoderLayers.flatMap { ["\(part).\($0.name).weight", "\(part).\($0.name).bias"] }
        }
        return order.filter { parameters[$0] != nil }
    }

    func parameter(_ name: String) throws -> Tensor {
        guard let t = parameters[name] else { throw RWCNNError.internal("missing parameter \(name)") }
        return t
    }

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
        for (name, t) in values {
            guard let old = parameters[name] else {
                throw RWCNNError.argument("model has no parameter \(name); it has \(parameterNames.joined(separator: ", "))")
            }
            guard old.shape == t.shape else {
                throw RWCNNError.argument("parameter \(name) has shape \(old.shape), got \(t.shape)")
            }
        }
        for (name, t) in values { parameters[name] = t }
        transforms.clear()
        if values.keys.contains(where: { $0.hasPrefix("encoder.") }) { encoderIsSeeded = false }
    }
}
