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
    /// its structure: positions kept with colours rescaled, shifted,
    /// inverted, permuted or mixed across channels (as random decoders do)
    /// score as if the colours were right (docs/METRICS.md).
    ///
    /// Per image, the highest SSIM against the original of three versions
    /// of the reconstruction, each an affine colour map A · r + b (A: C x C)
    /// clamped to [0, 1]:
    /// - none: the reconstruction itself (its plain SSIM), so the score is
    ///   never below plain SSIM;
    /// - the least-squares fit on raw pixels, min Σ |original - A r - b|²,
    ///   right when the low frequencies (SSIM's local means) are in place,
    ///   as a trained decoder's are;
    /// - the least-squares fit on detail, min Σ |detail(original) - A ·
    ///   detail(r)|², where detail is a channel minus its Gaussian local mean
    ///   in SSIM's own window (sigma 1.5, 11 x 11) on the pixels at least 5
    ///   from the border, and b = mean(original) - A · mean(r) over all
    ///   pixels: right when only edges survive, as with random and tied
    ///   decoders, whose low frequencies are lost and would make a raw fit
    ///   a faint, nearly constant image.
    /// The mean over images of those maxima. Each candidate is a colour map,
    /// so the score is a lower bound on the best SSIM any affine colour map
    /// reaches. Any exact affine recolouring scores 1 when nothing is
    /// clamped; an unrelated image scores about what a constant image does
    /// (no fit finds shared structure), which depends on the original:
    /// always report the cross-image baseline (the score between the
    /// reconstruction of one image and a different original) beside it.
    ///
    /// Degenerate cases are settled deterministically: a reconstruction
    /// channel without signal (energy per pixel at most 1e-12 of its mean
    /// square) or not finite gets weight 0; a ridge of 1e-9 times the trace
    /// of the normal matrix is added to its diagonal, so duplicate channels
    /// share their weight; if no channel is left (or a pivot is still zero)
    /// the fit makes every channel the original's mean. A reconstruction
    /// that is not finite has no plain SSIM and leaves the fits to decide.
    /// Images must be at least 11 x 11, with at most 512 channels
    /// (`.argument` otherwise).
    public static func colourInvariantSSIM(reconstruction: Tensor, original: Tensor) throws -> Double {
        let layout = try colourLayout(reconstruction, original, op: "colourInvariantSSIM")
        var best = imageSSIMs(reconstruction, original, layout).map { $0.isFinite ? $0 : -Double.infinity }
        for criterion in [ColourFitCriterion.intensities, .detail] {
            let fitted = colourFitted(reconstruction, to: original, layout, kind: .colourMatrix, criterion: criterion)
            for (i, score) in imageSSIMs(fitted, original, layout).enumerated() { best[i] = max(best[i], score) }
        }
        return best.reduce(0, +) / Double(layout.n)
    }

    /// PSNR (dB, peak 1) of the reconstruction after the least-squares
    /// affine colour fit on raw pixels, original ≈ A · r + b, with A
    /// diagonal (`.perChannel`: a gain and an offset per channel) or a full
    /// C x C matrix (`.colourMatrix`), fitted per image, clamped to [0, 1].
    /// The best MSE any such recolouring reaches, so a fitted PSNR of
    /// 10 log10(1 / variance) means the colours explain nothing. Mean over
    /// images; degenerate channels as in `colourInvariantSSIM`. Images must
    /// be at least 11 x 11 (as for the other colour figure), at most 512
    /// channels.
    public static func fittedPSNR(reconstruction: Tensor, original: Tensor, kind: ColourMapKind) throws -> Double {
        let layout = try colourLayout(reconstruction, original, op: "fittedPSNR")
        let fitted = colourFitted(reconstruction, to: original, layout, kind: kind, criterion: .intensities)
        return try psnr(fitted, original)
    }

    static func colourLayout(_ r: Tensor, _ o: Tensor, op: String) throws -> ImagePairLayout {
        let layout = try pairLayout(r, o, op: op)
        guard layout.h >= SSIMWindow.size, layout.w >= SSIMWindow.size else {
            throw RWCNNError.argument("\(op): images must be at least \(SSIMWindow.size)x\(SSIMWindow.size), got \(layout.h)x\(layout.w)")
        }
        guard layout.c <= ColourFit.maxChannels else {
            throw RWCNNError.argument("\(op): at most \(ColourFit.maxChannels) channels, got \(layout.c)")
        }
        return layout
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
