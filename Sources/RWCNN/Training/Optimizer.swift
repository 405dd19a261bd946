/// Optimiser choice and its hyper-parameters.
public enum OptimizerKind: String, CaseIterable, Sendable {
    case adam, sgd
}

/// The optimiser's state, saved in checkpoints so a resumed run continues
/// exactly: flat buffers in the layout of the decoder's range of the
/// model's `ParameterBlock` (moment i belongs to parameter value
/// `decoderRange.lowerBound + i`), empty until the first update.
struct OptimizerState {
    /// Adam: first and second moments; SGD: momentum buffers in `first`.
    var first: [Float] = []
    var second: [Float] = []
    /// Updates applied so far (Adam's bias correction uses it).
    var updates: Int = 0

    /// One parameter's part of `moments` (`first` or `second`) as a tensor,
    /// nil before the first update.
    static func moment(_ moments: [Float], of slot: ParameterSlot, in layout: ParameterLayout) -> Tensor? {
        guard !moments.isEmpty else { return nil }
        let start = layout.decoderOffset(slot)
        return Tensor(checkedShape: slot.shape, data: Array(moments[start..<(start + slot.count)]))
    }
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

    /// One update of the decoder's range of `block`, every one of its
    /// parameters by its gradient in `gradients` (by name; all must be
    /// there). The parameters and the moments are each one flat buffer; the
    /// update is elementwise, so `threads` does not change its bits.
    mutating func step(_ block: ParameterBlock, gradients: [String: Tensor], threads: Int) throws {
        let layout = block.layout, range = layout.decoderRange
        let slots = layout.decoderSlots
        let grads = try slots.map { slot in
            guard let g = gradients[slot.name], g.count == slot.count else {
                throw RWCNNError.internal("optimizer: no gradient of shape \(slot.shape) for \(slot.name)")
            }
            return g
        }
        if state.first.isEmpty { state.first = [Float](repeating: 0, count: range.count) }
        if kind == .adam && state.second.isEmpty { state.second = [Float](repeating: 0, count: range.count) }
        state.updates = state.updates < Int.max ? state.updates + 1 : Int.max  // restore bounds it far below
        let t = Double(state.updates)
        let lr = Float(learningRate), wd = Float(weightDecay)
        let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon), mom = Float(momentum)
        let c1 = Float(1 - pow(beta1, t)), c2 = Float(1 - pow(beta2, t))
        let kind = self.kind
        let w = block.values.baseAddress! + range.lowerBound
        // Taken out of the state while updated, so each buffer is uniquely
        // held and changes in place.
        var first = state.first, second = state.second
        state.first = []; state.second = []
        defer { state.first = first; state.second = second }
        first.withUnsafeMutableBufferPointer { mb in
            second.withUnsafeMutableBufferPointer { vb in
                for (slot, g) in zip(slots, grads) {
                    let start = layout.decoderOffset(slot)
                    let wp = w + start, mp = mb.baseAddress! + start, vp = vb.baseAddress.map { $0 + start }
                    g.data.withUnsafeBufferPointer { gb in
                        let gp = gb.baseAddress!
                        parallelFor(slot.count, threads: threads, minChunk: 1 << 14) { part in
                            switch kind {
                            case .adam:
                                let vp = vp!
                                for i in part {
                                    let gi = gp[i] + wd * wp[i]
                                    mp[i] = b1 * mp[i] + (1 - b1) * gi
                                    vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                                    let mh = mp[i] / c1, vh = vp[i] / c2
                                    wp[i] -= lr * mh / (vh.squareRoot() + eps)
                                }
                            case .sgd:
                                for i in part {
                                    let gi = gp[i] + wd * wp[i]
                                    mp[i] = mom * mp[i] + gi
                                    wp[i] -= lr * mp[i]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
