// Geometric transforms of image tensors: resize, crops, mirror. All take
// [C, H, W] or [N, C, H, W] and work plane by plane on the last two axes.

/// The planes (product of the leading dimensions), height and width of an
/// image tensor of rank 3 or 4 with no empty dimension.
private func imageLayout(_ t: Tensor, op: String) throws -> (planes: Int, h: Int, w: Int) {
    guard t.rank == 3 || t.rank == 4, t.shape.allSatisfy({ $0 >= 1 }) else {
        throw RWCNNError.argument("\(op): expected an image tensor [C, H, W] or [N, C, H, W] with no empty dimension, got shape \(t.shape)")
    }
    return (t.shape.dropLast(2).reduce(1, *), t.shape[t.rank - 2], t.shape[t.rank - 1])
}

/// Resamples each plane to `height` x `width` with a triangle (bilinear) filter.
///
/// Upscaling is plain bilinear interpolation with half-pixel centres
/// (PyTorch's `align_corners=false`, edges clamped). Downscaling by a factor
/// s widens the triangle to s input pixels on each side (area-aware, like
/// PIL's BILINEAR and torchvision's `antialias=True`): every input pixel
/// contributes and nothing aliases, whatever the factor. Weights are
/// normalised to sum to 1, so constants stay constant.
public func resizeBilinear(_ t: Tensor, height: Int, width: Int) throws -> Tensor {
    let (planes, h, w) = try imageLayout(t, op: "resizeBilinear")
    guard height >= 1, width >= 1 else {
        throw RWCNNError.argument("resizeBilinear: output size must be at least 1x1, got \(height)x\(width)")
    }
    if height == h && width == w { return t }
    let leading = Array(t.shape.dropLast(2))
    var wide = try uninitializedTensor(leading + [h, width], what: "resizeBilinear")
    var out = try uninitializedTensor(leading + [height, width], what: "resizeBilinear")
    let across = ResampleTaps(input: w, output: width), down = ResampleTaps(input: h, output: height)
    // Rows first: each output value reads `across.width` neighbours of one row.
    t.data.withUnsafeBufferPointer { src in
        wide.data.withUnsafeMutableBufferPointer { dst in
            parallelFor(planes * h, minChunk: minChunk(itemCost: width * across.width)) { rows in
                for r in rows { across.apply(src.baseAddress! + r * w, stride: 1, dst.baseAddress! + r * width, outStride: 1) }
            }
        }
    }
    // Then columns, on the narrower intermediate.
    wide.data.withUnsafeBufferPointer { src in
        out.data.withUnsafeMutableBufferPointer { dst in
            parallelFor(planes * width, minChunk: minChunk(itemCost: height * down.width)) { columns in
                for c in columns {
                    let plane = c / width, x = c % width
                    down.apply(src.baseAddress! + plane * h * width + x, stride: width,
                               dst.baseAddress! + plane * height * width + x, outStride: width)
                }
            }
        }
    }
    return out
}

/// Precomputed 1-D triangle-filter weights from `input` to `output` samples.
private struct ResampleTaps {
    /// Taps per output sample (the widest window, zero-padded).
    let width: Int
    let first: [Int]
    let weights: [Float]

    init(input: Int, output: Int) {
        let scale = Double(input) / Double(output)
        let support = max(scale, 1)  // half-width of the triangle, in input pixels
        let width = min(input, Int((2 * support).rounded(.up)) + 2)
        var first = [Int](repeating: 0, count: output)
        var weights = [Float](repeating: 0, count: output * width)
        for o in 0..<output {
            let centre = (Double(o) + 0.5) * scale  // pixel j covers [j, j + 1)
            let lo = max(0, min(input - width, Int((centre - support - 0.5).rounded(.down))))
            var taps = [Double](repeating: 0, count: width)
            for k in 0..<width {
                taps[k] = max(0, 1 - abs(Double(lo + k) + 0.5 - centre) / support)
            }
            let sum = taps.reduce(0, +)
            first[o] = lo
            for k in 0..<width { weights[o * width + k] = Float(taps[k] / sum) }
        }
        self.width = width
        self.first = first
        self.weights = weights
    }

    /// out[o * outStride] = sum_k weights[o, k] * src[(first[o] + k) * stride].
    func apply(_ src: UnsafePointer<Float>, stride: Int, _ dst: UnsafeMutablePointer<Float>, outStride: Int) {
        first.withUnsafeBufferPointer { first in
            weights.withUnsafeBufferPointer { weights in
                for o in 0..<first.count {
                    var acc: Float = 0
                    var at = src + first[o] * stride
                    let wo = weights.baseAddress! + o * width
                    for k in 0..<width {
                        acc += wo[k] * at.pointee
                        at += stride
                    }
                    dst[o * outStride] = acc
                }
            }
        }
    }
}

/// The `height` x `width` window at (`top`, `left`) of every plane; throws
/// `.argument` unless the window lies inside the image.
public func crop(_ t: Tensor, top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
    let (planes, h, w) = try imageLayout(t, op: "crop")
    guard height >= 1, width >= 1, top >= 0, left >= 0, height <= h - top, width <= w - left else {
        throw RWCNNError.argument("crop: window \(height)x\(width) at (top \(top), left \(left)) does not fit in \(h)x\(w)")
    }
    var out = try uninitializedTensor(Array(t.shape.dropLast(2)) + [height, width], what: "crop")
    t.data.withUnsafeBufferPointer { src in
        out.data.withUnsafeMutableBufferPointer { dst in
            for p in 0..<planes {
                for y in 0..<height {
                    let from = src.baseAddress! + (p * h + top + y) * w + left
                    (dst.baseAddress! + (p * height + y) * width).update(from: from, count: width)
                }
            }
        }
    }
    return out
}

/// The central `height` x `width` window (offsets (H - height) / 2 and
/// (W - width) / 2, rounded down).
public func centerCrop(_ t: Tensor, height: Int, width: Int) throws -> Tensor {
    let (_, h, w) = try imageLayout(t, op: "centerCrop")
    guard height >= 1, width >= 1, height <= h, width <= w else {
        throw RWCNNError.argument("centerCrop: \(height)x\(width) does not fit in \(h)x\(w)")
    }
    return try crop(t, top: (h - height) / 2, left: (w - width) / 2, height: height, width: width)
}

/// Mirrors the last axis (left-right for images); any rank.
public func flipHorizontal(_ t: Tensor) -> Tensor {
    guard let w = t.shape.last, w > 1 else { return t }
    var out = t
    out.data.withUnsafeMutableBufferPointer { d in
        for row in stride(from: 0, to: d.count, by: w) {
            var i = row, j = row + w - 1
            while i < j { d.swapAt(i, j); i += 1; j -= 1 }
        }
    }
    return out
}

/// Scales so that the shorter side is `size` (the longer one to
/// round(long * size / short)), then keeps the central `size` x `size`.
public func resizeAndCenterCrop(_ t: Tensor, size: Int) throws -> Tensor {
    let (_, h, w) = try imageLayout(t, op: "resizeAndCenterCrop")
    guard size >= 1 else { throw RWCNNError.argument("resizeAndCenterCrop: size must be at least 1, got \(size)") }
    let scale = Double(size) / Double(min(h, w))
    let newH = h <= w ? size : max(size, Int((Double(h) * scale).rounded()))
    let newW = h <= w ? max(size, Int((Double(w) * scale).rounded())) : size
    return try centerCrop(resizeBilinear(t, height: newH, width: newW), height: size, width: size)
}
