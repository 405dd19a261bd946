// The working memory of a pass, estimated by walking its layers the way the
// kernels allocate: every activation, gradient and switch buffer in the order
// it is made and freed, plus the scratch of the algorithm each convolution
// takes (Winograd blocks or im2col tiles, from the kernels' own layout
// code). The estimate is the peak of that running total: what the pass adds
// to the process, not counting the caller's input or the model's weights.
// Measured against the real peak RSS in docs/ENGINE.md ("Working memory");
// a plan (DESIGN.md, "Execution") can allocate from the same walk.

/// The jobs whose working memory `WorkingMemory.estimate` predicts.
public enum MemoryJob: String, CaseIterable, Sendable {
    /// `Model.encode`: the features at the cut (and the pools' switches).
    case encode
    /// `Model.reconstruct`: encode, then decode with the encoder's trace.
    case reconstruct
    /// `Model.decode(_:)`: decode features alone (`height`, `width` are the image's).
    case decode
    /// `Model.reconstructionLossAndGradients`: encode, decode keeping every
    /// activation, and the decoder's backward pass with its weight gradients.
    case gradients
    /// One step of `Model.train`: the batch, `gradients`, and the optimiser's
    /// state (made on the first step and kept for the run).
    case trainStep
}

/// What besides the architecture decides a pass's memory.
public struct WorkingMemorySettings {
    public var decoder: DecoderMode
    public var normalizeInput: Bool
    public var optimizer: OptimizerKind
    /// Threads (each Winograd worker holds its own blocks) and tuning.
    public var threads: Int
    public var tuning: KernelTuning

    public init(decoder: DecoderMode = .random, normalizeInput: Bool = false, optimizer: OptimizerKind = .adam,
                context: ExecutionContext = .current) {
        self.decoder = decoder
        self.normalizeInput = normalizeInput
        self.optimizer = optimizer
        self.threads = context.threads
        self.tuning = context.tuning
    }
}

public enum WorkingMemory {
    /// Peak bytes that `job` adds to the process for `batch` images of
    /// `height` x `width` through `architecture` cut at layer `cutIndex`,
    /// with an empty transform cache (a fresh model). Throws `.argument`
    /// for sizes the network cannot take.
    ///
    /// ```swift
    /// let vgg = try Architecture(spec: "vgg16")
    /// let bytes = try WorkingMemory.estimate(.encode, architecture: vgg, cutIndex: 17,
    ///                                        batch: 8, height: 224, width: 224)
    /// ```
    public static func estimate(_ job: MemoryJob, architecture: Architecture, cutIndex: Int, batch: Int,
                                height: Int, width: Int,
                                settings: WorkingMemorySettings = WorkingMemorySettings()) throws -> Int {
        var walk = try PassWalk(architecture: architecture, cutIndex: cutIndex, batch: batch, height: height,
                                width: width, settings: settings, cache: TransformCacheState())
        walk.run(job)
        return walk.timeline.peakBytes
    }
}

/// Which transformed weights a model's cache already holds, and how many
/// floats, so that an estimate counts only what a call would add.
struct TransformCacheState {
    var keys: Set<TransformCache.Key> = []
    var floats = 0
}

/// A running total of live bytes and its peak.
struct MemoryTimeline {
    private(set) var live = 0.0
    private(set) var peak = 0.0

    mutating func allocate(_ floats: Double, bytesEach: Double = 4) {
        live += floats * bytesEach
        peak = max(peak, live)
    }

    mutating func free(_ floats: Double, bytesEach: Double = 4) { live -= floats * bytesEach }

    /// Everything but `bytes` freed (a function returned); the peak stays.
    mutating func release(toBytes bytes: Double) { live = bytes }

    /// Scratch held only while one kernel runs.
    mutating func briefly(_ floats: Double) { peak = max(peak, live + 4 * floats) }

    /// The peak in bytes, saturated far below overflow.
    var peakBytes: Int { peak < 0x1p62 ? Int(peak.rounded(.up)) : 1 << 62 }
}

