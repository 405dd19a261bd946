import CRWCNN
import RWCNN

// Image load (PNG or JPEG, detected from the bytes), PNG save and the
// metrics, translated to caller buffers.

private func loadImage(_ read: (Int) throws -> Image, header: () throws -> (Int, Int, Int), channels: Int32,
                     _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                     _ width: UnsafeMutablePointer<Int>?, _ height: UnsafeMutablePointer<Int>?,
                     _ outChannels: UnsafeMutablePointer<Int>?) throws {
    guard channels == 0 || channels == 1 || channels == 3 else {
        throw RWCNNError.argument("channels must be 0 (as stored, no alpha), 1 or 3, got \(channels)")
    }
    let width = try required(width, "width"), height = try required(height, "height")
    let want: Int? = channels == 0 ? nil : Int(channels)
    // The header first (nothing decoded): the size query's answer, and the
    // capacity check before a whole image is decoded into a buffer too small.
    let (w, h, c) = try header()
    let colour = want ?? (c == 2 || c == 4 ? c - 1 : c)
    guard let out else {
        width.pointee = w; height.pointee = h
        outChannels?.pointee = colour
        return
    }
    try ImageFile.checkPixelLimit(width: w, height: h)
    try MemoryBudget.check(count: w * h * colour, size: MemoryLayout<Float>.stride, what: "a \(w)x\(h) image as floats")
    let (_, need) = try batchShape(1, colour, h, w, what: "image")
    guard capacity >= need else {  // out parameters stay untouched (written only on success)
        throw RWCNNError.bufferTooSmall("out holds \(capacity) floats; the \(w)x\(h) image needs \(colour)x\(h)x\(w) = \(need)")
    }
    let t = try imageToTensor(read(PNG.defaultMaxPixels), channels: want)
    try copy(t, to: out, capacity: capacity, name: "out")
    outChannels?.pointee = t.shape[0]; height.pointee = t.shape[1]; width.pointee = t.shape[2]
}

@_cdecl("rwcnn_png_load")
public func rwcnn_png_load(_ path: UnsafePointer<CChar>?, _ channels: Int32, _ out: UnsafeMutablePointer<Float>?,
                           _ capacity: Int, _ width: UnsafeMutablePointer<Int>?, _ height: UnsafeMutablePointer<Int>?,
                           _ outChannels: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let path = try string(path, "path")
        try loadImage({ try PNG.read(path: path, maxPixels: $0) },
                    header: { let i = try PNG.header(path: path); return (i.width, i.height, i.channels) },
                    channels: channels, out, capacity, width, height, outChannels)
    }
}

@_cdecl("rwcnn_image_load")
public func rwcnn_image_load(_ path: UnsafePointer<CChar>?, _ channels: Int32, _ out: UnsafeMutablePointer<Float>?,
                             _ capacity: Int, _ width: UnsafeMutablePointer<Int>?, _ height: UnsafeMutablePointer<Int>?,
                             _ outChannels: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let path = try string(path, "path")
        try loadImage({ try ImageFile.read(path: path, maxPixels: $0) },
                    header: { let i = try ImageFile.header(path: path); return (i.width, i.height, i.channels) },
                    channels: channels, out, capacity, width, height, outChannels)
    }
}

@_cdecl("rwcnn_image_load_memory")
public func rwcnn_image_load_memory(_ data: UnsafeRawPointer?, _ size: Int, _ channels: Int32,
                                    _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                    _ width: UnsafeMutablePointer<Int>?, _ height: UnsafeMutablePointer<Int>?,
                                    _ outChannels: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let data = try required(data, "data")
        guard size >= 0 else { throw RWCNNError.argument("size is too large") }
        let bytes = UnsafeRawBufferPointer(start: data, count: size)
        try loadImage({ try ImageFile.read(bytes: bytes, maxPixels: $0) },
                    header: { let i = try ImageFile.header(bytes: bytes); return (i.width, i.height, i.channels) },
                    channels: channels, out, capacity, width, height, outChannels)
    }
}

@_cdecl("rwcnn_png_load_memory")
public func rwcnn_png_load_memory(_ data: UnsafeRawPointer?, _ size: Int, _ channels: Int32,
                                  _ out: UnsafeMutablePointer<Float>?, _ capacity: Int,
                                  _ width: UnsafeMutablePointer<Int>?, _ height: UnsafeMutablePointer<Int>?,
                                  _ outChannels: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let data = try required(data, "data")
        guard size >= 0 else { throw RWCNNError.argument("size is too large") }
        let bytes = UnsafeRawBufferPointer(start: data, count: size)
        try loadImage({ try PNG.read(bytes: bytes, maxPixels: $0) },
                    header: { let i = try PNG.header(bytes: bytes); return (i.width, i.height, i.channels) },
                    channels: channels, out, capacity, width, height, outChannels)
    }
}

