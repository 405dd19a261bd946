// Where a training run's samples come from: a folder of image files, images
// already in memory, or a callback that hands over each batch. The trainer
// sees only `PreparedData`: batches by step, the held-out crops, the files
// it skipped, and the identity a checkpoint records so that a resume from
// another source is refused.

/// The batch a `TrainingData.batches` source is asked for.
public struct BatchRequest: Sendable, Equatable {
    /// 0-based index of the training step the batch is for (a resumed run
    /// asks from the step after its checkpoint).
    public var step: Int
    public var batchSize: Int
    /// Side of the square samples.
    public var crop: Int
    /// The shape to return: [batchSize, 3, crop, crop], values in [0, 1].
    public var shape: [Int] { [batchSize, 3, crop, crop] }
}

/// The samples of a training run.
///
/// ```swift
/// var options = TrainOptions()
/// options.steps = 200; options.crop = 64
/// let photos: [Tensor] = try paths.map { try loadImageTensor(path: $0, channels: 3) }
/// try model.train(data: .images(photos), options: options)   // seeded split by image
/// try model.train(data: .batches(eval: held) { request in try myLoader.next(request.shape) },
///                 options: options)
/// ```
///
/// Folders and images go through the same sampler (seeded order, random
/// crops and flips, held-out centre crops), so the same images give the same
/// run whether they come from files or from memory. A `batches` source owns
/// its sampling: its batches are trained on as they are (no crop, no flip).
public struct TrainingData {
    enum Source {
        case folder(String, eval: String?)
        case images([Tensor], eval: [Tensor]?)
        case batches(eval: [Tensor], next: (BatchRequest) throws -> Tensor)
    }
    let source: Source

    /// PNG and JPEG files under `path` (recursively); held out: the files
    /// under `eval`, or without it a seeded split (`TrainOptions.evalFraction`).
    public static func folder(_ path: String, eval: String? = nil) -> TrainingData {
        TrainingData(source: .folder(path, eval: eval))
    }

    /// Images in memory, each [3, H, W] in [0, 1] (sizes may differ), as a
    /// folder's files would be after loading; held out: `eval`, or without
    /// it a seeded split by image in the given order (the split a folder of
    /// these images makes when they are given in sorted-path order).
    public static func images(_ images: [Tensor], eval: [Tensor]? = nil) -> TrainingData {
        TrainingData(source: .images(images, eval: eval))
    }

    /// Images in memory as one batch [N, 3, H, W] (and held-out [M, 3, H', W']).
    public static func images(_ batch: Tensor, eval: Tensor? = nil) throws -> TrainingData {
        func split(_ t: Tensor, _ what: String) throws -> [Tensor] {
            guard t.rank == 4 else { throw RWCNNError.argument("\(what) must be [N, 3, H, W], got shape \(t.shape)") }
            return try (0..<t.shape[0]).map { try t.item($0) }
        }
        return .images(try split(batch, "training images"), eval: try eval.map { try split($0, "held-out images") })
    }

    /// A callback that returns the batch of each step, [batch, 3, crop, crop]
    /// in [0, 1], called on the training thread before every step; a thrown
    /// error stops the run (the checkpoint keeps the last completed step) and
    /// is rethrown. `eval`: the held-out images, [3, H, W] each.
    public static func batches(eval: [Tensor], _ next: @escaping (BatchRequest) throws -> Tensor) -> TrainingData {
        TrainingData(source: .batches(eval: eval, next: next))
    }
}

/// A source made ready for the trainer.
struct PreparedData {
    var trainImages = 0
    var evalCrops: Tensor
    var skipped: [(path: String, reason: String)] = []
    /// What a checkpoint records of the source (compared on resume).
    var identity: [(key: String, value: String)] = []
    private var sampler: DataSampler?
    private var next: ((BatchRequest) throws -> Tensor)?

