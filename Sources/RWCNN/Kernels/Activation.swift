// ReLU, forward and backward, element-wise in parallel chunks.

/// Applies `body` to consecutive index ranges of `0..<count`, in parallel.
@inline(__always)
func parallelElements(_ count: Int, threads: Int = Threads.count, _ body: (Range<Int>) -> Void) {
    parallelFor(count, threads: threads, minChunk: parallelGrain, body)
}

/// max(x, 0) element-wise (NaN stays NaN), as a new tensor of the same shape.
public func reluForward(_ x: Tensor, context: ExecutionContext = .current) -> Tensor {
    // One pass into a fresh buffer (a copy followed by reluInPlace would be two).
    var data = uninitializedFloats(x.count)
    let count = x.count
    x.data.withUnsafeBufferPointer { xb in
        data.withUnsafeMutableBufferPointer { yb in
            guard let xp = xb.baseAddress, let yp = yb.baseAddress else { return }
            parallelElements(count, threads: context.threads) { r in
                var i = r.lowerBound
                while i < r.upperBound { let v = xp[i]; yp[i] = v < 0 ? 0 : v; i &+= 1 }
            }
        }
    }
    // Same shape, same count: cannot fail.
    return (try? Tensor(shape: x.shape, data: data)) ?? x
}

/// max(x, 0) element-wise in place (NaN stays NaN).
public func reluInPlace(_ x: inout Tensor, context: ExecutionContext = .current) {
    let count = x.count
    x.data.withUnsafeMutableBufferPointer { b in
        guard let p = b.baseAddress else { return }
        parallelElements(count, threads: context.threads) { r in
            var i = r.lowerBound
            while i < r.upperBound { let v = p[i]; p[i] = v < 0 ? 0 : v; i &+= 1 }
        }
    }
}

/// Gradient of ReLU: `gradOutput` where the forward `output` is > 0, else 0.
/// Both tensors must have the same shape.
public func reluBackward(output: Tensor, gradOutput: Tensor,
                         context: ExecutionContext = .current) throws -> Tensor {
    try reluBackward(output: output, gradOutput: gradOutput, context: context, workspace: nil)
}

/// `reluBackward` with its output from `workspace` when given.
func reluBackward(output: Tensor, gradOutput: Tensor, context: ExecutionContext,
                  workspace: Workspace?) throws -> Tensor {
    guard output.shape == gradOutput.shape else {
        throw RWCNNError.argument("relu backward: gradOutput shape \(gradOutput.shape) differs from output shape \(output.shape)")
    }
    var grad = try uninitializedTensor(output.shape, what: "relu gradient", workspace: workspace)
    let count = output.count
    output.data.withUnsafeBufferPointer { yb in
        gradOutput.data.withUnsafeBufferPointer { gb in
            grad.data.withUnsafeMutableBufferPointer { db in
                guard let y = yb.baseAddress, let g = gb.baseAddress, let d = db.baseAddress else { return }
                parallelElements(count, threads: context.threads) { r in
                    var i = r.lowerBound
                    // Both loads unconditional (not inside `?:`), so the loop vectorizes
                    // instead of branching on the sign.
                    while i < r.upperBound { let gi = g[i], yi = y[i]; d[i] = yi > 0 ? gi : 0; i &+= 1 }
                }
            }
        }
    }
    return grad
}
