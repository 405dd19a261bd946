/// Optimiser choice and its hyper-parameters.
public enum OptimizerKind: String, CaseIterable, Sendable {
    case adam, sgd
}

/// Per-parameter optimiser state; saved in checkpoints so a resumed run
/// continues exactly.
struct OptimizerState {
    /// Adam: first and second moments; SGD: momentum buffers in `first`.
    var first: [String: Tensor] = [:]
    var second: [String: Tensor] = [:]
    /// Updates applied so far (Adam's bias correction uses it).
    var updates: Int = 0
}

/// Adam (Kingma & Ba) and SGD with momentum, with classic L2 weight decay
/// (added to the gradient), applied in place.
struct Optimizer {
    var kind: OptimizerKind
    var learningRate: Double
    var momentum: Double
    var beta1: Double
    var beta2: Double
    var epsilon: Double
    var weightDecay: Double
    var state = OptimizerState()

    /// One update of every parameter that has a gradient.
    mutating func step(parameters: inout [String: Tensor], gradients: [String: Tensor]) {
        state.updates = state.updates < Int.max ? state.updates + 1 : Int.max  // restore bounds it far below
        let t = Double(state.updates)
        let lr = Float(learningRate), wd = Float(weightDecay)
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon), mom = Float(momentum)
        let c1 = Float(1 - pow(beta1, t)), c2 = Float(1 - pow(beta2, t))
        for name in gradients.keys.sorted() {
            // Taken out of their dictionaries while updated, so each buffer is
            // uniquely held and changes in place (no copy of any weight or moment).
            guard let g = gradients[name], var w = parameters.removeValue(forKey: name) else { continue }
            var m = state.first.removeValue(forKey: name) ?? Tensor(checkedZeros: w.shape)
            var v = kind == .adam ? state.second.removeValue(forKey: name) ?? Tensor(checkedZeros: w.shape)
                                  : Tensor(checkedZeros: [1])
            let n = w.count
            w.data.withUnsafeMutableBufferPointer { wp in
                g.data.withUnsafeBufferPointer { gp in
                    m.data.withUnsafeMutableBufferPointer { mp in
                        v.data.withUnsafeMutableBufferPointer { vp in
                            switch kind {
                            case .adam:
                                for i in 0..<n {
                                    let gi = gp[i] + wd * wp[i]
                                    mp[i] = b1 * mp[i] + (1 - b1) * gi
                                    vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                                    let mh = mp[i] / c1, vh = vp[i] / c2
                                    wp[i] -= lr * mh / (vh.squareRoot() + eps)
                                }
                            case .sgd:
                                for i in 0..<n {
                                    let gi = gp[i] + wd * wp[i]
                                    mp[i] = mom * mp[i] + gi
                                    wp[i] -= lr * mp[i]
                                }
                            }
                        }
                    }
                }
            }
            parameters[name] = w
            state.first[name] = m
            if kind == .adam { state.second[name] = v }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
