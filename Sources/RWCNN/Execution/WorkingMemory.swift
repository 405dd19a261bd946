// The working memory of a pass, estimated by walking its layers the way the
// kernels allocate: every activation, gradient and switch buffer in the order
// it is made and given back, plus the scratch of the algorithm each
// convolution takes (Winograd blocks, padded to `winogradPlaneStride`, or
// im2col tiles, from the kernels' own layout code). The planned jobs
// (encode, reconstruct, gradients, train step) run on a plan's `Workspace`:
// a buffer given back stays in it for the next pass (reused only by a buffer
// of the same element count), and each scratch slot keeps its largest size,
// so the walk models the workspace itself; the estimate is the peak of live
// plus workspace-held bytes during the first pass at a size, what the pass
// (and its plan, kept by the model) adds to the process, not counting the
// caller's input or the model's weights. Measured against the heap's peak in
// docs/ENGINE.md ("Working memory").

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
    /// An encoder pass that keeps every layer's output, without a plan (the
    /// image-synthesis tasks' targets, `encoderForward(keep: true)`).
    case encodeKeeping
    /// One step of `Model.invert`, `texture` or `style` (`SynthesisObjective`)
    /// through the cut: the encoder keeping every output, a loss at every
    /// layer (the worst case: its gradient and a Gram difference), the
    /// backward chain to the pixels with the flipped weights cached, the
    /// priors, and the gradient it returns.
    case synthesisStep

    /// Whether the job runs on a plan's workspace (DESIGN.md, "Execution").
    var planned: Bool { self != .decode && self != .encodeKeeping }
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

/// A running total of live bytes and its peak; bytes held by a plan's
/// workspace (arrays given back, scratch slots) count as live.
struct MemoryTimeline {
    private(set) var live = 0.0
    private(set) var peak = 0.0
    /// The workspace: arrays given back, by element count (floats and Int32
    /// apart, as `Workspace` keeps them), and each scratch slot's floats.
    private var stash: [Int: Int] = [:], intStash: [Int: Int] = [:]
    private var slots: [Int: Int] = [:]

    mutating func allocate(_ floats: Double, bytesEach: Double = 4) {
        live += floats * bytesEach
        peak = max(peak, live)
    }

    mutating func free(_ floats: Double, bytesEach: Double = 4) { live -= floats * bytesEach }

    /// Everything but `bytes` freed (a function returned); the peak stays.
    mutating func release(toBytes bytes: Double) { live = bytes }

    /// Scratch held only while one kernel runs.
    mutating func briefly(_ floats: Double) { peak = max(peak, live + 4 * floats) }

    /// `Workspace.floatArray` / `intArray`: a given-back array of `count`
    /// elements if there is one, else a fresh one.
    mutating func take(_ count: Int, ints: Bool = false) {
        if ints, let n = intStash[count], n > 0 { intStash[count] = n - 1; return }
        if !ints, let n = stash[count], n > 0 { stash[count] = n - 1; return }
        allocate(Double(count))
    }

    /// `Workspace.recycle`: the array stays allocated, for a later `take`.
    mutating func giveBack(_ count: Int, ints: Bool = false) {
        if ints { intStash[count, default: 0] += 1 } else { stash[count, default: 0] += 1 }
    }

    /// `Workspace.scratch`: the slot grows to `count` floats (the old buffer
    /// is freed before the new one is made) and keeps that size.
    mutating func scratch(slot: Int, count: Int) {
        let count = max(1, count), had = slots[slot] ?? 0
        guard count > had else { return }
        free(Double(had))
        allocate(Double(count))
        slots[slot] = count
    }

    /// The peak in bytes, saturated far below overflow.
    var peakBytes: Int { peak < 0x1p62 ? Int(peak.rounded(.up)) : 1 << 62 }
}

/// The scratch of one `winogradConvolve` call, as the kernel sizes it: the
/// weight transform U (none for transformed filters) and each worker's V and
/// M blocks, whose 36 planes are `winogradPlaneStride` apart.
struct WinogradScratch {
    let u: Int, v: Int, m: Int, workers: Int

