// Natural-image priors of Mahendran & Vedaldi ("Understanding Deep Image
// Representations by Inverting Them", CVPR 2015), on [N,C,H,W] images, with
// their gradients. Both are means over the image's elements, so their
// weights mean the same at every image size (coarse-to-fine runs change it).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// beta-total variation and its gradient:
///
///   E = weight / (N C H W) * sum_{n,c,i,j} (dh^2 + dv^2)^(beta / 2)
///   dh = x[i, j+1] - x[i, j],  dv = x[i+1, j] - x[i, j]
///
/// with a difference past the last column (dh) or row (dv) taken as 0, so
/// every pixel has a term. Channels are penalised separately, as in the
/// paper. beta = 2 is the quadratic (smoothing) case, beta = 1 the classic
/// isotropic TV; beta must be finite and at least 1. Where a pixel's
/// dh = dv = 0 and beta < 2 the term is not differentiable (beta = 1) or has
/// zero gradient (beta > 1); its gradient is taken as 0 there.
public func totalVariationLoss(image: Tensor, beta: Double = 2, weight: Double = 1) throws -> LossAndGradient {
    try totalVariationLoss(image: image, beta: beta, weight: weight, workspace: nil)
}

/// `totalVariationLoss` with its gradient's storage from `workspace` when given.
func totalVariationLoss(image: Tensor, beta: Double, weight: Double, workspace: Workspace?) throws -> LossAndGradient {
    let op = "totalVariationLoss"
    let x = try requireNCHW(image.shape, "image", op: op)
    try requireExponent(beta, name: "beta", op: op)
    try requireLossWeight(weight, op: op)
    let planes = x.n * x.c, h = x.h, w = x.w, planeSize = h * w
    let scale = weight / Double(image.count)
    var gradient = try zeroTensor(image.shape, what: "\(op) gradient", workspace: workspace)
    var planeSums = [Double](repeating: 0, count: planes)
    let half = beta / 2, quadratic = beta == 2
    image.data.withUnsafeBufferPointer { xb in
        gradient.data.withUnsafeMutableBufferPointer { gb in
            planeSums.withUnsafeMutableBufferPointer { sb in
                guard let xp = xb.baseAddress, let gp = gb.baseAddress, let sp = sb.baseAddress else { return }
                // Each term touches its pixel and its right and lower neighbours, all in
                // one plane: planes are independent, so each is one sequential task.
                parallelFor(planes, minChunk: minChunk(itemCost: 8 * planeSize)) { ps in
                    for p in ps {
                        let src = xp + p * planeSize, dst = gp + p * planeSize
                        var total = 0.0
                        for i in 0..<h {
                            for j in 0..<w {
                                let at = i * w + j, v = Double(src[at])
                                let dh = j + 1 < w ? Double(src[at + 1]) - v : 0
                                let dv = i + 1 < h ? Double(src[at + w]) - v : 0
                                let s = dh * dh + dv * dv
                                // term = s^(beta/2); d term / d s = (beta/2) s^(beta/2 - 1).
                                let term: Double, slope: Double
                                if quadratic {
                                    term = s; slope = 1
                                } else if s > 0 {
                                    let r = pow(s, half - 1)
                                    term = r * s; slope = half * r
                                } else {
                                    term = 0; slope = 0
                                }
                                total += term
                                let a = Float(2 * scale * slope * dh), b = Float(2 * scale * slope * dv)
                                dst[at] -= a + b
                                if j + 1 < w { dst[at + 1] += a }
                                if i + 1 < h { dst[at + w] += b }
                            }
                        }
                        sp[p] = total
                    }
                }
            }
        }
    }
    return LossAndGradient(value: scale * planeSums.reduce(0, +), gradient: gradient)
}

/// The alpha-norm prior and its gradient:
///
///   E = weight / count * sum_i |x_i - center|^alpha,
///   dE/dx_i = weight / count * alpha |x_i - center|^(alpha - 1) sign(x_i - center)
///
/// over every element of `image` (any shape). Mahendran & Vedaldi use
/// alpha = 6 on the mean-subtracted image: pass the mean (0.5 for images in
/// [0, 1]) as `center`. alpha must be finite and at least 1; at alpha = 1
/// the gradient where x_i = center is taken as 0.
public func alphaNormLoss(image: Tensor, alpha: Double = 6, center: Double = 0, weight: Double = 1) throws -> LossAndGradient {
    try alphaNormLoss(image: image, alpha: alpha, center: center, weight: weight, workspace: nil)
}

/// `alphaNormLoss` with its gradient's storage from `workspace` when given.
func alphaNormLoss(image: Tensor, alpha: Double, center: Double, weight: Double,
                   workspace: Workspace?) throws -> LossAndGradient {
    let op = "alphaNormLoss"
    try requireExponent(alpha, name: "alpha", op: op)
    try requireLossWeight(weight, op: op)
    guard center.isFinite else { throw RWCNNError.argument("\(op): center must be finite, got \(center)") }
    let count = image.count
    guard count > 0 else { throw RWCNNError.argument("\(op): image of shape \(image.shape) is empty") }
    let scale = weight / Double(count)
    var gradient = try uninitializedTensor(image.shape, what: "\(op) gradient", workspace: workspace)
    let sum = image.data.withUnsafeBufferPointer { xb -> Double in
        gradient.data.withUnsafeMutableBufferPointer { gb in
            guard let xp = xb.baseAddress, let gp = gb.baseAddress else { return 0 }
            return deterministicSum(count: count) { r in
                var acc = 0.0
                for i in r {
                    let d = Double(xp[i]) - center, a = abs(d)
                    // |d|^alpha = |d|^(alpha-1) * |d|: one pow for value and gradient.
                    let r = a > 0 ? pow(a, alpha - 1) : 0
                    acc += r * a
                    gp[i] = Float(scale * alpha * (d < 0 ? -r : r))
                }
                return acc
            }
        }
    }
    return LossAndGradient(value: scale * sum, gradient: gradient)
}
