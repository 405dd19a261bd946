import CRWCNN
import RWCNN

// rwcnn_train from memory: the options' `images` / `eval_images` arrays and
// `batch_fn` callback as a TrainingData source (nil: the data_dir folder).

/// The in-memory source the options name, or nil when they name data_dir.
/// Exactly one of data_dir, images and batch_fn must be set.
func trainingData(_ v: rwcnn_train_options) throws -> TrainingData? {
    let set = [("data_dir", v.data_dir != nil), ("images", v.images != nil), ("batch_fn", v.batch_fn != nil)]
        .filter { $0.1 }.map { $0.0 }
    guard set.count == 1 else {
        throw RWCNNError.argument(set.isEmpty
            ? "options: no training data; set options.data_dir, options.images or options.batch_fn"
            : "options: set exactly one of data_dir, images and batch_fn (\(set.joined(separator: " and ")) are set)")
    }
    if v.data_dir != nil {
        guard v.eval_images == nil else {
            throw RWCNNError.argument("options.eval_images goes with images or batch_fn; with data_dir, held-out images come from eval_dir")
        }
        return nil
    }
    guard v.eval_dir == nil else {
        throw RWCNNError.argument("options.eval_dir goes with data_dir; with images or batch_fn, pass held-out images as eval_images")
    }
    let eval = try v.eval_images == nil ? nil
        : imageList(v.eval_images, v.eval_count, v.eval_height, v.eval_width, what: "options.eval_images")
    if v.images != nil {
        return .images(try imageList(v.images, v.image_count, v.image_height, v.image_width, what: "options.images"),
                       eval: eval)
    }
    guard let eval else {
        throw RWCNNError.argument("options.batch_fn needs held-out images: set options.eval_images")
    }
    let fill = v.batch_fn!, user = v.batch_user
    return .batches(eval: eval) { request in try callBatch(fill, user, request) }
}

/// n images of 3 x h x w floats from a caller array, copied.
private func imageList(_ p: UnsafePointer<Float>?, _ n: Int, _ h: Int, _ w: Int, what: String) throws -> [Tensor] {
    let (_, count) = try batchShape(n, 3, h, w, what: "\(what) (count x 3 x height x width)")
    try MemoryBudget.check(count: count, size: MemoryLayout<Float>.stride, what: "a copy of \(what)")
    let all = try tensor(from: p, shape: [n, 3, h, w], count: count, name: what)
    return try (0..<n).map { try all.item($0) }
}

/// One call of the caller's batch callback into a NaN-filled buffer.
private func callBatch(_ fill: rwcnn_batch_fn, _ user: UnsafeMutableRawPointer?, _ r: BatchRequest) throws -> Tensor {
    let (shape, count) = try batchShape(r.batchSize, 3, r.crop, r.crop, what: "batch")
    var data = [Float](repeating: .nan, count: count)
    let code = data.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var b = rwcnn_batch()
        b.struct_size = MemoryLayout<rwcnn_batch>.size
        b.step = r.step
        b.batch = r.batchSize; b.channels = 3; b.height = r.crop; b.width = r.crop
        b.images = buffer.baseAddress
        b.capacity = count
        return withUnsafePointer(to: &b) { fill($0, user) }
    }
    guard code == 0 else {
        let name = String(cString: rwcnn_status_name(code))
        let message = "the batch callback returned \(name == "RWCNN_UNKNOWN_STATUS" ? "\(code)" : name) for step \(r.step + 1); training stopped"
        switch UInt32(bitPattern: code) {
        case RWCNN_ERR_IO.rawValue: throw RWCNNError.io(message)
        case RWCNN_ERR_FORMAT.rawValue: throw RWCNNError.format(message)
        case RWCNN_ERR_OUT_OF_MEMORY.rawValue: throw RWCNNError.outOfMemory(message)
        case RWCNN_ERR_CANCELLED.rawValue: throw RWCNNError.cancelled(message)
        default: throw RWCNNError.argument(message)
        }
    }
    return try Tensor(shape: shape, data: data)
}
