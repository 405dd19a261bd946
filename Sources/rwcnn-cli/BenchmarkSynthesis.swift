import RWCNN

/// Image-synthesis benchmark rows (issue 10): one Adam step on the pixels of
/// one square image, through `Model.invert` / `Model.texture` and their
/// progress callbacks (each interval is a whole step: encoder forward
/// keeping activations, losses, backward to the pixels, Adam).
/// - `invert:LAYER:SIZE`: VGG16 (max pools), relative feature loss at LAYER.
/// - `texture:LAYER:SIZE`: VGG16 with average pools, scaled Gram losses at
///   the first conv of every block up to LAYER's (conv4_1: conv1_1,
///   conv2_1, conv3_1, conv4_1) plus LAYER.
/// scripts/bench_torch_worker.py times the same loss with autograd.
struct SynthesisBench: Equatable {
    enum Task: String { case invert, texture }
    let task: Task
    let layer: String
    let size: Int

    static let suite = [SynthesisBench(task: .invert, layer: "conv4_1", size: 128),
                        SynthesisBench(task: .texture, layer: "conv4_1", size: 128)]

    var id: String { "\(task.rawValue):\(layer):\(size)" }
    var title: String {
        task == .invert ? "invert step \(layer), \(size)x\(size), Adam"
                        : "texture step to \(layer), \(size)x\(size), Adam"
    }

    var arch: String { task == .invert ? "vgg16" : "vgg16-avg" }

    func textureLayers(_ a: Architecture) throws -> [String] {
        let last = try a.index(of: layer)
        var names = a.layers[0...last].filter { $0.name.hasSuffix("_1") && $0.isConv }.map(\.name)
        if !names.contains(a.layers[last].name) { names.append(a.layers[last].name) }
        return names
    }

    func run(_ timing: TimingProtocol) throws -> (record: [(String, JSONValue)], times: [Double],
                                                  cost: [(String, JSONValue)], gflop: Double, setupRSS: Double) {
        let model = try Model(config: ModelConfig(arch: arch, cut: layer, seed: 0))
        var rng = SplitMix64(seed: 7)
        let x = try Tensor(shape: [1, 3, size, size], data: (0..<(3 * size * size)).map { _ in rng.nextUnit() })
        var o = SynthesisOptions()
        o.steps = timing.warmup + timing.maxReps + 1
        var record: [(String, JSONValue)] = [("bench", .string("\(task.rawValue)_step")), ("layer", .string(layer)),
                                             ("size", .number(Double(size))), ("batch", .number(1)),
                                             ("arch", .string(arch)), ("optimizer", .string("adam")),
                                             ("api", .string("Model.\(task.rawValue) step callbacks"))]
        let layers = task == .texture ? try textureLayers(model.architecture) : [layer]
        record.append(("layers", .array(layers.map { .string($0) })))
        let setupRSS = Usage.now().peakRSSMB
        var stamps: [Double] = [], times: [Double] = []
        var cost: IntervalCost? = nil, fields: [(String, JSONValue)] = []
        let callback: SynthesisCallback = { _ in
            let now = monotonicSeconds()
            if stamps.count == timing.warmup { cost = IntervalCost() }
            if stamps.count > timing.warmup { times.append(now - stamps[stamps.count - 1]) }
            stamps.append(now)
            if timing.done(times) { fields = cost?.fields() ?? []; return false }
            return true
        }
        do {
            switch task {
            case .invert: _ = try model.invert(x, layer: layer, options: o, progress: callback)
            case .texture: _ = try model.texture(x, layers: layers, height: size, width: size, options: o, progress: callback)
            }
        } catch RWCNNError.cancelled {
            // The callback stopped the run: the expected end.
        }
        guard !times.isEmpty else { throw CLIError("synthesis ended before any step was timed") }
        // Forward + backward to the pixels: about 3 x the forward's convs
        // (the first conv needs no input gradient, counted anyway).
        let gflop = 2 * (try model.architecture.encoderFLOPs(cut: model.cutIndex, height: size, width: size)) / 1e9
        return (record, times, fields, gflop, setupRSS)
    }

    init(task: Task, layer: String, size: Int) {
        self.task = task; self.layer = layer; self.size = size
    }

    /// `invert:LAYER[:SIZE]` or `texture:LAYER[:SIZE]`; size default 128.
    init?(id: String) throws {
        let p = id.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let t = Task(rawValue: p[0]) else { return nil }
        guard p.count >= 2, p.count <= 3, !p[1].isEmpty else {
            throw CLIError("\(id): expected \(t.rawValue):LAYER[:SIZE]")
        }
        var s = 128
        if p.count == 3 {
            guard let v = Int(p[2]), v >= 1 else { throw CLIError("\(id): size must be a positive integer, got '\(p[2])'") }
            s = v
        }
        self.init(task: t, layer: p[1], size: s)
    }
}
