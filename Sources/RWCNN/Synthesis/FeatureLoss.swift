// Feature reconstruction loss (inversion, style content term) on [N,C,H,W]
// features, with its gradient with respect to the features.

/// How `featureLoss` normalises the squared error.
public enum FeatureLossNormalization: String, CaseIterable, Sendable {
    /// Mean over elements: sum((F - T)^2) / count (the engine's MSE).
    case mean
    /// Relative to the target's energy: sum((F - T)^2) / sum(T^2), as in
    /// Mahendran & Vedaldi (2015). Invariant to the scale of the layer's
    /// features, so losses at layers of very different magnitude (common with
    /// random weights) are comparable; a zero image scores 1.
    case relative
}

/// weight * E(features, target), E per `normalization`, and its gradient
/// with respect to `features`:
///   mean:      E = sum((F - T)^2) / count,   dE/dF = 2 (F - T) / count
///   relative:  E = sum((F - T)^2) / sum(T^2), dE/dF = 2 (F - T) / sum(T^2)
/// Throws `.argument` for different shapes, empty tensors, a negative or
/// non-finite weight, or (relative) an all-zero target.
public func featureLoss(features: Tensor, target: Tensor, weight: Double = 1,
                        normalization: FeatureLossNormalization = .mean) throws -> LossAndGradient {
    try featureLoss(features: features, target: target, weight: weight, normalization: normalization,
                    workspace: nil)
}

/// `featureLoss` with its gradient's storage from `workspace` when given.
func featureLoss(features: Tensor, target: Tensor, weight: Double, normalization: FeatureLossNormalization,
                 workspace: Workspace?) throws -> LossAndGradient {
    let op = "featureLoss"
    try requireLossWeight(weight, op: op)
    guard features.shape == target.shape else {
        throw RWCNNError.argument("\(op): features shape \(features.shape) differs from target shape \(target.shape)")
    }
    let count = features.count
    guard count > 0 else { throw RWCNNError.argument("\(op): tensors of shape \(features.shape) are empty") }
    let (squaredError, targetEnergy): (Double, Double) = features.data.withUnsafeBufferPointer { fb in
        target.data.withUnsafeBufferPointer { tb in
            guard let f = fb.baseAddress, let t = tb.baseAddress else { return (0, 0) }
            let error = deterministicSum(count: count) { r in
                var acc = 0.0
                for i in r { let d = Double(f[i]) - Double(t[i]); acc += d * d }
                return acc
            }
            guard normalization == .relative else { return (error, 0) }
            let energy = deterministicSum(count: count) { r in
                var acc = 0.0
                for i in r { let v = Double(t[i]); acc += v * v }
                return acc
            }
            return (error, energy)
        }
    }
    let denominator: Double
    switch normalization {
    case .mean: denominator = Double(count)
    case .relative:
        guard targetEnergy > 0, targetEnergy.isFinite else {
            throw RWCNNError.argument("\(op): relative normalisation needs a target with non-zero, finite energy, got sum(T^2) = \(targetEnergy)")
        }
        denominator = targetEnergy
    }
    var gradient = try uninitializedTensor(features.shape, what: "\(op) gradient", workspace: workspace)
    let scale = Float(2 * weight / denominator)
    features.data.withUnsafeBufferPointer { fb in
        target.data.withUnsafeBufferPointer { tb in
            gradient.data.withUnsafeMutableBufferPointer { gb in
                guard let f = fb.baseAddress, let t = tb.baseAddress, let g = gb.baseAddress else { return }
                parallelElements(count) { r in
                    var i = r.lowerBound
                    while i < r.upperBound { g[i] = scale * (f[i] - t[i]); i &+= 1 }
                }
            }
        }
    }
    return LossAndGradient(value: weight * squaredError / denominator, gradient: gradient)
}
