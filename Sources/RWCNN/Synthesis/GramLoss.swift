// Gram-matrix (style / texture) loss on [N,C,H,W] features and its gradient.
//
// Gram matrix of image n: G_n = F_n F_n^T / M, where F_n is the C x M matrix
// of its features (M = H * W positions). Dividing by M makes Grams of
// images of different sizes comparable, so a texture can be synthesised at
// any size from the Grams of a source image.
//
// Layer loss, with D_n = G_n - A_n against the target Gram A_n:
//   scaled (default):  E = w * sum_n ||D_n||_F^2 / sum_n ||A_n||_F^2
//   gatys:             E = w * sum_n ||D_n||_F^2 / (4 C^2)
// "gatys" is Gatys et al.'s 1/(4 C^2 M^2) ||F F^T - M A||^2 written with
// normalised Grams. "scaled" is the relative Gram error: it is invariant to
// the scale of the layer's features (F -> sF leaves E unchanged), and so is
// its gradient with respect to the image (dE/dF scales by 1/s, dF/dx by s).
// With random weights the magnitude of the features drifts from layer to
// layer by factors that depend on the init rule, depth and image, and under
// the gatys rule each layer's loss scales with s^4; the scaled rule gives
// every layer a loss of 1 at a black image and a gradient of comparable
// size, so per-layer weights mean what they say.
//
// Gradient: dE/dF_n = k * D_n F_n with k = 4 w / (M sum ||A||^2) (scaled)
// or k = w / (M C^2) (gatys), using that D_n is symmetric.

/// How `gramLoss` normalises each layer's squared Gram error (see the file comment).
public enum GramNormalization: String, CaseIterable, Sendable {
    /// sum ||G - A||^2 / sum ||A||^2: the relative error, invariant to the
    /// features' scale. The default.
    case scaled
    /// sum ||G - A||^2 / (4 C^2): Gatys et al.'s weighting.
    case gatys
}

/// Channels and positions of [N,C,H,W] features, checked for the BLAS's
/// 32-bit dimensions.
private func gramGeometry(_ features: Tensor, op: String) throws -> (n: Int, c: Int, m: Int) {
    let f = try requireNCHW(features.shape, "features", op: op)
    let m = f.h * f.w
    guard f.c <= Int(Int32.max), m <= Int(Int32.max) else {
        throw RWCNNError.argument("\(op): \(f.c) channels x \(m) positions exceed the BLAS's 32-bit dimensions")
    }
    _ = try kernelElementCount([f.n, f.c, f.c], what: "\(op) Gram matrices")
    return (f.n, f.c, m)
}

/// The Gram matrices [N,C,C] of [N,C,H,W] features: G_n = F_n F_n^T / (H W).
public func gramMatrix(features: Tensor) throws -> Tensor {
    try gramMatrix(features: features, workspace: nil)
}

/// `gramMatrix` with its output from `workspace` when given.
func gramMatrix(features: Tensor, workspace: Workspace?) throws -> Tensor {
    let op = "gramMatrix"
    let (n, c, m) = try gramGeometry(features, op: op)
    var gram = try uninitializedTensor([n, c, c], what: "\(op) output", workspace: workspace)
    features.data.withUnsafeBufferPointer { fb in
        gram.data.withUnsafeMutableBufferPointer { gb in
            guard let f = fb.baseAddress, let g = gb.baseAddress else { return }
            for i in 0..<n {
                sgemm(transA: false, transB: true, m: c, n: c, k: m, alpha: Float(1.0 / Double(m)),
                      a: f + i * c * m, lda: m, b: f + i * c * m, ldb: m, beta: 0, c: g + i * c * c, ldc: c)
            }
        }
    }
    return gram
}

/// weight * E and dE/dfeatures for one layer (see the file comment for E).
/// `target` holds the target Grams, [N,C,C] (one per image) or [C,C] (the
/// same for every image), for example `gramMatrix(features:)` of a source
/// image of any size. Throws `.argument` for a bad shape, a negative or
/// non-finite weight, non-finite target values, or (scaled) an all-zero
/// target, whose relative error is undefined.
public func gramLoss(features: Tensor, target: Tensor, weight: Double = 1,
                     normalization: GramNormalization = .scaled) throws -> LossAndGradient {
    try gramLoss(features: features, target: target, weight: weight, normalization: normalization, workspace: nil)
}

/// `gramLoss` with its buffers from `workspace` when given (the Gram
/// difference goes back to it; the gradient is the caller's).
func gramLoss(features: Tensor, target: Tensor, weight: Double, normalization: GramNormalization,
              workspace: Workspace?) throws -> LossAndGradient {
    let op = "gramLoss"
    try requireLossWeight(weight, op: op)
    let (n, c, m) = try gramGeometry(features, op: op)
    let perImage: Bool
    switch target.shape {
    case [n, c, c]: perImage = true
    case [c, c]: perImage = false
    default:
        throw RWCNNError.argument("\(op): target Gram has shape \(target.shape), expected \([n, c, c]) or \([c, c]) for features \(features.shape)")
    }
    let cc = c * c
    let targetEnergy = target.data.withUnsafeBufferPointer { tb -> Double in
        guard let t = tb.baseAddress else { return 0 }
        return deterministicSum(count: target.count) { r in
            var acc = 0.0
            for i in r { let v = Double(t[i]); acc += v * v }
            return acc
        } * (perImage ? 1 : Double(n))
    }
    guard targetEnergy.isFinite else { throw RWCNNError.argument("\(op): the target Gram has non-finite values") }
    let denominator: Double
    switch normalization {
    case .scaled:
        guard targetEnergy > 0 else {
            throw RWCNNError.argument("\(op): the target Gram is all zero (a dead layer?); its scaled (relative) loss is undefined, use the gatys normalisation")
        }
        denominator = targetEnergy
    case .gatys:
        denominator = 4 * Double(c) * Double(c)
    }
    // D = G - A, in place of G.
    var difference = try gramMatrix(features: features, workspace: workspace)
    defer { workspace?.recycle(difference) }
    let squaredError = difference.data.withUnsafeMutableBufferPointer { db -> Double in
        target.data.withUnsafeBufferPointer { tb in
            guard let d = db.baseAddress, let t = tb.baseAddress else { return 0 }
            return deterministicSum(count: n * cc) { r in
                var acc = 0.0
                for i in r {
                    let v = d[i] - t[perImage ? i : i % cc]
                    d[i] = v
                    acc += Double(v) * Double(v)
                }
                return acc
            }
        }
    }
    // dE/dF_n = k D_n F_n (D symmetric) with k = 4 w / (M denominator): 4 w / (M sum ||A||^2)
    // for scaled, 4 w / (M 4 C^2) = w / (M C^2) for gatys.
    let k = Float(4 * weight / (Double(m) * denominator))
    var gradient = try uninitializedTensor(features.shape, what: "\(op) gradient", workspace: workspace)
    difference.data.withUnsafeBufferPointer { db in
        features.data.withUnsafeBufferPointer { fb in
            gradient.data.withUnsafeMutableBufferPointer { gb in
                guard let d = db.baseAddress, let f = fb.baseAddress, let g = gb.baseAddress else { return }
                for i in 0..<n {
                    sgemm(transA: false, transB: false, m: c, n: m, k: c, alpha: k,
                          a: d + i * cc, lda: c, b: f + i * c * m, ldb: m, beta: 0, c: g + i * c * m, ldc: m)
                }
            }
        }
    }
    return LossAndGradient(value: weight * squaredError / denominator, gradient: gradient)
}
