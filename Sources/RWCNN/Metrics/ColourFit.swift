// The colour change that best explains a reconstruction. A random decoder
// keeps positions but scrambles colours (scales, shifts and mixes channels),
// so per image an affine map
//     original ≈ A · r + b    (A: C x C, or diagonal; b: C-vector)
// is fitted by least squares and applied. Two criteria choose A:
//
// - `.intensities`: least squares on the raw pixels (with intercept), the
//   best fit in MSE; it gives the fitted PSNR, and is one candidate of the
//   colour-invariant SSIM.
// - `.detail`: least squares on each channel's detail, the channel minus its
//   Gaussian local mean over SSIM's own 11 x 11 window, on the pixels where
//   that window lies inside the image; b then puts the fitted image's mean on
//   the original's. The other candidate of the colour-invariant SSIM.
//
// Why two (docs/METRICS.md has the measurements): random and tied decoders
// lose low frequencies, so a raw fit, dominated by them, fits a faint,
// nearly constant image to output whose edges are all in place (tied pool2:
// 0.18 against a plain SSIM of 0.22; detail fit 0.29). A trained decoder
// gets the low frequencies right; there the detail fit, whose channel mix
// is poorly determined (the detail of R, G and B is nearly collinear), puts
// wrong colours into SSIM's local means (shipped pool1 decoder: luminance
// term 0.99 -> 0.92, SSIM 0.81 -> 0.76), while the raw fit stays near the
// identity. Metrics.colourInvariantSSIM takes the best of both and of the
// unchanged reconstruction. (Rescaling a fit to the original's standard
// deviation, the first version, amplified noise and scored tied pool2 0.06.)
//
// Both solve S X = B with S[j][k] = <s_j, s_k>, B[j][l] = <s_j, u_l> over the
// signals s (reconstruction) and u (original): the channels centred on their
// means, or their details. Sums are in Double.

/// Settings of the colour fit.
enum ColourFit {
    /// The fit solves a C x C system per image; more channels than this is no
    /// colour image and is refused.
    static let maxChannels = 512
    /// A channel whose signal energy per pixel is at most this fraction of
    /// its mean square is constant (or smooth, for detail) up to rounding and
    /// is left out of the fit.
    static let constantTolerance = 1e-12
    /// Ridge added to the diagonal of S, relative to its trace: far above
    /// float32 rounding noise (about 1e-14 relative), so duplicate or
    /// collinear channels share their weight instead of fitting noise, and
    /// far below anything that changes a real fit.
    static let ridge = 1e-9
}

/// Which colour maps a fit may use: `rwcnn_colour_map` in C (its names in
/// `Vocabulary.colourMap`), and the suffix of the studies' fitted-PSNR
/// metrics (`fitted_psnr_channel`, `fitted_psnr_matrix`).
public enum ColourMapKind: String, CaseIterable {
    /// A gain and an offset per channel (A diagonal).
    case perChannel = "channel"
    /// A full C x C matrix mixing the channels, plus an offset.
    case colourMatrix = "matrix"
}

/// What the least squares of a colour fit matches (see the top of this file).
enum ColourFitCriterion {
    case intensities, detail
}

/// original ≈ matrix · r + offset for one image: `matrix` is C x C row-major,
/// row l holding the weights of the reconstruction channels for original
/// channel l.
struct ColourMap {
    var matrix: [Double]
    var offset: [Double]
}

