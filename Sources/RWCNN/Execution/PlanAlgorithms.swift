// Which algorithm each convolution pass of a job takes, as the kernels
// choose it by shape when the pass runs: Winograd F(4x4,3x3) (with the
// model's cached weights, or weights transformed in the call), im2col + GEMM,
// or a plain GEMM for 1x1 convolutions. Built on the working-memory walk,
// which already follows the kernels' rules and the transform cache.
// `rwcnn info --plan` prints it.

/// One convolution pass of a job and its algorithm.
public struct PlannedConvolution: Equatable, Sendable {
    public enum Pass: String, Sendable {
        case encoderForward = "encoder forward"
        case decoderForward = "decoder forward"
        case decoderBackwardData = "decoder backward data"
        case decoderWeightGradient = "decoder weight gradient"
    }

    public enum Algorithm: String, Sendable {
        case winogradCached = "Winograd F(4x4,3x3), cached weights"
        case winograd = "Winograd F(4x4,3x3)"
        case im2col = "im2col + GEMM"
        case pointwise = "GEMM (1x1)"
    }

    /// The encoder layer the pass belongs to (decoder passes: the layer they mirror).
    public let layer: String
    public let pass: Pass
    public let algorithm: Algorithm
    /// 4x4 output tiles over the batch of the Winograd-shaped convolution (0 when it has none).
    public let tiles: Int
}

extension WorkingMemory {
    /// The convolution passes of `job` for `batch` images of `height` x
    /// `width` through `architecture` cut at `cutIndex`, in the order they
    /// run, with the algorithm each takes for a fresh model (empty transform
    /// cache, filled by the job's first call as the kernels fill it).
    ///
    /// ```swift
    /// let vgg = try Architecture(spec: "vgg16")
    /// let passes = try WorkingMemory.plannedConvolutions(.trainStep, architecture: vgg, cutIndex: 9,
    ///                                                    batch: 16, height: 64, width: 64,
    ///                                                    settings: WorkingMemorySettings(decoder: .trained))
    /// ```
    public static func plannedConvolutions(_ job: MemoryJob, architecture: Architecture, cutIndex: Int, batch: Int,
                                           height: Int, width: Int,
                                           settings: WorkingMemorySettings = WorkingMemorySettings()) throws
        -> [PlannedConvolution] {
        var walk = try PassWalk(architecture: architecture, cutIndex: cutIndex, batch: batch, height: height,
                                width: width, settings: settings, cache: TransformCacheState())
        walk.fillCache(encoder: job != .decode,
                       decoder: settings.decoder == .tied && (job == .reconstruct || job == .decode))
        var out: [PlannedConvolution] = []
        let tuning = settings.tuning
        func add(_ i: Int, _ pass: PlannedConvolution.Pass, _ winograd: Bool, cached: Bool, shape: WinogradShape) {
            let l = walk.layers[i]
            let algorithm: PlannedConvolution.Algorithm = winograd ? (cached ? .winogradCached : .winograd)
                : (l.kernel == 1 && l.padding == 0 ? .pointwise : .im2col)
            out.append(PlannedConvolution(layer: l.name, pass: pass, algorithm: algorithm,
                                          tiles: l.kernel == 3 && shape.isSupported ? shape.tiles : 0))
        }
        let convs = walk.layers.indices.filter { walk.layers[$0].isConv }
        if job != .decode {
            for i in convs {
                let l = walk.layers[i], shape = walk.transposeAware(i, transposed: false)
                let cached = walk.cachedTransform(layer: i, transposed: false)
                add(i, .encoderForward, l.kernel == 3 && l.padding <= 1 && shape.pays(tuning, cached: cached),
                    cached: cached, shape: shape)
            }
        }
        guard job != .encode else { return out }
        let decoderCached = settings.decoder == .tied && job != .gradients && job != .trainStep
        for i in convs.reversed() {
            let l = walk.layers[i], shape = walk.transposeAware(i, transposed: true)
            let cached = decoderCached && walk.cachedTransform(layer: i, transposed: true)
            add(i, .decoderForward, l.kernel == 3 && shape.pays(tuning, cached: cached), cached: cached, shape: shape)
        }
        guard job == .gradients || job == .trainStep else { return out }
        let nearestCutConv = convs.last ?? walk.layers.startIndex
        for i in convs {  // the backward pass runs from the image side up
            let l = walk.layers[i], forward = walk.transposeAware(i, transposed: true)
            add(i, .decoderWeightGradient, l.kernel == 3 && forward.gradientPays(tuning), cached: false, shape: forward)
            guard i < nearestCutConv else { continue }  // gradients go down only as far as weights need them
            let data = WinogradShape(batch: batch, cin: l.inChannels, cout: l.outChannels, height: walk.inputShapes[i][1],
                                     width: walk.inputShapes[i][2], padding: l.padding)
            add(i, .decoderBackwardData, l.kernel == 3 && data.pays(tuning), cached: false, shape: data)
        }
        return out
    }
}
