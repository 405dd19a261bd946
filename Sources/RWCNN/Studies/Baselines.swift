// The resolution baseline of a cut: the image reduced to the cut's feature
// resolution and resized back bicubically. It is what "keeping the image at
// that resolution" gives, with no learning and no colour loss, so each cut's
// reconstruction can be read against it.

/// Each image of [N, C, H, W] (or [C, H, W]) averaged down to `height` x
/// `width` (box average over the input pixels each output pixel covers,
/// exact for the power-of-two factors of pooling) and resized back to its
/// size by bicubic interpolation (Keys' kernel, a = -0.5, pixel centres
/// aligned, edges clamped), clamped to [0, 1].
public func resolutionBaseline(_ images: Tensor, height: Int, width: Int) throws -> Tensor {
    guard images.rank == 3 || images.rank == 4, images.shape.allSatisfy({ $0 >= 1 }) else {
        throw RWCNNError.argument("resolutionBaseline: expected [C, H, W] or [N, C, H, W], got \(images.shape)")
    }
    let s = images.rank == 3 ? [1] + images.shape : images.shape
    let (planes, h, w) = (s[0] * s[1], s[2], s[3])
    guard height >= 1, width >= 1, height <= h, width <= w else {
        throw RWCNNError.argument("resolutionBaseline: \(height)x\(width) must be between 1x1 and the image's \(h)x\(w)")
    }
    var out = images
    images.data.withUnsafeBufferPointer { src in
        out.data.withUnsafeMutableBufferPointer { dst in
            var small = [Double](repeating: 0, count: height * width)
            var rows = [Double](repeating: 0, count: height * w)
            for p in 0..<planes {
                let x = src.baseAddress! + p * h * w
                // Box average: output cell (i, j) covers input rows
                // [i*h/height, (i+1)*h/height) and likewise for columns.
                for i in 0..<height {
                    let y0 = i * h / height, y1 = max(y0 + 1, (i + 1) * h / height)
                    for j in 0..<width {
                        let x0 = j * w / width, x1 = max(x0 + 1, (j + 1) * w / width)
                        var sum = 0.0
                        for y in y0..<y1 { for xx in x0..<x1 { sum += Double(x[y * w + xx]) } }
                        small[i * width + j] = sum / Double((y1 - y0) * (x1 - x0))
                    }
                }
                // Bicubic back up: columns first (height rows of width w), then rows.
                for i in 0..<height {
                    for xx in 0..<w {
                        rows[i * w + xx] = cubicSample(width, Double(width) / Double(w), xx) { small[i * width + $0] }
                    }
                }
                for y in 0..<h {
                    for xx in 0..<w {
                        let v = cubicSample(height, Double(height) / Double(h), y) { rows[$0 * w + xx] }
                        dst[p * h * w + y * w + xx] = Float(min(1, max(0, v)))
                    }
                }
            }
        }
    }
    return out
}

/// Output sample `o` of a bicubic resize from `n` input samples, `scale` =
/// n / output size: source position (o + 0.5) * scale - 0.5, four taps,
/// indices clamped to 0..<n.
private func cubicSample(_ n: Int, _ scale: Double, _ o: Int, _ value: (Int) -> Double) -> Double {
    let position = (Double(o) + 0.5) * scale - 0.5
    let base = Int(position.rounded(.down)), t = position - Double(base)
    var sum = 0.0
    for k in -1...2 {
        let index = min(n - 1, max(0, base + k))
        sum += keys(Double(k) - t) * value(index)
    }
    return sum
}

/// Keys' cubic convolution kernel with a = -0.5.
private func keys(_ x: Double) -> Double {
    let a = -0.5, d = abs(x)
    if d <= 1 { return ((a + 2) * d - (a + 3)) * d * d + 1 }
    if d < 2 { return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a }
    return 0
}