    /// `skippedFile` is told of every file skipped (before a folder without
    /// a usable image is an error), and may throw to stop.
    init(_ data: TrainingData, options: TrainOptions,
         skippedFile: (_ path: String, _ reason: String) throws -> Void = { _, _ in }) throws {
        let need = options.resizeWhole ? 1 : options.crop
        var trainSet: [Tensor]
        let evalSet: [Tensor]
        switch data.source {
        case .folder(let folder, let evalFolder):
            var o = options
            o.dataFolder = folder; o.evalFolder = evalFolder
            let (trainFiles, evalFiles) = try trainingFiles(options: o)
            let train = try ImageSet(paths: trainFiles, shortSide: options.shortSide, minSide: need)
            let held = try ImageSet(paths: evalFiles, shortSide: options.shortSide, minSide: need)
            skipped = train.skipped + held.skipped
            for s in skipped { try skippedFile(s.path, s.reason) }
            guard !train.images.isEmpty else {
                throw RWCNNError.argument("no usable training image in \(folder) (\(trainFiles.count) image file(s) found, \(train.skipped.count) skipped\(train.skippedSummary))")
            }
            guard !held.images.isEmpty else {
                throw RWCNNError.argument("no usable evaluation image (\(evalFiles.count) image file(s) found, \(held.skipped.count) skipped\(held.skippedSummary))")
            }
            trainSet = train.images; evalSet = held.images
            identity = [("data", "folder \(folder)"),
                        ("eval", evalFolder.map { "folder \($0)" } ?? "split \(options.evalFraction)")]
        case .images(let images, let eval):
            let all = try prepared(images, what: "training image", options: options, minSide: need)
            if let eval {
                trainSet = all
                evalSet = try prepared(eval, what: "held-out image", options: options, minSide: need)
                identity = [("data", imagesIdentity(images)), ("eval", imagesIdentity(eval))]
            } else {
                guard all.count >= 2 else {
                    throw RWCNNError.argument("\(all.count) training image(s) and no held-out images: a held-out split needs at least 2 (or give held-out images)")
                }
                let (t, e) = splitIndices(all.count, fraction: options.evalFraction, seed: options.dataSeed)
                trainSet = t.map { all[$0] }; evalSet = e.map { all[$0] }
                identity = [("data", imagesIdentity(images)), ("eval", "split \(options.evalFraction)")]
            }
        case .batches(let eval, let next):
            guard !eval.isEmpty else { throw RWCNNError.argument("training from batches needs held-out images (none given)") }
            trainSet = []
            evalSet = try prepared(eval, what: "held-out image", options: options, minSide: need)
            self.next = next
            identity = [("data", "batches"), ("eval", imagesIdentity(eval))]
        }
        trainImages = trainSet.count
        evalCrops = try evaluationCrops(evalSet, crop: options.crop, resizeWhole: options.resizeWhole)
        if next == nil {
            sampler = try DataSampler(images: trainSet, crop: options.crop, resizeWhole: options.resizeWhole,
                                      flip: options.flip, seed: options.dataSeed)
            trainSet = []
        }
    }

    /// The batch of step `step` (0-based), [batch, 3, crop, crop].
    mutating func batch(step: Int, options: TrainOptions) throws -> Tensor {
        if sampler != nil {
            return try sampler!.batch(first: sampleNumber(step: step, batchSize: options.batchSize), count: options.batchSize)
        }
        guard let next else { throw RWCNNError.internal("training data without a sampler or a batch source") }
        let request = BatchRequest(step: step, batchSize: options.batchSize, crop: options.crop)
        let t = try next(request)
        guard t.shape == request.shape else {
            throw RWCNNError.argument("the batch source gave shape \(t.shape) for step \(step + 1); every batch must be \(request.shape) (batch x 3 x crop x crop)")
        }
        try checkPixelValues(t, what: "the batch source's batch for step \(step + 1)")
        return t
    }
}

/// Checks in-memory images ([3, H, W] each, pixel values as `checkPixelValues` wants) and resizes them as a
/// folder's files are (`shortSide`); too small is an error here, not a skip.
private func prepared(_ images: [Tensor], what: String, options: TrainOptions, minSide: Int) throws -> [Tensor] {
    guard !images.isEmpty else { throw RWCNNError.argument("no \(what)s given") }
    var total = 0
    return try images.enumerated().map { i, image in
        guard image.rank == 3, image.shape[0] == 3 else {
            throw RWCNNError.argument("\(what) \(i) must be [3, H, W] (RGB, channels first), got shape \(image.shape)")
        }
        try checkPixelValues(image, what: "\(what) \(i)")  // the encoder's rule: finite, not 0..255
        var t = image
        if options.shortSide > 0 {
            let h = t.shape[1], w = t.shape[2]
            let scale = Double(options.shortSide) / Double(min(h, w))
            let newH = max(1, Int((Double(h) * scale).rounded())), newW = max(1, Int((Double(w) * scale).rounded()))
            try MemoryBudget.check(count: try checkedProduct([3, newH, newW], what: "\(what) \(i) resized"), size: 4,
                                   what: "\(what) \(i): resizing \(w)x\(h) to \(newW)x\(newH)")
            t = try resizeBilinear(t, height: newH, width: newW)
        }
        guard t.shape[1] >= minSide, t.shape[2] >= minSide else {
            throw RWCNNError.argument("\(what) \(i) is \(t.shape[2])x\(t.shape[1])\(options.shortSide > 0 ? " after resizing" : ""), smaller than the \(minSide)-pixel crop")
        }
        total += t.count
        try MemoryBudget.check(count: total, size: 4, what: "the \(i + 1) \(what)s prepared")
        return t
    }
}

/// "images N <hash>": the count and a 64-bit FNV-1a hash of every shape and
/// value bit, so a resume with other images is refused.
func imagesIdentity(_ images: [Tensor]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    func mix(_ v: UInt64) {
        for k in 0..<8 { h ^= (v >> (8 * UInt64(k))) & 0xFF; h = h &* 0x0000_0100_0000_01B3 }
    }
    for t in images {
        for s in t.shape { mix(UInt64(truncatingIfNeeded: s)) }
        t.data.withUnsafeBufferPointer { p in for x in p { mix(UInt64(x.bitPattern)) } }
    }
    return "images \(images.count) \(String(h, radix: 16))"
}