/// The walk behind `WorkingMemory.estimate`: one job's allocations in the
/// order `Encoder.swift`, `Decoder.swift`, `Gradients.swift` and the kernels
/// make them.
struct PassWalk {
    let layers: ArraySlice<Layer>
    let batch: Double
    let settings: WorkingMemorySettings
    /// [C, H, W] of each layer's input and output (index = layer).
    let inputShapes: [[Int]], outputShapes: [[Int]]
    let intBatch: Int
    var cache: TransformCacheState
    var timeline = MemoryTimeline()

    init(architecture: Architecture, cutIndex: Int, batch: Int, height: Int, width: Int,
         settings: WorkingMemorySettings, cache: TransformCacheState) throws {
        guard architecture.layers.indices.contains(cutIndex) else {
            throw RWCNNError.argument("cut index \(cutIndex) is not a layer of \(architecture.spec)")
        }
        guard batch >= 1, batch <= 1 << 24 else {
            throw RWCNNError.argument("batch size \(batch) must be in 1...\(1 << 24)")
        }
        let outputs = try architecture.shapes(height: height, width: width, through: cutIndex)
        layers = architecture.layers[0...cutIndex]
        outputShapes = outputs
        inputShapes = [[architecture.inputChannels, height, width]] + outputs.dropLast()
        self.batch = Double(batch)
        intBatch = batch
        self.settings = settings
        self.cache = cache
    }

    /// Floats of a batch of [C, H, W].
    func floats(_ chw: [Int]) -> Double { batch * Double(chw[0]) * Double(chw[1]) * Double(chw[2]) }

    /// Floats of the decoder's mirror of layer `l`: its weights plus its
    /// bias (one per channel it writes, the layer's input channels).
    func parameterFloats(_ l: Layer) -> Double {
        Double(l.outChannels) * Double(l.inChannels) * Double(l.kernel * l.kernel) + Double(l.inChannels)
    }

    /// Whether the kernels' Int arithmetic is safe for these sizes (each
    /// buffer below 2^40 floats); beyond it the estimate is already far over
    /// any budget, and scratch is not worth computing.
    var sizesAreSane: Bool {
        (inputShapes + outputShapes).allSatisfy { floats($0) * 9 * 64 < 0x1p40 }
    }

    mutating func run(_ job: MemoryJob) {
        fillCache(encoder: job != .decode,
                  decoder: settings.decoder == .tied && (job == .reconstruct || job == .decode))
        switch job {
        case .encode:
            encoder(inputOwned: false)
        case .reconstruct:
            encoder(inputOwned: false)
            decoder(keep: false, freeFeatures: false)
        case .decode:
            decoder(keep: false, freeFeatures: false)  // the caller's features
        case .gradients:
            gradients()
        case .trainStep:
            // From the second step on, the optimiser's state is live during the passes.
            timeline.allocate(optimizerStateFloats)
            timeline.allocate(floats(inputShapes[0]))  // the sampler's batch
            gradients()
        }
    }

    /// `encoderForward` without `keep`: each layer's output replaces its input;
    /// the pools' switches stay (the trace).
    mutating func encoder(inputOwned: Bool) {
        var owned = inputOwned
        if settings.normalizeInput {
            timeline.allocate(floats(inputShapes[0]))
            owned = true
        }
        for (i, l) in zip(layers.indices, layers) {
            let input = floats(inputShapes[i]), output = floats(outputShapes[i])
            if case .conv = l.kind {
                let cached = cachedTransform(layer: i, transposed: false)
                timeline.allocate(output)
                timeline.briefly(convForwardScratch(i, cached: cached))
            } else {
                timeline.allocate(output)
                timeline.allocate(output, bytesEach: 4)  // Int32 switches, kept in the trace
            }
            if owned { timeline.free(input) }
            owned = true
        }
    }

    /// `decodeKeeping`: from the features (live) to the image. With `keep`
    /// nothing is freed (the cache keeps every step's input and output).
    mutating func decoder(keep: Bool, freeFeatures: Bool) {
        var owned = freeFeatures
        for i in layers.indices.reversed() {
            let l = layers[i]
            // The mirror of layer i maps its output shape back to its input shape.
            let input = floats(outputShapes[i]), output = floats(inputShapes[i])
            timeline.allocate(output)
            if case .conv = l.kind {
                let cached = settings.decoder == .tied && cachedTransform(layer: i, transposed: true)
                timeline.briefly(convTransposeForwardScratch(i, cached: cached))
            }
            if owned && !keep { timeline.free(input) }
            owned = true
        }
    }

