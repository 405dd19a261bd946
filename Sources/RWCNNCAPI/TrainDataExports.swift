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
    guard v.image_shapes == nil || v.images != nil else {
        throw RWCNNError.argument("options.image_shapes is set without options.images")
    }
    guard v.eval_shapes == nil || v.eval_images != nil else {
        throw RWCNNError.argument("options.eval_shapes is set without options.eval_images")
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
        : imageList(v.eval_images, v.eval_count, v.eval_height, v.eval_width, shapes: v.eval_shapes,
                    what: "options.eval_images", sizes: ("eval_height", "eval_width", "eval_shapes"))
    if v.images != nil {
        return .images(try imageList(v.images, v.image_count, v.image_height, v.image_width, shapes: v.image_shapes,
                                     what: "options.images", sizes: ("image_height", "image_width", "image_shapes")),
                       eval: eval)
    }
    guard let eval else {
        throw RWCNNError.argument("options.batch_fn needs held-out images: set options.eval_images")
    }
    let fill = v.batch_fn!, user = v.batch_user
    return .batches(eval: eval) { request in try callBatch(fill, user, request) }
}

/// n images from a caller array, copied: each 3 x h x w, or with `shapes`
/// (n pairs of height, width) each of its own size, back to back.
private func imageList(_ p: UnsafePointer<Float>?, _ n: Int, _ h: Int, _ w: Int, shapes: UnsafePointer<Int>?,
                       what: String, sizes: (height: String, width: String, shapes: String)) throws -> [Tensor] {
    guard let shapes else {
        let (_, count) = try batchShape(n, 3, h, w, what: "\(what) (count x 3 x height x width)")
        try MemoryBudget.check(count: count, size: MemoryLayout<Float>.stride, what: "a copy of \(what)")
        let all = try tensor(from: p, shape: [n, 3, h, w], count: count, name: what)
        return try (0..<n).map { try all.item($0) }
    }
    guard h == 0, w == 0 else {
        throw RWCNNError.argument("options.\(sizes.shapes) gives each image's size; set options.\(sizes.height) and options.\(sizes.width) to 0 (they are \(h) and \(w))")
    }
    guard n >= 1, n <= 1 << 24 else { throw RWCNNError.argument("\(what): count must be in 1...\(1 << 24), got \(n)") }
    let base = try required(p, what)
    var offsets: [(Int, Int, Int)] = []  // (offset, height, width)
    var total = 0
    for i in 0..<n {
        let ih = shapes[2 * i], iw = shapes[2 * i + 1]
        let (_, count) = try batchShape(1, 3, ih, iw, what: "\(what) image \(i) (options.\(sizes.shapes)[\(2 * i)], [\(2 * i + 1)])")
        offsets.append((total, ih, iw))
        let (sum, overflow) = total.addingReportingOverflow(count)
        guard !overflow else { throw RWCNNError.argument("\(what): the images' sizes overflow") }
        total = sum
        try MemoryBudget.check(count: total, size: MemoryLayout<Float>.stride, what: "a copy of \(what) (\(i + 1) images)")
    }
    return try offsets.map { (offset, ih, iw) in
        try tensor(from: base + offset, shape: [3, ih, iw], count: 3 * ih * iw, name: what)
    }
}

/// Bytes of the reason a failing batch callback may write (rwcnn_batch.message).
private let batchMessageCapacity = 1024

/// One call of the caller's batch callback into a NaN-filled buffer.
private func callBatch(_ fill: rwcnn_batch_fn, _ user: UnsafeMutableRawPointer?, _ r: BatchRequest) throws -> Tensor {
    let (shape, count) = try batchShape(r.batchSize, 3, r.crop, r.crop, what: "batch")
    var data = [Float](repeating: .nan, count: count)
    var reason = [CChar](repeating: 0, count: batchMessageCapacity)
    let code = data.withUnsafeMutableBufferPointer { buffer -> Int32 in
        reason.withUnsafeMutableBufferPointer { text -> Int32 in
            var b = rwcnn_batch()
            b.struct_size = MemoryLayout<rwcnn_batch>.size
            b.step = r.step
            b.batch = r.batchSize; b.channels = 3; b.height = r.crop; b.width = r.crop
            b.images = buffer.baseAddress
            b.capacity = count
            b.message = text.baseAddress
            b.message_capacity = text.count
            return withUnsafePointer(to: &b) { fill($0, user) }
        }
    }
    guard code == 0 else {
        let name = String(cString: rwcnn_status_name(code))
        reason[reason.count - 1] = 0  // a callback that wrote no terminator
        let own = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let message = "the batch callback returned \(name == "RWCNN_UNKNOWN_STATUS" ? "\(code)" : name) for step \(r.step + 1)\(own.isEmpty ? "" : ": \(own)"); training stopped"
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