    init(_ shape: WinogradShape, transformed: Bool, tuning: KernelTuning, threads: Int) {
        let b = WinogradBlocking(shape, transformed: transformed, tuning: tuning, threads: threads)
        let tiles = b.rowsPerBlock * shape.tilesAcross
        u = b.uFloats
        v = 36 * winogradPlaneStride(shape.cin * tiles)
        m = 36 * winogradPlaneStride(b.groupSize * tiles)
        workers = b.blockParallel ? threads : 1
    }

    /// Floats held at once (without a workspace, all allocated for the call).
    var floats: Int { u + workers * (v + m) }
}

/// The walk behind `WorkingMemory.estimate`: one job's allocations in the
/// order `Encoder.swift`, `Decoder.swift`, `Gradients.swift` and the kernels
/// make them, on a plan's workspace for the planned jobs.
struct PassWalk {
    let layers: ArraySlice<Layer>
    let batch: Double
    let settings: WorkingMemorySettings
    /// [C, H, W] of each layer's input and output (index = layer).
    let inputShapes: [[Int]], outputShapes: [[Int]]
    let intBatch: Int
    var cache: TransformCacheState
    var timeline = MemoryTimeline()
    /// Whether buffers come from (and go back to) a workspace.
    private var planned = false

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
    /// any budget, and scratch and the workspace are not worth modelling
    /// (the walk then allocates and frees as if there were no plan).
    var sizesAreSane: Bool {
        (inputShapes + outputShapes).allSatisfy { floats($0) * 9 * 64 < 0x1p40 }
    }

    mutating func run(_ job: MemoryJob) {
        planned = job.planned && sizesAreSane
        fillCache(encoder: job != .decode,
                  decoder: (settings.decoder == .tied && (job == .reconstruct || job == .decode))
                      || job == .synthesisStep)
        switch job {
        case .encode:
            encoder(keep: false)
        case .encodeKeeping:
            encoder(keep: true)
        case .reconstruct:
            encoder(keep: false)
            decoder(keep: false)
            // Model.reconstruct gives the features and the switches back.
            giveBack(outputShapes[layers.endIndex - 1])
            for (i, l) in zip(layers.indices, layers) where !l.isConv && l.pooling == .max {
                giveBack(outputShapes[i], ints: true)
            }
        case .decode:
            decoder(keep: false)  // the caller's features
        case .gradients:
            gradients()
        case .trainStep:
            // From the second step on, the optimiser's state is live during the passes.
            timeline.allocate(optimizerStateFloats)
            timeline.allocate(floats(inputShapes[0]))  // the sampler's batch
            gradients()
        case .synthesisStep:
            synthesis()
        }
    }

    // MARK: buffers, with or without a workspace

    /// Elements of a batch of [C, H, W] (only when `sizesAreSane`).
    private func count(_ chw: [Int]) -> Int { intBatch * chw[0] * chw[1] * chw[2] }

    /// A buffer from the workspace (planned) or the allocator.
    private mutating func make(_ chw: [Int], ints: Bool = false) {
        if planned { timeline.take(count(chw), ints: ints) } else { timeline.allocate(floats(chw)) }
    }

    /// A buffer the pass no longer needs: back to the workspace (it stays
    /// allocated) or freed.
    private mutating func giveBack(_ chw: [Int], ints: Bool = false) {
        if planned { timeline.giveBack(count(chw), ints: ints) } else { timeline.free(floats(chw)) }
    }

    /// `encoderForward`: each layer's input goes back once the layer has
    /// run, unless it is the caller's images or (with `keep`) a kept
    /// output; the pools' switches stay (the trace), and so do the features.
    mutating func encoder(keep: Bool) {
        var owned = false
        if settings.normalizeInput {
            make(inputShapes[0])  // the normalised copy
            owned = true
        }
        for (i, l) in zip(layers.indices, layers) {
            let input = inputShapes[i], output = outputShapes[i]
            make(output)
            if l.isConv {
                convForwardScratch(i, cached: cachedTransform(layer: i, transposed: false))
            } else if l.pooling == .max {
                make(output, ints: true)  // Int32 switches, kept in the trace
            }
            if owned { giveBack(input) }
            owned = !keep
        }
    }

