// Conversions between integer images and the engine's float [C,H,W] tensors
// in [0, 1], and the load/save helpers built on them.

/// The image as a float tensor [C, H, W] with values sample / 255 (or / 65535),
/// correctly rounded (bit for bit what torchvision's ToTensor gives).
///
/// `channels`: `nil` keeps the stored colour channels (1 for gray, 3 for RGB);
/// 3 from a gray image replicates it; 1 from an RGB image is the luma
/// 0.299 R + 0.587 G + 0.114 B of the stored (display-encoded) values.
/// An alpha channel is dropped, not composited: colour under transparent
/// pixels is kept as stored. Other channel counts throw `.argument`.
public func imageToTensor(_ image: Image, channels: Int? = nil) throws -> Tensor {
    let colour = image.hasAlpha ? image.channels - 1 : image.channels
    let want = channels ?? colour
    guard want == 1 || want == 3 else {
        throw RWCNNError.argument("image tensors have 1 or 3 channels, asked for \(want)")
    }
    let plane = image.width * image.height, stored = image.channels
    let top = Float(image.maxSample)
    var out = Tensor(zeros: [want, image.height, image.width])
    image.samples.withUnsafeBufferPointer { s in
        out.data.withUnsafeMutableBufferPointer { o in
            for p in 0..<plane {
                let at = p * stored
                if want == colour {
                    for c in 0..<want { o[c * plane + p] = Float(s[at + c]) / top }
                } else if want == 3 {
                    let v = Float(s[at]) / top
                    o[p] = v; o[plane + p] = v; o[2 * plane + p] = v
                } else {
                    let luma = 0.299 * Float(s[at]) + 0.587 * Float(s[at + 1]) + 0.114 * Float(s[at + 2])
                    o[p] = min(1, luma / top)
                }
            }
        }
    }
    return out
}

/// An image from a tensor [C, H, W] (or [1, C, H, W]) with C = 1 gray,
/// 2 gray + alpha, 3 RGB or 4 RGBA: each value is clamped to [0, 1] (NaN
/// becomes 0) and rounded to the nearest of 256 or 65536 levels.
public func tensorToImage(_ t: Tensor, bitDepth: Int = 8) throws -> Image {
    guard bitDepth == 8 || bitDepth == 16 else {
        throw RWCNNError.argument("image bit depth must be 8 or 16, got \(bitDepth)")
    }
    let shape = t.rank == 4 && t.shape[0] == 1 ? Array(t.shape.dropFirst()) : t.shape
    guard shape.count == 3, (1...4).contains(shape[0]), shape[1] >= 1, shape[2] >= 1 else {
        throw RWCNNError.argument("an image tensor must be [C, H, W] with C in 1...4 and H, W >= 1, got shape \(t.shape)")
    }
    let (c, h, w) = (shape[0], shape[1], shape[2])
    let plane = h * w, top = Float(bitDepth == 16 ? 65535 : 255)
    var samples = [UInt16](repeating: 0, count: t.count)
    t.data.withUnsafeBufferPointer { src in
        samples.withUnsafeMutableBufferPointer { dst in
            for k in 0..<c {
                for p in 0..<plane {
                    let v = src[k * plane + p]
                    let clamped = v > 0 ? min(v, 1) : 0  // also maps NaN to 0
                    dst[p * c + k] = UInt16((clamped * top).rounded())
                }
            }
        }
    }
    return try Image(width: w, height: h, channels: c, bitDepth: bitDepth, samples: samples)
}

/// Reads a PNG or JPEG file (detected from its bytes) as a float tensor
/// [C, H, W] in [0, 1] (`channels` as in `imageToTensor`; the default gives RGB).
public func loadImageTensor(path: String, channels: Int? = 3, maxPixels: Int = PNG.defaultMaxPixels) throws -> Tensor {
    try imageToTensor(ImageFile.read(path: path, maxPixels: maxPixels), channels: channels)
}

/// Writes a tensor [C, H, W] as a PNG file (see `tensorToImage`).
public func saveImageTensor(_ t: Tensor, path: String, bitDepth: Int = 8) throws {
    try PNG.write(tensorToImage(t, bitDepth: bitDepth), path: path)
}
