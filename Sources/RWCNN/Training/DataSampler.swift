/// Turns a global sample number into a training sample. Everything is a pure
/// function of (seed, sample number): epoch e visits the training images in
/// a Fisher-Yates permutation drawn from stream "data.order" + e, and sample
/// i's crop offset and flip come from stream "data.augment" at block 4*i.
/// So the data-order position of a run is just the number of samples drawn,
/// and a resumed run sees exactly the samples the uninterrupted one would.
struct DataSampler {
    let images: [Tensor]
    let crop: Int
    let resizeWhole: Bool
    let flip: Bool
    let seed: UInt64
    private var epoch = -1
    private var order: [Int] = []

    init(images: [Tensor], crop: Int, resizeWhole: Bool, flip: Bool, seed: UInt64) throws {
        self.crop = crop; self.resizeWhole = resizeWhole; self.flip = flip; self.seed = seed
        // Whole-image mode resizes each image once, up front.
        self.images = resizeWhole ? try images.map { try resizeBilinear($0, height: crop, width: crop) } : images
    }

    /// The batch of samples first ..< first + count, as [count, 3, crop, crop].
    mutating func batch(first: Int, count: Int) throws -> Tensor {
        var items: [Tensor] = []
        items.reserveCapacity(count)
        for i in first..<(first + count) { items.append(try sample(i)) }
        return try Tensor.stack(items)
    }

    private mutating func sample(_ i: Int) throws -> Tensor {
        let n = images.count
        let e = i / n
        if e != epoch {
            order = seededPermutation(n, seed: seed, stream: streamID(forName: "data.order") &+ UInt64(e))
            epoch = e
        }
        let image = images[order[i % n]]
        var rng = RandomStream(seed: seed, stream: streamID(forName: "data.augment"))
        rng.position = UInt64(i) * 4
        var t = image
        if !resizeWhole {
            let top = rng.nextInt(below: image.shape[1] - crop + 1)
            let left = rng.nextInt(below: image.shape[2] - crop + 1)
            t = try RWCNN.crop(image, top: top, left: left, height: crop, width: crop)
        }
        if flip && rng.nextUInt32() & 1 == 1 { t = flipHorizontal(t) }
        return t
    }
}

/// A Fisher-Yates permutation of 0..<n drawn from one stream.
func seededPermutation(_ n: Int, seed: UInt64, stream: UInt64) -> [Int] {
    var p = Array(0..<n)
    var rng = RandomStream(seed: seed, stream: stream)
    if n > 1 {
        for j in stride(from: n - 1, to: 0, by: -1) { p.swapAt(j, rng.nextInt(below: j + 1)) }
    }
    return p
}

/// Seeded split by file: a permutation of the sorted paths from stream
/// "data.split"; the first ceil(fraction * n) files (at least one) are held out.
func splitFiles(_ paths: [String], fraction: Double, seed: UInt64) -> (train: [String], eval: [String]) {
    let (train, eval) = splitIndices(paths.count, fraction: fraction, seed: seed)
    return (train.map { paths[$0] }, eval.map { paths[$0] })
}

/// The split of `splitFiles` on indices 0..<n (in-memory images are split
/// as a folder of the same images in the same order is).
func splitIndices(_ n: Int, fraction: Double, seed: UInt64) -> (train: [Int], eval: [Int]) {
    let order = seededPermutation(n, seed: seed, stream: streamID(forName: "data.split"))
    let nEval = min(n - 1, max(1, Int((fraction * Double(n)).rounded(.up))))
    let evalIdx = Set(order.prefix(nEval))
    return ((0..<n).filter { !evalIdx.contains($0) }, (0..<n).filter { evalIdx.contains($0) })
}