    /// `reconstructionLossAndGradients`: encoder, decoder keeping its
    /// activations, MSE gradient, then `decoderBackward` layer by layer.
    mutating func gradients() {
        let before = timeline.live
        encoder(inputOwned: false)
        decoder(keep: true, freeFeatures: false)
        var gradient = floats(inputShapes[0])
        timeline.allocate(gradient)  // mseBackward
        let nearestCutConv = layers.indices.last { layers[$0].isConv } ?? layers.startIndex
        for i in layers.indices {  // decoder order reversed: image side first
            let l = layers[i]
            let atInput = floats(inputShapes[i])  // this step's output side (the gradient we hold)
            let atOutput = floats(outputShapes[i])  // this step's input side
            // Gradients go down only to the conv nearest the cut (`decoderBackward`).
            let needInput = i < nearestCutConv
            if case .conv = l.kind {
                let relu = i != layers.firstIndex(where: \.isConv)
                if relu { timeline.allocate(atInput) }  // reluBackward
                timeline.allocate(parameterFloats(l))  // weight and bias gradients, kept
                if needInput { timeline.allocate(atOutput) }
                timeline.briefly(convTransposeBackwardScratch(i, needInput: needInput))
                if relu { timeline.free(atInput) }
            } else if needInput {
                timeline.allocate(atOutput)  // unpoolBackward
            }
            if needInput {
                timeline.free(gradient)
                gradient = atOutput
            }
        }
        timeline.free(gradient)
        // Returning frees the activations, the trace and the features; the
        // weight gradients stay for the optimiser.
        let kept = layers.filter(\.isConv).reduce(0) { $0 + parameterFloats($1) }
        timeline.release(toBytes: before + 4 * kept)
    }

    /// Floats of the optimiser's state: Adam keeps two moments per decoder
    /// parameter, SGD one (momentum).
    var optimizerStateFloats: Double {
        let params = layers.filter(\.isConv).reduce(0) { $0 + parameterFloats($1) }
        return (settings.optimizer == .adam ? 2.0 : 1.0) * params
    }

    // MARK: the kernels' scratch

    /// Puts in the cache what the job's passes would, in their order (the
    /// encoder's layers, then the tied decoder's from the cut down), and
    /// counts the new entries as allocated from the start: they stay for the
    /// model's lifetime, so from the second call on they are live during the
    /// whole pass.
    mutating func fillCache(encoder: Bool, decoder: Bool) {
        let keys = (encoder ? layers.indices.map { TransformCache.Key(layer: $0, transposed: false) } : [])
            + (decoder ? layers.indices.reversed().map { TransformCache.Key(layer: $0, transposed: true) } : [])
        for key in keys where !cache.keys.contains(key) {
            let l = layers[key.layer]
            guard l.isConv, l.kernel == 3, key.transposed || l.padding <= 1, sizesAreSane else { continue }
            let shape = transposeAware(key.layer, transposed: key.transposed)
            guard shape.pays(settings.tuning, cached: true) else { continue }
            let count = winogradTransformedCount(shape)
            guard cache.floats + count <= settings.tuning.winogradCacheFloats else { continue }
            cache.keys.insert(key)
            cache.floats += count
            timeline.allocate(Double(count))
        }
    }

    /// Whether encoder layer `i`'s (transposed) transform is in the cache
    /// (`Model.cachedTransform`).
    func cachedTransform(layer i: Int, transposed: Bool) -> Bool {
        let l = layers[i]
        guard l.isConv, l.kernel == 3, transposed || l.padding <= 1, sizesAreSane,
              transposeAware(i, transposed: transposed).pays(settings.tuning, cached: true) else { return false }
        return cache.keys.contains(TransformCache.Key(layer: i, transposed: transposed))
    }

