// The colour change that best explains a reconstruction, for the
// colour-invariant SSIM. A random decoder keeps positions but scrambles
// colours (scales, shifts and mixes channels), so per image the affine map
//     original ≈ A · r + b    (A: C x C, b: C-vector)
// is fitted by least squares over all pixels and applied before SSIM.
//
// A least-squares fit regresses towards the mean: each fitted channel has
// the original's mean but its standard deviation shrunk by the multiple
// correlation, so a weakly correlated reconstruction is fitted by a faint
// image, and SSIM's contrast term would punish that shrinkage (the score
// could fall below plain SSIM). Each fitted channel is therefore rescaled to
// the original channel's mean and standard deviation before clamping; the
// score then measures where the structure is, given any affine colour change.
//
// Least squares with an intercept is the same as least squares on channels
// centred on their means (the constant column of the normal equations
// eliminated), which is what is solved here: S X = B with
// S[j][k] = Σ (r_j - mean r_j)(r_k - mean r_k) and
// B[j][l] = Σ (r_j - mean r_j)(t_l - mean t_l), summed in Double in a second
// pass over the pixels so large means do not cancel the variances.

/// Settings of the colour fit.
enum ColourFit {
    /// The fit solves a C x C system per image; more channels than this is no
    /// colour image and is refused.
    static let maxChannels = 512
    /// A channel whose variance is at most this fraction of its mean square
    /// is constant up to rounding and is left out of the fit.
    static let constantTolerance = 1e-12
    /// Ridge added to the diagonal of S, relative to its trace: far above
    /// float32 rounding noise (about 1e-14 relative), so duplicate or
    /// collinear channels share their weight instead of fitting noise, and
    /// far below anything that changes a real fit.
    static let ridge = 1e-9
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
    /// image of `target`, each channel moment-matched to the target's and
    /// clamped to [0, 1]. Each image is fitted by one thread, so the result
    /// does not depend on the thread count.
    static func colourFitted(_ r: Tensor, to target: Tensor, _ l: ImagePairLayout) -> Tensor {
        var out = Tensor(checkedZeros: r.shape)
        let planeSize = l.h * l.w, imageSize = l.c * planeSize
        r.data.withUnsafeBufferPointer { x in
            target.data.withUnsafeBufferPointer { t in
                out.data.withUnsafeMutableBufferPointer { o in
                    parallelFor(l.n) { images in
                        var plane = [Double](repeating: 0, count: planeSize)
                        for i in images {
                            let at = i * imageSize
                            let map = fitColourMap(x.baseAddress! + at, t.baseAddress! + at, channels: l.c, planeSize: planeSize)
                            plane.withUnsafeMutableBufferPointer { f in
                                for channel in 0..<l.c {
                                    let offset = at + channel * planeSize
                                    applyColourMap(map, channel: channel, x.baseAddress! + at, channels: l.c,
                                                   planeSize: planeSize, into: f.baseAddress!)
                                    matchMoments(f.baseAddress!, to: t.baseAddress! + offset, planeSize)
                                    clampToUnitRange(f.baseAddress!, o.baseAddress! + offset, planeSize)
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
    /// Constant or non-finite channels of `r` get weight 0; when no channel
    /// is left, or the system still meets a zero pivot, the map is the
    /// constant image of the target's channel means.
    static func fitColourMap(_ r: UnsafePointer<Float>, _ t: UnsafePointer<Float>, channels c: Int, planeSize m: Int) -> ColourMap {
        let meanR = (0..<c).map { planeMean(r + $0 * m, m) }
        let meanT = (0..<c).map { planeMean(t + $0 * m, m) }
        let constantMap = ColourMap(matrix: [Double](repeating: 0, count: c * c), offset: meanT)

        var kept = [Int]()
        var squares = [Double]()  // Σ (r_j - mean r_j)^2 of the kept channels
        for j in 0..<c {
            let square = centredDot(r + j * m, meanR[j], r + j * m, meanR[j], m), variance = square / Double(m)
            if variance.isFinite, variance > ColourFit.constantTolerance * (variance + meanR[j] * meanR[j]) {
                kept.append(j)
                squares.append(square)
            }
        }
        let k = kept.count
        if k == 0 { return constantMap }

        // Normal equations over the kept channels, k right-hand sides per
        // target channel: s (k x k) · x (k x c) = rhs (k x c).
        var s = [Double](repeating: 0, count: k * k)
        var rhs = [Double](repeating: 0, count: k * c)
        for p in 0..<k {
            let rp = r + kept[p] * m
            s[p * k + p] = squares[p]
            for q in (p + 1)..<k {
                let v = centredDot(rp, meanR[kept[p]], r + kept[q] * m, meanR[kept[q]], m)
                s[p * k + q] = v
                s[q * k + p] = v
            }
            for l in 0..<c {
                rhs[p * c + l] = centredDot(rp, meanR[kept[p]], t + l * m, meanT[l], m)
            }
        }
        let ridge = ColourFit.ridge * squares.reduce(0, +)
        for p in 0..<k { s[p * k + p] += ridge }
        guard solveInPlace(&s, &rhs, size: k, columns: c) else { return constantMap }

        var map = constantMap
        for l in 0..<c {
            for p in 0..<k {
                let weight = rhs[p * c + l]
                map.matrix[l * c + kept[p]] = weight
                map.offset[l] -= weight * meanR[kept[p]]
            }
        }
        return map
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

    /// Rescales the fitted plane `f` in place to the mean and (population)
    /// standard deviation of the target plane `t`:
    /// f' = mean t + (f - mean f) · std t / std f. A fitted plane that is
    /// constant (variance at most `ColourFit.constantTolerance` of its mean
    /// square) or not finite has no contrast to rescale and becomes the
    /// constant mean t.
    static func matchMoments(_ f: UnsafeMutablePointer<Double>, to t: UnsafePointer<Float>, _ m: Int) {
        let meanT = planeMean(t, m)
        let deviationT = (centredDot(t, meanT, t, meanT, m) / Double(m)).squareRoot()
        var sum = 0.0
        for i in 0..<m { sum += f[i] }
        let meanF = sum / Double(m)
        var squares = 0.0
        for i in 0..<m {
            let d = f[i] - meanF
            squares += d * d
        }
        let varianceF = squares / Double(m)
        guard varianceF.isFinite, varianceF > ColourFit.constantTolerance * (varianceF + meanF * meanF) else {
            for i in 0..<m { f[i] = meanT }
            return
        }
        let gain = deviationT / varianceF.squareRoot()
        for i in 0..<m { f[i] = meanT + (f[i] - meanF) * gain }
    }

    /// out_i = clamp(f_i, 0, 1), rounded to Float.
    static func clampToUnitRange(_ f: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Float>, _ m: Int) {
        for i in 0..<m { out[i] = Float(min(1, max(0, f[i]))) }
    }

    static func planeMean(_ x: UnsafePointer<Float>, _ m: Int) -> Double {
        var sum = 0.0
        for i in 0..<m { sum += Double(x[i]) }
        return sum / Double(m)
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
