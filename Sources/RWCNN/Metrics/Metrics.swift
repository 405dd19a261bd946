#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reconstruction quality figures. Every function takes two tensors of the
/// same shape, [C, H, W] or [N, C, H, W] with no empty dimension (`.argument`
/// otherwise), computes one figure per image in Double, and returns the mean
/// over the images. Values are taken as intensities with range 1 (images in
/// [0, 1]).
public enum Metrics {
    /// Mean squared error.
    public static func mse(_ a: Tensor, _ b: Tensor) throws -> Double {
        let layout = try pairLayout(a, b, op: "mse")
        return meanOverImages(a, b, layout) { x, y, count in squaredError(x, y, count) / Double(count) }
    }

    /// Peak signal-to-noise ratio in dB with peak 1: 10 log10(1 / MSE),
    /// `+infinity` for identical images (and then for the mean).
    public static func psnr(_ a: Tensor, _ b: Tensor) throws -> Double {
        let layout = try pairLayout(a, b, op: "psnr")
        return meanOverImages(a, b, layout) { x, y, count in
            let mse = squaredError(x, y, count) / Double(count)
            return mse == 0 ? .infinity : -10 * log10(mse)
        }
    }

    /// Structural similarity, computed as scikit-image's
    /// `structural_similarity(a, b, channel_axis=0, data_range=1,
    /// gaussian_weights=True, sigma=1.5, use_sample_covariance=False)`:
    /// Gaussian window (sigma 1.5, radius 5), K1 = 0.01, K2 = 0.03, the SSIM map
    /// averaged over the pixels at least 5 from the border, then over channels
    /// and images. Images must be at least 11 x 11.
    public static func ssim(_ a: Tensor, _ b: Tensor) throws -> Double {
        let layout = try pairLayout(a, b, op: "ssim")
        guard layout.h >= SSIMWindow.size, layout.w >= SSIMWindow.size else {
            throw RWCNNError.argument("ssim: images must be at least \(SSIMWindow.size)x\(SSIMWindow.size), got \(layout.h)x\(layout.w)")
        }
        return meanSSIM(a, b, layout)
    }

    /// SSIM of the reconstruction after the colour change that best explains
    /// it: for each image and channel, the least-squares affine map
    /// g * r + o of the reconstruction channel r onto the original channel
    /// (g = cov(r, original) / var(r); g = 0 for a constant channel), then
    /// clamped to [0, 1]. Positions kept with channels rescaled, shifted or
    /// inverted score high; colours mixed across channels are not undone.
    public static func colourInvariantSSIM(reconstruction: Tensor, original: Tensor) throws -> Double {
        let layout = try pairLayout(reconstruction, original, op: "colourInvariantSSIM")
        guard layout.h >= SSIMWindow.size, layout.w >= SSIMWindow.size else {
            throw RWCNNError.argument("colourInvariantSSIM: images must be at least \(SSIMWindow.size)x\(SSIMWindow.size), got \(layout.h)x\(layout.w)")
        }
        let fitted = affineFit(reconstruction, to: original, planes: layout.n * layout.c, planeSize: layout.h * layout.w)
        return meanSSIM(fitted, original, layout)
    }
}

/// Images, channels, height and width shared by two tensors.
struct ImagePairLayout {
    let n: Int, c: Int, h: Int, w: Int
}

extension Metrics {
    static func pairLayout(_ a: Tensor, _ b: Tensor, op: String) throws -> ImagePairLayout {
        guard a.shape == b.shape else {
            throw RWCNNError.argument("\(op): shapes differ, \(a.shape) and \(b.shape)")
        }
        guard a.rank == 3 || a.rank == 4, a.shape.allSatisfy({ $0 >= 1 }) else {
            throw RWCNNError.argument("\(op): expected [C, H, W] or [N, C, H, W] with no empty dimension, got shape \(a.shape)")
        }
        let s = a.rank == 3 ? [1] + a.shape : a.shape
        return ImagePairLayout(n: s[0], c: s[1], h: s[2], w: s[3])
    }

    /// The mean over images of `figure(imageA, imageB, elementCount)`.
    static func meanOverImages(_ a: Tensor, _ b: Tensor, _ l: ImagePairLayout,
                               _ figure: (UnsafePointer<Float>, UnsafePointer<Float>, Int) -> Double) -> Double {
        let size = l.c * l.h * l.w
        var total = 0.0
        a.data.withUnsafeBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                for i in 0..<l.n { total += figure(x.baseAddress! + i * size, y.baseAddress! + i * size, size) }
            }
        }
        return total / Double(l.n)
    }

    static func squaredError(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> Double {
        var sum = 0.0
        for k in 0..<count {
            let d = Double(x[k]) - Double(y[k])
            sum += d * d
        }
        return sum
    }

    /// Each plane of `r` mapped by the least-squares affine fit onto the
    /// matching plane of `target`, clamped to [0, 1].
    static func affineFit(_ r: Tensor, to target: Tensor, planes: Int, planeSize: Int) -> Tensor {
        var out = r
        target.data.withUnsafeBufferPointer { t in
            out.data.withUnsafeMutableBufferPointer { x in
                parallelFor(planes) { range in
                    for p in range {
                        let xp = x.baseAddress! + p * planeSize, tp = t.baseAddress! + p * planeSize
                        let (gain, offset) = leastSquaresAffine(xp, tp, planeSize)
                        for k in 0..<planeSize {
                            xp[k] = Float(min(1, max(0, gain * Double(xp[k]) + offset)))
                        }
                    }
                }
            }
        }
        return out
    }

    /// (g, o) minimising sum (g x + o - y)^2; g = 0 when x is constant (its
    /// variance below 1e-12 of its mean square, i.e. rounding noise).
    static func leastSquaresAffine(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ count: Int) -> (Double, Double) {
        var sx = 0.0, sy = 0.0
        for k in 0..<count { sx += Double(x[k]); sy += Double(y[k]) }
        let mx = sx / Double(count), my = sy / Double(count)
        var sxx = 0.0, sxy = 0.0
        for k in 0..<count {
            let dx = Double(x[k]) - mx
            sxx += dx * dx
            sxy += dx * (Double(y[k]) - my)
        }
        let variance = sxx / Double(count), meanSquare = variance + mx * mx
        guard variance.isFinite, sxy.isFinite, variance > 1e-12 * meanSquare else { return (0, my) }
        let gain = sxy / sxx
        return (gain, my - gain * mx)
    }
}