    /// The Winograd shape of layer i's forward conv, or of its mirror.
    func transposeAware(_ i: Int, transposed: Bool) -> WinogradShape {
        let l = layers[i], s = inputShapes[i]
        return WinogradShape(batch: intBatch, cin: transposed ? l.outChannels : l.inChannels,
                             cout: transposed ? l.inChannels : l.outChannels,
                             height: s[1], width: s[2], padding: transposed ? 2 - l.padding : l.padding)
    }

    /// The im2col geometry of layer i's convolution (the transposed conv's adjoint is the same).
    private func geometry(_ i: Int) -> ConvGeometry {
        let l = layers[i], s = inputShapes[i], o = outputShapes[i]
        return ConvGeometry(channels: l.inChannels, height: s[1], width: s[2], kernelH: l.kernel, kernelW: l.kernel,
                            stride: 1, padding: l.padding, outHeight: o[1], outWidth: o[2], tuning: settings.tuning)
    }

    /// The adjoint geometry `convTransposeCall` builds for layer i's mirror.
    private func mirrorGeometry(_ i: Int) -> ConvGeometry {
        let l = layers[i], s = inputShapes[i]
        return ConvGeometry(channels: l.inChannels, height: s[1], width: s[2], kernelH: l.kernel, kernelW: l.kernel,
                            stride: 1, padding: l.padding, outHeight: s[1], outWidth: s[2], tuning: settings.tuning)
    }

    /// `conv2dForward` of encoder layer i: Winograd blocks (and the weight
    /// transform unless cached) or one im2col tile.
    func convForwardScratch(_ i: Int, cached: Bool) -> Double {
        guard sizesAreSane else { return 0 }
        let l = layers[i], shape = transposeAware(i, transposed: false)
        if l.kernel == 3 && l.padding <= 1 && shape.pays(settings.tuning, cached: cached) {
            return Double(WinogradBlocking(shape, transformed: cached, tuning: settings.tuning,
                                           threads: settings.threads).scratchFloats)
        }
        let g = geometry(i)
        return g.isPointwise ? 0 : Double(g.tileSize)
    }

    /// `convTranspose2dForward` of layer i's mirror.
    func convTransposeForwardScratch(_ i: Int, cached: Bool) -> Double {
        guard sizesAreSane else { return 0 }
        let l = layers[i], shape = transposeAware(i, transposed: true)
        if l.kernel == 3 && shape.pays(settings.tuning, cached: cached) {
            return Double(WinogradBlocking(shape, transformed: cached, tuning: settings.tuning,
                                           threads: settings.threads).scratchFloats)
        }
        let g = mirrorGeometry(i)
        return g.isPointwise ? 0 : Double(g.tileSize)
    }

    /// `convTranspose2dBackward` of layer i's mirror: the weight gradient
    /// (Winograd's dU, V and Z blocks, or one im2col tile), then (when
    /// asked) the input gradient as a Winograd convolution with
    /// untransformed filters, or the im2col tile shared with the weight
    /// gradient's; the stages never overlap.
    func convTransposeBackwardScratch(_ i: Int, needInput: Bool) -> Double {
        guard sizesAreSane else { return 0 }
        let l = layers[i], g = mirrorGeometry(i)
        let tile = g.isPointwise ? 0 : Double(g.tileSize)
        let forward = transposeAware(i, transposed: true)
        let weightByWinograd = l.kernel == 3 && forward.gradientPays(settings.tuning)
        let weight = weightByWinograd
            ? Double(WinogradGradientBlocking(forward, tuning: settings.tuning).scratchFloats) : tile
        let data = WinogradShape(batch: intBatch, cin: l.inChannels, cout: l.outChannels, height: inputShapes[i][1],
                                 width: inputShapes[i][2], padding: l.padding)
        guard needInput else { return weight }
        guard l.kernel == 3, data.pays(settings.tuning) else { return max(weight, tile) }
        let wino = Double(WinogradBlocking(data, transformed: false, tuning: settings.tuning,
                                           threads: settings.threads).scratchFloats)
        return max(weight, wino)
    }
}