private func imageTensor(_ p: UnsafePointer<Float>?, _ c: Int, _ h: Int, _ w: Int) throws -> Tensor {
    guard c == 1 || c == 3 || c == 4 else { throw RWCNNError.argument("channels must be 1, 3 or 4, got \(c)") }
    let (shape, count) = try batchShape(1, c, h, w, what: "image")
    return try tensor(from: p, shape: Array(shape.dropFirst()), count: count, name: "image")
}

@_cdecl("rwcnn_png_save")
public func rwcnn_png_save(_ path: UnsafePointer<CChar>?, _ image: UnsafePointer<Float>?, _ c: Int, _ h: Int,
                           _ w: Int, _ bitDepth: Int32) -> Int32 {
    capi {
        let path = try string(path, "path")
        guard bitDepth == 8 || bitDepth == 16 else { throw RWCNNError.argument("bit_depth must be 8 or 16, got \(bitDepth)") }
        try saveImageTensor(imageTensor(image, c, h, w), path: path, bitDepth: Int(bitDepth))
    }
}

@_cdecl("rwcnn_png_encode")
public func rwcnn_png_encode(_ image: UnsafePointer<Float>?, _ c: Int, _ h: Int, _ w: Int, _ bitDepth: Int32,
                             _ out: UnsafeMutableRawPointer?, _ capacity: Int, _ size: UnsafeMutablePointer<Int>?) -> Int32 {
    capi {
        let size = try required(size, "size")
        guard bitDepth == 8 || bitDepth == 16 else { throw RWCNNError.argument("bit_depth must be 8 or 16, got \(bitDepth)") }
        _ = try required(image, "image")
        guard c == 1 || c == 3 || c == 4 else { throw RWCNNError.argument("channels must be 1, 3 or 4, got \(c)") }
        _ = try batchShape(1, c, h, w, what: "image")
        guard let out else {
            // The query is a bound, computed: nothing is encoded twice.
            size.pointee = try PNG.encodedSizeBound(width: w, height: h, channels: c, bitDepth: Int(bitDepth))
            return
        }
        let bytes = try PNG.encode(tensorToImage(imageTensor(image, c, h, w), bitDepth: Int(bitDepth)))
        guard capacity >= bytes.count else {
            throw RWCNNError.bufferTooSmall("out holds \(capacity) bytes; the PNG needs \(bytes.count)")
        }
        bytes.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        size.pointee = bytes.count
    }
}

// MARK: metrics and display

@_cdecl("rwcnn_display_normalize")
public func rwcnn_display_normalize(_ images: UnsafeMutablePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Int32 {
    capi {
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        let t = try tensor(from: images.map { UnsafePointer($0) }, shape: shape, count: count, name: "images")
        try copy(displayNormalize(t), to: images, capacity: count, name: "images")
    }
}

private func metric(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
                    _ out: UnsafeMutablePointer<Double>?, _ f: (Tensor, Tensor) throws -> Double) -> Int32 {
    capi {
        let out = try required(out, "out")
        let (shape, count) = try batchShape(n, c, h, w, what: "images")
        let x = try tensor(from: a, shape: shape, count: count, name: "a")
        let y = try tensor(from: b, shape: shape, count: count, name: "b")
        out.pointee = try f(x, y)
    }
}

@_cdecl("rwcnn_mse")
public func rwcnn_mse(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
                      _ out: UnsafeMutablePointer<Double>?) -> Int32 {
    metric(a, b, n, c, h, w, out) { try Metrics.mse($0, $1) }
}

@_cdecl("rwcnn_psnr")
public func rwcnn_psnr(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
                       _ out: UnsafeMutablePointer<Double>?) -> Int32 {
    metric(a, b, n, c, h, w, out) { try Metrics.psnr($0, $1) }
}

@_cdecl("rwcnn_ssim")
public func rwcnn_ssim(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int, _ w: Int,
                       _ out: UnsafeMutablePointer<Double>?) -> Int32 {
    metric(a, b, n, c, h, w, out) { try Metrics.ssim($0, $1) }
}

@_cdecl("rwcnn_colour_ssim")
public func rwcnn_colour_ssim(_ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ n: Int, _ c: Int, _ h: Int,
                              _ w: Int, _ out: UnsafeMutablePointer<Double>?) -> Int32 {
    metric(a, b, n, c, h, w, out) { try Metrics.colourInvariantSSIM(reconstruction: $0, original: $1) }
}
