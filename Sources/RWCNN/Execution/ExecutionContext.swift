/// How a pass runs: the thread budget, the memory budget and the kernels'
/// tuning thresholds. Kernels take one (default `.current`) instead of
/// reading global knobs, so tests and callers can change a threshold for
/// one call without touching anyone else's.
public struct ExecutionContext: Equatable {
    /// Threads the engine may run at once. The engine owns the cores: BLAS
    /// itself runs single-threaded and the engine splits each product into
    /// column or row blocks, one per thread (see `Threads`).
    public var threads: Int
    /// The largest working set (bytes) a pass may plan; a pass that needs
    /// more fails with `RWCNNError.outOfMemory`.
    public var memoryBudget: Int
    /// Size thresholds of the kernels.
    public var tuning: KernelTuning

    public init(threads: Int = Threads.count, memoryBudget: Int = Model.workingMemoryLimit,
                tuning: KernelTuning = KernelTuning()) {
        self.threads = max(1, min(threads, Threads.limit))
        self.memoryBudget = memoryBudget
        self.tuning = tuning
    }

    /// The process-wide settings: `Threads.count` threads and
    /// `Model.workingMemoryLimit`, default tuning.
    public static var current: ExecutionContext { ExecutionContext() }

    /// The same context with `threads` threads.
    public func withThreads(_ n: Int) -> ExecutionContext {
        var c = self
        c.threads = max(1, min(n, Threads.limit))
        return c
    }
}

/// Size thresholds that choose between algorithms and block sizes. The
/// defaults were measured on VGG16 layers with 2 cores (see each field);
/// tests set extreme values to exercise block and tile boundaries.
public struct KernelTuning: Equatable {
    /// Bytes of one im2col column tile. A convolution is computed tile by
    /// tile so the column buffer stays in cache and needs no fresh pages on
    /// every call (faulting in a full-image buffer cost more than the sgemm).
    public var columnTileBytes = 6 << 20
    /// The fewest columns per tile, so that sgemm stays efficient.
    public var minTileColumns = 2048
    /// Whether 3x3 stride-1 passes may take the Winograd F(4x4,3x3) path.
    public var winograd = true
    /// The fewest 4x4 output tiles (whole batch) for which Winograd is used.
    /// Its fixed cost, the weight transform (36 x Cout x Cin floats, 4x the
    /// weights), grows like the sgemm work per tile, so the break-even is a
    /// tile count whatever the channels. Measured first (older kernels,
    /// VGG16 layers, 2 cores): 128 tiles (14x14, batch 8) gained 10 %, 49
    /// tiles (28x28, batch 1) lost 10-15 %. With the plane-spaced SIMD
    /// transforms and planned scratch, re-measured with `rwcnn benchmark
    /// --threads 2 --tuning winogradMinTiles=N` (CPU per call, interleaved,
    /// load average 7-9 from other jobs): train:pool4 (8x8 layers of 64
    /// tiles) 1.31 s at 128, 1.12 s at 32; forward:pool5:224:1 (49 and 16
    /// tiles) 260 ms at 128, 233 ms at 32, 296 ms at 8; forward:pool5:64:8
    /// (32 and 8 tiles) 222 ms at 128, 201 ms at 32, 238 ms at 8.
    public var winogradMinTiles = 32
    /// The same threshold when the transformed weights are cached (a model's
    /// fixed encoder and tied decoder): only the input and output transforms
    /// remain as overhead, and they pay at any size measured. CPU per call,
    /// VGG16 encoder, 2 threads, `rwcnn benchmark --winograd-cached-min-tiles
    /// N`, interleaved, loaded machine: forward pool3 64x64 batch 1 (layers
    /// of 64 and 16 tiles) 27 ms at 128, 18 ms at 48, 16.5 ms at 16; pool5
    /// 224x224 batch 1 (49 and 16 tiles) 0.34 s at 128, 0.32 s at 16; pool5
    /// 64x64 batch 8 (32 and 8 tiles) 0.28 s at 16, 0.26 s at 4 and 1;
    /// batch 1 (4 and 1 tiles) 41-42 ms at 16, 4 and 1 alike.
    public var winogradMinTilesCached = 4
    /// The most floats of transformed Winograd weights a model keeps cached
    /// (8 Mi floats = 32 MiB, through VGG16's conv3 layers); layers beyond it
    /// transform on every call. Kept small because the cache stays for the
    /// model's lifetime and peak memory is one of the engine's advantages.
    public var winogradCacheFloats = 8 << 20
    /// Floats of V plus M per Winograd block (2^20 floats = 4 MiB).
    public var winogradBlockFloats = 1 << 20
    /// The most floats of transformed weights held at once (6 Mi floats = 24
    /// MiB, under glibc's 32 MiB limit for reusing freed memory).
    public var winogradWeightFloats = 6 << 20
    /// The fewest tiles per Winograd block (unless the whole call has fewer).
    public var winogradMinBlockTiles = 128
    /// The fewest 4x4 tiles (whole batch) for which a weight gradient takes
    /// the Winograd path (`winogradWeightGradient`) instead of im2col + GEMM.
    public var winogradGradientMinTiles = 16
    /// Floats of V plus Z per block of a Winograd weight gradient.
    public var winogradGradientBlockFloats = 2 << 20
    /// The fewest tiles per block of a Winograd weight gradient (unless the
    /// call has fewer): each block reads and writes all of dU once.
    public var winogradGradientMinBlockTiles = 256
    /// The fewest multiply-adds per thread for which a product is split
    /// between threads; below it one thread does it all.
    public var parallelGemmMinWork = 1 << 18

    public init() {}
}

extension KernelTuning {
    /// The integer thresholds by name (the field names), for measuring
    /// break-evens without rebuilding (`rwcnn benchmark --tuning NAME=VALUE`).
    static let integerFields: [(String, WritableKeyPath<KernelTuning, Int>)] = [
        ("columnTileBytes", \.columnTileBytes), ("minTileColumns", \.minTileColumns),
        ("winogradMinTiles", \.winogradMinTiles), ("winogradMinTilesCached", \.winogradMinTilesCached),
        ("winogradCacheFloats", \.winogradCacheFloats), ("winogradBlockFloats", \.winogradBlockFloats),
        ("winogradWeightFloats", \.winogradWeightFloats), ("winogradMinBlockTiles", \.winogradMinBlockTiles),
        ("winogradGradientMinTiles", \.winogradGradientMinTiles),
        ("winogradGradientBlockFloats", \.winogradGradientBlockFloats),
        ("winogradGradientMinBlockTiles", \.winogradGradientMinBlockTiles),
        ("parallelGemmMinWork", \.parallelGemmMinWork),
    ]

    /// The names `set(_:to:)` accepts: every integer threshold, and
    /// `winograd` (0 or 1).
    public static var names: [String] { integerFields.map(\.0) + ["winograd"] }

    /// Sets the threshold called `name` (a field name) to `value`; an unknown
    /// name or a value below 1 (below 0 for `winograd`, above 1 too) is
    /// `.argument`.
    public mutating func set(_ name: String, to value: Int) throws {
        if name == "winograd" {
            guard value == 0 || value == 1 else { throw RWCNNError.argument("tuning winograd must be 0 or 1, got \(value)") }
            winograd = value == 1
            return
        }
        guard let field = Self.integerFields.first(where: { $0.0 == name })?.1 else {
            throw RWCNNError.argument("unknown tuning \(name); known: \(Self.names.joined(separator: ", "))")
        }
        guard value >= 1 else { throw RWCNNError.argument("tuning \(name) must be >= 1, got \(value)") }
        self[keyPath: field] = value
    }
}
