// Average pooling without padding (floor mode), the pooling Gatys et al. and
// He et al. use for texture synthesis. Same geometry as `maxPoolForward`:
// Ho = (H - kernel) / stride + 1 (likewise Wo); rows and columns past the
// last whole window are unused. Planes (n, c) are independent and processed
// in parallel; each output sums its window in a fixed order, so results are
// the same for every thread count.

/// The pooled height and width of an H x W plane, after checking the kernel,
/// the stride and that one window fits.
private func avgPoolGeometry(h: Int, w: Int, kernel: Int, stride: Int, op: String) throws -> (ho: Int, wo: Int) {
    try requireKernel(kernel, op: op)
    try requireStride(stride, op: op)
    guard h >= kernel, w >= kernel else {
        throw RWCNNError.argument("\(op): kernel \(kernel)x\(kernel) is larger than the input plane \(h)x\(w)")
    }
    return ((h - kernel) / stride + 1, (w - kernel) / stride + 1)
}
// (Work estimates below cap the output count at `parallelGrain` so that
// ho * wo * kernel^2 cannot overflow for any plane that fits in memory.)

/// Average pooling of [N,C,H,W] with a `kernel` x `kernel` window moved by
/// `stride`, no padding: each output is the mean of its kernel^2 inputs.
/// Throws `.argument` if the input is not NCHW or H or W is below `kernel`.
public func avgPoolForward(input: Tensor, kernel: Int, stride: Int,
                           context: ExecutionContext = .current) throws -> Tensor {
    try avgPoolForward(input: input, kernel: kernel, stride: stride, context: context, workspace: nil)
}

/// `avgPoolForward` with its output from `workspace` when given.
func avgPoolForward(input: Tensor, kernel: Int, stride: Int, context: ExecutionContext,
                    workspace: Workspace?) throws -> Tensor {
    let op = "avgPool"
    let x = try requireNCHW(input.shape, "input", op: op)
    let (ho, wo) = try avgPoolGeometry(h: x.h, w: x.w, kernel: kernel, stride: stride, op: op)
    var output = try zeroTensor([x.n, x.c, ho, wo], what: "\(op) output", workspace: workspace)
    let planeSize = x.h * x.w, w = x.w
    let scale = Float(1.0 / Double(kernel * kernel))
    input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
            guard let xp = xb.baseAddress, let yp = yb.baseAddress else { return }
            parallelFor(x.n * x.c, threads: context.threads,
                        minChunk: minChunk(itemCost: min(ho * wo, parallelGrain) * kernel * kernel)) { planes in
                for p in planes {
                    let plane = xp + p * planeSize
                    for oh in 0..<ho {
                        // One output row at a time, window cell by window cell, so the
                        // innermost loop runs along the row.
                        let row = yp + (p * ho + oh) * wo, rowStart = oh * stride * w
                        for i in 0..<kernel {
                            for j in 0..<kernel {
                                let src = plane + rowStart + i * w + j
                                var ow = 0
                                while ow < wo { row[ow] += src[ow &* stride]; ow &+= 1 }
                            }
                        }
                        var ow = 0
                        while ow < wo { row[ow] *= scale; ow &+= 1 }
                    }
                }
            }
        }
    }
    return output
}

/// Gradient of average pooling with respect to its input: each output
/// gradient is spread evenly (times 1 / kernel^2) over its window;
/// overlapping windows add. `gradOutput` is [N,C,Ho,Wo] for the pooled
/// layer's input shape `inputShape` [N,C,H,W]; inputs outside every window
/// get zero.
public func avgPoolBackward(gradOutput: Tensor, kernel: Int, stride: Int, inputShape: [Int],
                            context: ExecutionContext = .current) throws -> Tensor {
    try avgPoolBackward(gradOutput: gradOutput, kernel: kernel, stride: stride, inputShape: inputShape,
                        context: context, workspace: nil)
}

/// `avgPoolBackward` with its output from `workspace` when given.
func avgPoolBackward(gradOutput: Tensor, kernel: Int, stride: Int, inputShape: [Int], context: ExecutionContext,
                     workspace: Workspace?) throws -> Tensor {
    let op = "avgPool backward"
    let x = try requireNCHW(inputShape, "inputShape", op: op)
    let (ho, wo) = try avgPoolGeometry(h: x.h, w: x.w, kernel: kernel, stride: stride, op: op)
    guard gradOutput.shape == [x.n, x.c, ho, wo] else {
        throw RWCNNError.argument("\(op): gradOutput has shape \(gradOutput.shape), expected \([x.n, x.c, ho, wo]) for inputShape \(inputShape), kernel \(kernel), stride \(stride)")
    }
    var grad = try zeroTensor(inputShape, what: "\(op) input gradient", workspace: workspace)
    let planeSize = x.h * x.w, w = x.w
    let scale = Float(1.0 / Double(kernel * kernel))
    gradOutput.data.withUnsafeBufferPointer { gb in
        grad.data.withUnsafeMutableBufferPointer { db in
            guard let gp = gb.baseAddress, let dp = db.baseAddress else { return }
            parallelFor(x.n * x.c, threads: context.threads,
                        minChunk: minChunk(itemCost: min(ho * wo, parallelGrain) * kernel * kernel + planeSize / 4)) { planes in
                for p in planes {
                    let plane = dp + p * planeSize
                    for oh in 0..<ho {
                        let row = gp + (p * ho + oh) * wo, rowStart = oh * stride * w
                        for i in 0..<kernel {
                            for j in 0..<kernel {
                                let dst = plane + rowStart + i * w + j
                                var ow = 0
                                while ow < wo { dst[ow &* stride] += scale * row[ow]; ow &+= 1 }
                            }
                        }
                    }
                }
            }
        }
    }
    return grad
}
