/// Which files a run trains on and which it is scored on: the eval folder if
/// one is given, otherwise a seeded split of the data folder (`splitFiles`).
func trainingFiles(options: TrainOptions) throws -> (train: [String], eval: [String]) {
    let files = try listImageFiles(in: options.dataFolder)
    if let folder = options.evalFolder {
        return (files, try listImageFiles(in: folder))
    }
    guard files.count >= 2 else {
        throw RWCNNError.argument("\(options.dataFolder) has \(files.count) image file(s); a held-out split needs at least 2 (or give an eval folder)")
    }
    return splitFiles(files, fraction: options.evalFraction, seed: options.dataSeed)
}

/// The held-out crops a training run with these options is scored on,
/// [N, 3, crop, crop], plus the files that could not be used. Lets any
/// decoder (random, tied, another run's) be scored on exactly the same images.
public func heldOutCrops(options: TrainOptions) throws -> (crops: Tensor, skipped: [(path: String, reason: String)]) {
    try options.validate()
    let evalFiles = try trainingFiles(options: options).eval
    let set = try ImageSet(paths: evalFiles, shortSide: options.shortSide, minSide: options.resizeWhole ? 1 : options.crop)
    guard !set.images.isEmpty else {
        throw RWCNNError.argument("no usable evaluation image (\(evalFiles.count) image file(s) found, \(set.skipped.count) skipped\(set.skippedSummary))")
    }
    return (try evaluationCrops(set.images, crop: options.crop, resizeWhole: options.resizeWhole), set.skipped)
}