extension Metrics {
    /// Every image of `r` mapped by its own colour fit onto the matching
    /// image of `target`, clamped to [0, 1]. Each image is fitted by one
    /// thread, so the result does not depend on the thread count.
    static func colourFitted(_ r: Tensor, to target: Tensor, _ l: ImagePairLayout,
                             kind: ColourMapKind, criterion: ColourFitCriterion) -> Tensor {
        var out = Tensor(checkedZeros: r.shape)
        let planeSize = l.h * l.w, imageSize = l.c * planeSize
        r.data.withUnsafeBufferPointer { x in
            target.data.withUnsafeBufferPointer { t in
                out.data.withUnsafeMutableBufferPointer { o in
                    parallelFor(l.n) { images in
                        var plane = [Double](repeating: 0, count: planeSize)
                        for i in images {
                            let at = i * imageSize
                            let map = fitColourMap(x.baseAddress! + at, t.baseAddress! + at, channels: l.c,
                                                   height: l.h, width: l.w, kind: kind, criterion: criterion)
                            plane.withUnsafeMutableBufferPointer { f in
                                for channel in 0..<l.c {
                                    applyColourMap(map, channel: channel, x.baseAddress! + at, channels: l.c,
                                                   planeSize: planeSize, into: f.baseAddress!)
                                    clampToUnitRange(f.baseAddress!, o.baseAddress! + at + channel * planeSize, planeSize)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// The least-squares colour map of one [C, H, W] image `r` onto `t`.
    /// Channels of `r` without signal (constant, or for `.detail` free of
    /// detail) or not finite get weight 0; when no channel is left, or the
    /// system still meets a zero pivot, the map is the constant image of the
    /// target's channel means.
    static func fitColourMap(_ r: UnsafePointer<Float>, _ t: UnsafePointer<Float>, channels c: Int,
                             height h: Int, width w: Int, kind: ColourMapKind = .colourMatrix,
                             criterion: ColourFitCriterion = .intensities) -> ColourMap {
        let m = h * w
        let meanR = (0..<c).map { planeMean(r + $0 * m, m) }
        let meanT = (0..<c).map { planeMean(t + $0 * m, m) }
        let constantMap = ColourMap(matrix: [Double](repeating: 0, count: c * c), offset: meanT)

        let rs = (0..<c).map { fitSignal(r + $0 * m, mean: meanR[$0], h: h, w: w, criterion) }
        let ts = (0..<c).map { fitSignal(t + $0 * m, mean: meanT[$0], h: h, w: w, criterion) }
        var kept = [Int]()
        var squares = [Double]()  // <s_j, s_j> of the kept channels
        for j in 0..<c {
            let square = dot(rs[j], rs[j]), perPixel = square / Double(rs[j].count)
            let meanSquare = centredDot(r + j * m, 0, r + j * m, 0, m) / Double(m)
            if perPixel.isFinite, perPixel > ColourFit.constantTolerance * meanSquare {
                kept.append(j)
                squares.append(square)
            }
        }
        let k = kept.count
        if k == 0 { return constantMap }

        var map = constantMap
        func set(_ l: Int, _ j: Int, _ weight: Double) {
            map.matrix[l * c + j] = weight
            map.offset[l] -= weight * meanR[j]
        }
        if kind == .perChannel {
            for (p, j) in kept.enumerated() { set(j, j, dot(rs[j], ts[j]) / squares[p]) }
            return map
        }
        // Normal equations over the kept channels, c right-hand sides:
        // s (k x k) · x (k x c) = rhs (k x c).
        var s = [Double](repeating: 0, count: k * k)
        var rhs = [Double](repeating: 0, count: k * c)
        for p in 0..<k {
            s[p * k + p] = squares[p]
            for q in (p + 1)..<k {
                let v = dot(rs[kept[p]], rs[kept[q]])
                s[p * k + q] = v
                s[q * k + p] = v
            }
            for l in 0..<c { rhs[p * c + l] = dot(rs[kept[p]], ts[l]) }
        }
        let ridge = ColourFit.ridge * squares.reduce(0, +)
        for p in 0..<k { s[p * k + p] += ridge }
        guard solveInPlace(&s, &rhs, size: k, columns: c) else { return constantMap }
        for l in 0..<c {
            for p in 0..<k { set(l, kept[p], rhs[p * c + l]) }
        }
        return map
    }

    /// The signal one channel contributes to the fit: the plane centred on
    /// its mean, or its detail (plane minus Gaussian local mean) on the
    /// pixels at least the window radius from the border.
    static func fitSignal(_ x: UnsafePointer<Float>, mean: Double, h: Int, w: Int,
                          _ criterion: ColourFitCriterion) -> [Double] {
        switch criterion {
        case .intensities:
            return (0..<(h * w)).map { Double(x[$0]) - mean }
        case .detail:
            let r = SSIMWindow.radius, vh = h - 2 * r, vw = w - 2 * r
            guard vh > 0, vw > 0 else { return [] }
            var rows = [Double](repeating: 0, count: h * vw)
            var out = [Double](repeating: 0, count: vh * vw)
            let g = SSIMWindow.weights
            for y in 0..<h {
                for col in 0..<vw {
                    var sum = 0.0
                    for k in 0..<SSIMWindow.size { sum += g[k] * Double(x[y * w + col + k]) }
                    rows[y * vw + col] = sum
                }
            }
            for y in 0..<vh {
                for col in 0..<vw {
                    var sum = 0.0
                    for k in 0..<SSIMWindow.size { sum += g[k] * rows[(y + k) * vw + col] }
                    out[y * vw + col] = Double(x[(y + r) * w + col + r]) - sum
                }
            }
            return out
        }
    }

    /// fitted_l = offset_l + Σ_j matrix[l][j] r_j for the one channel l,
    /// in Double, into `fitted` (one plane). Zero weights are skipped, so a
    /// channel left out of the fit never enters, even if not finite.
    static func applyColourMap(_ map: ColourMap, channel l: Int, _ r: UnsafePointer<Float>, channels c: Int,
                               planeSize m: Int, into fitted: UnsafeMutablePointer<Double>) {
        let offset = map.offset[l]
        for i in 0..<m { fitted[i] = offset }
        for j in 0..<c {
            let weight = map.matrix[l * c + j]
            if weight == 0 { continue }
            let rj = r + j * m
            for i in 0..<m { fitted[i] += weight * Double(rj[i]) }
        }
    }

    /// out_i = clamp(f_i, 0, 1), rounded to Float (NaN becomes 0).
    static func clampToUnitRange(_ f: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Float>, _ m: Int) {
        for i in 0..<m { out[i] = f[i] >= 0 ? Float(min(1, f[i])) : 0 }
    }

    static func planeMean(_ x: UnsafePointer<Float>, _ m: Int) -> Double {
        var sum = 0.0
        for i in 0..<m { sum += Double(x[i]) }
        return sum / Double(m)
    }

    static func dot(_ x: [Double], _ y: [Double]) -> Double {
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                var sum = 0.0
                for i in 0..<min(x.count, y.count) { sum += x[i] * y[i] }
                return sum
            }
        }
    }

    /// Σ (x_i - mx)(y_i - my).
    static func centredDot(_ x: UnsafePointer<Float>, _ mx: Double, _ y: UnsafePointer<Float>, _ my: Double, _ m: Int) -> Double {
        var sum = 0.0
        for i in 0..<m { sum += (Double(x[i]) - mx) * (Double(y[i]) - my) }
        return sum
    }

    /// Solves a · x = b for x by Gaussian elimination with partial pivoting:
    /// `a` is n x n, `b` n x `columns`, both row-major; on success `b` holds x.
    /// False (and both clobbered) when a pivot is zero or not finite.
    static func solveInPlace(_ a: inout [Double], _ b: inout [Double], size n: Int, columns: Int) -> Bool {
        a.withUnsafeMutableBufferPointer { a in
            b.withUnsafeMutableBufferPointer { b in
                for col in 0..<n {
                    var pivotRow = col
                    for row in (col + 1)..<n where abs(a[row * n + col]) > abs(a[pivotRow * n + col]) {
                        pivotRow = row
                    }
                    let pivot = a[pivotRow * n + col]
                    guard pivot != 0, pivot.isFinite else { return false }
                    if pivotRow != col {
                        for j in 0..<n { a.swapAt(col * n + j, pivotRow * n + j) }
                        for j in 0..<columns { b.swapAt(col * columns + j, pivotRow * columns + j) }
                    }
                    for row in (col + 1)..<n {
                        let factor = a[row * n + col] / pivot
                        if factor == 0 { continue }
                        for j in col..<n { a[row * n + j] -= factor * a[col * n + j] }
                        for j in 0..<columns { b[row * columns + j] -= factor * b[col * columns + j] }
                    }
                }
                for row in stride(from: n - 1, through: 0, by: -1) {
                    for j in 0..<columns {
                        var v = b[row * columns + j]
                        for q in (row + 1)..<n { v -= a[row * n + q] * b[q * columns + j] }
                        b[row * columns + j] = v / a[row * n + row]
                    }
                }
                return true
            }
        }
    }
}