    /// `SynthesisObjective.evaluate` on a plan, with a loss at every layer.
    mutating func synthesis() {
        encoder(keep: true)
        let deepest = layers.endIndex - 1
        // Each loss makes its gradient; a Gram loss also makes the Gram
        // difference [N, C, C] and gives it back once the gradient is made.
        for i in layers.indices {
            make(outputShapes[i])
            let c = outputShapes[i][0]
            if planned {
                timeline.take(intBatch * c * c)
                timeline.giveBack(intBatch * c * c)
            }
        }
        // `encoderBackwardData`: at each layer the loss gradient there is
        // added and given back, then ReLU mask and transposed convolution
        // (or the pool's backward) make the next gradient, and the mask and
        // the old gradient go back.
        for i in layers.indices.reversed() {
            if i != deepest { giveBack(outputShapes[i]) }
            if layers[i].isConv {
                make(outputShapes[i])  // reluBackward
                make(inputShapes[i])
                convTransposeForwardScratch(i, cached: cachedTransform(layer: i, transposed: true))
                giveBack(outputShapes[i])
            } else {
                make(inputShapes[i])
            }
            giveBack(outputShapes[i])
        }
        // The priors' gradients, added to the result and given back; the
        // result goes to the caller.
        for _ in 0..<2 {
            make(inputShapes[layers.startIndex])
            giveBack(inputShapes[layers.startIndex])
        }
    }

    /// `decodeKeeping`: from the features (live, the caller's or the
    /// encoder's) to the image. With `keep` nothing goes back (the cache
    /// keeps every step's input and output).
    mutating func decoder(keep: Bool) {
        var owned = false
        for i in layers.indices.reversed() {
            let l = layers[i]
            // The mirror of layer i maps its output shape back to its input shape.
            make(inputShapes[i])
            if l.isConv {
                let cached = settings.decoder == .tied && cachedTransform(layer: i, transposed: true)
                convTransposeForwardScratch(i, cached: cached)
            }
            if owned && !keep { giveBack(outputShapes[i]) }
            owned = true
        }
    }

