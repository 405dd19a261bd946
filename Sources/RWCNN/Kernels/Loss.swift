// Mean squared error and its gradient. The sum is taken in Double over
// fixed-size blocks, so the value is the same for every thread count.

/// Elements per block of the MSE reduction (fixed: the result must not
/// depend on how the work is split between threads).
private let mseBlock = 1 << 14

/// mean((prediction - target)^2) over all elements, accumulated in Double.
/// The shapes must be equal and non-empty.
public func mseForward(prediction: Tensor, target: Tensor,
                       context: ExecutionContext = .current) throws -> Double {
    guard prediction.shape == target.shape else {
        throw RWCNNError.argument("mse: prediction shape \(prediction.shape) differs from target shape \(target.shape)")
    }
    let count = prediction.count
    guard count > 0 else { throw RWCNNError.argument("mse: tensors of shape \(prediction.shape) are empty") }
    let blocks = (count + mseBlock - 1) / mseBlock
    var partial = [Double](repeating: 0, count: blocks)
    prediction.data.withUnsafeBufferPointer { pb in
        target.data.withUnsafeBufferPointer { tb in
            partial.withUnsafeMutableBufferPointer { sb in
                guard let p = pb.baseAddress, let t = tb.baseAddress, let s = sb.baseAddress else { return }
                parallelFor(blocks, threads: context.threads, minChunk: max(1, parallelGrain / mseBlock)) { bs in
                    for b in bs {
                        let end = min(count, (b + 1) * mseBlock)
                        var a0 = 0.0, a1 = 0.0
                        var i = b * mseBlock
                        while i &+ 2 <= end {
                            let d0 = Double(p[i]) - Double(t[i]), d1 = Double(p[i &+ 1]) - Double(t[i &+ 1])
                            a0 += d0 * d0; a1 += d1 * d1
                            i &+= 2
                        }
                        if i < end { let d = Double(p[i]) - Double(t[i]); a0 += d * d }
                        s[b] = a0 + a1
                    }
                }
            }
        }
    }
    return partial.reduce(0, +) / Double(count)
}

/// Gradient of `mseForward` with respect to the prediction:
/// 2 * (prediction - target) / count. Shapes are checked by `mseForward`;
/// if they differ here the result is zeros of the prediction's shape.
public func mseBackward(prediction: Tensor, target: Tensor,
                        context: ExecutionContext = .current) -> Tensor {
    mseBackward(prediction: prediction, target: target, context: context, workspace: nil)
}

/// `mseBackward` with its output from `workspace` when given.
func mseBackward(prediction: Tensor, target: Tensor, context: ExecutionContext, workspace: Workspace?) -> Tensor {
    let count = prediction.count
    guard prediction.shape == target.shape, count > 0 else { return Tensor(checkedZeros: prediction.shape) }
    // Same shape as a valid tensor: cannot fail.
    var grad = (try? uninitializedTensor(prediction.shape, what: "mse gradient", workspace: workspace))
        ?? Tensor(checkedZeros: prediction.shape)
    let scale = Float(2.0 / Double(count))
    prediction.data.withUnsafeBufferPointer { pb in
        target.data.withUnsafeBufferPointer { tb in
            grad.data.withUnsafeMutableBufferPointer { gb in
                guard let p = pb.baseAddress, let t = tb.baseAddress, let g = gb.baseAddress else { return }
                parallelElements(count, threads: context.threads) { r in
                    var i = r.lowerBound
                    while i < r.upperBound { g[i] = scale * (p[i] - t[i]); i &+= 1 }
                }
            }
        }
    }
    return grad
}
