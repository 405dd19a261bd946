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
    /// it. For each image, the affine colour map original ≈ A · r + b (A a
    /// C x C matrix that may mix the reconstruction's channels, b a C-vector)
    /// is fitted by least squares over all pixels and applied; then each
    /// fitted channel f_c is moment-matched to the original channel o_c,
    ///     f_c' = mean(o_c) + (f_c - mean(f_c)) · std(o_c) / std(f_c)
    /// (population standard deviations; a constant fitted channel becomes
    /// mean(o_c)), clamped to [0, 1] and compared with the original by
    /// `ssim`. Positions kept with colours rescaled, shifted, inverted,
    /// permuted or mixed across channels (as a random decoder does) score
    /// high: an identical, permuted or exactly affinely recoloured
    /// reconstruction scores 1 when nothing is clamped.
    ///
    /// Why the moment matching: least squares regresses towards the mean, so
    /// a weakly correlated reconstruction (a random decoder at a deep layer)
    /// is fitted by a low-contrast image, and SSIM's contrast term would
    /// penalise that shrinkage, scoring it even below plain SSIM. With the
    /// fitted channels restored to the original's contrast, the score
    /// measures where the structure is, given any affine colour change.
    ///
    /// The fit solves the normal equations in Double with the intercept
    /// eliminated (channels centred on their means) by Gaussian elimination
    /// with partial pivoting. Degenerate cases are settled deterministically:
    /// a reconstruction channel that is constant (variance at most 1e-12 of
    /// its mean square) or not finite gets weight 0; a ridge of 1e-9 times the
    /// trace of the other channels' centred Gram matrix is added to its
    /// diagonal, so duplicate or collinear channels share their weight; if no
    /// channel is left (or a pivot is still zero) every channel becomes the
    /// original's mean. A fitted channel counts as constant by the same 1e-12
    /// rule. At most 512 channels (`.argument` otherwise).
    public static func colourInvariantSSIM(reconstruction: Tensor, original: Tensor) throws -> Double {
        let layout = try pairLayout(reconstruction, original, op: "colourInvariantSSIM")
        guard layout.h >= SSIMWindow.size, layout.w >= SSIMWindow.size else {
            throw RWCNNError.argument("colourInvariantSSIM: images must be at least \(SSIMWindow.size)x\(SSIMWindow.size), got \(layout.h)x\(layout.w)")
        }
        guard layout.c <= ColourFit.maxChannels else {
            throw RWCNNError.argument("colourInvariantSSIM: at most \(ColourFit.maxChannels) channels, got \(layout.c)")
        }
        let fitted = colourFitted(reconstruction, to: original, layout)
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
}