    /// `reconstructionLossAndGradients`: encoder, decoder keeping its
    /// activations, MSE gradient, then `decoderBackward` layer by layer.
    mutating func gradients() {
        let before = timeline.live
        encoder(keep: false)
        decoder(keep: true)
        var gradient = inputShapes[layers.startIndex]
        make(gradient)  // mseBackward
        let firstConv = layers.firstIndex(where: \.isConv)
        let nearestCutConv = layers.indices.last { layers[$0].isConv } ?? layers.startIndex
        for i in layers.indices {  // decoder order reversed: image side first
            let l = layers[i]
            // Gradients go down only to the conv nearest the cut (`decoderBackward`).
            let needInput = i < nearestCutConv
            if l.isConv {
                let relu = i != firstConv
                if relu { make(inputShapes[i]) }  // reluBackward
                // The weight gradient (from the workspace) and the bias gradient (made by the kernel), kept.
                if planned {
                    timeline.take(l.outChannels * l.inChannels * l.kernel * l.kernel)
                    timeline.allocate(Double(l.inChannels))
                } else {
                    timeline.allocate(parameterFloats(l))
                }
                if needInput { make(outputShapes[i]) }
                convTransposeBackwardScratch(i, needInput: needInput)
                if relu { giveBack(inputShapes[i]) }
            } else if needInput {
                make(outputShapes[i])  // unpoolBackward
            }
            if needInput {
                giveBack(gradient)
                gradient = outputShapes[i]
            }
        }
        giveBack(gradient)
        let kept = layers.filter(\.isConv).reduce(0) { $0 + parameterFloats($1) }
        guard planned else {
            // Returning frees the activations, the trace and the features; the
            // weight gradients stay for the optimiser.
            timeline.release(toBytes: before + 4 * kept)
            return
        }
        // lossAndGradients gives the features, every decoder output and the
        // switches back; the plan holds them (already counted).
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

    /// One Winograd call's scratch: the workspace's U, V and M slots, or all
    /// of it for the call alone.
    private mutating func winograd(_ shape: WinogradShape, transformed: Bool) {
        let w = WinogradScratch(shape, transformed: transformed, tuning: settings.tuning, threads: settings.threads)
        guard planned else { timeline.briefly(Double(w.floats)); return }
        if !transformed { timeline.scratch(slot: ScratchSlot.winogradWeights, count: w.u) }
        for t in 0..<w.workers {
            timeline.scratch(slot: ScratchSlot.winogradBlocks + 2 * t, count: w.v)
            timeline.scratch(slot: ScratchSlot.winogradBlocks + 2 * t + 1, count: w.m)
        }
    }

    /// One im2col column tile (a pointwise convolution needs none).
    private mutating func columns(_ g: ConvGeometry) {
        let floats = g.isPointwise ? 0 : g.tileSize
        if planned { timeline.scratch(slot: ScratchSlot.columns, count: floats) } else { timeline.briefly(Double(floats)) }
    }

    /// `conv2dForward` of encoder layer i: Winograd blocks (and the weight
    /// transform unless cached) or one im2col tile.
    mutating func convForwardScratch(_ i: Int, cached: Bool) {
        guard sizesAreSane else { return }
        let l = layers[i], shape = transposeAware(i, transposed: false)
        if l.kernel == 3 && l.padding <= 1 && shape.pays(settings.tuning, cached: cached) {
            winograd(shape, transformed: cached)
        } else {
            columns(geometry(i))
        }
    }

    /// `convTranspose2dForward` of layer i's mirror.
    mutating func convTransposeForwardScratch(_ i: Int, cached: Bool) {
        guard sizesAreSane else { return }
        let l = layers[i], shape = transposeAware(i, transposed: true)
        if l.kernel == 3 && shape.pays(settings.tuning, cached: cached) {
            winograd(shape, transformed: cached)
        } else {
            columns(mirrorGeometry(i))
        }
    }

    /// The Winograd weight gradient's dU, V and Z blocks (the forward's
    /// weight and first two block slots, which it never holds at the same time).
    private mutating func winogradGradient(_ shape: WinogradShape) {
        let b = WinogradGradientBlocking(shape, tuning: settings.tuning)
        guard planned else { timeline.briefly(Double(b.scratchFloats)); return }
        timeline.scratch(slot: ScratchSlot.winogradWeights, count: b.uFloats)
        timeline.scratch(slot: ScratchSlot.winogradBlocks, count: b.vFloats)
        timeline.scratch(slot: ScratchSlot.winogradBlocks + 1, count: b.zFloats)
    }

    /// `convTranspose2dBackward` of layer i's mirror: the weight gradient
    /// (Winograd's dU, V and Z blocks, or one im2col tile), then (when
    /// asked) the input gradient as a Winograd convolution with
    /// untransformed filters, or the im2col tile shared with the weight
    /// gradient's; without a workspace the stages never overlap.
    mutating func convTransposeBackwardScratch(_ i: Int, needInput: Bool) {
        guard sizesAreSane else { return }
        let l = layers[i]
        let forward = transposeAware(i, transposed: true)
        let weightByWinograd = l.kernel == 3 && forward.gradientPays(settings.tuning)
        let data = WinogradShape(batch: intBatch, cin: l.inChannels, cout: l.outChannels, height: inputShapes[i][1],
                                 width: inputShapes[i][2], padding: l.padding)
        let dataByWinograd = needInput && l.kernel == 3 && data.pays(settings.tuning)
        if weightByWinograd { winogradGradient(forward) }
        if !weightByWinograd || (needInput && !dataByWinograd) { columns(mirrorGeometry(i)) }
        if dataByWinograd { winograd(data, transformed: false) }
    }
}
