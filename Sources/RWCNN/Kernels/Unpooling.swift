// Unpooling: the decoder's stand-in for a max pool, mapping [N,C,h,w] back
// to the pooled layer's input size [N,C,H,W]. Window (i, j) covers rows
// i*stride ..< i*stride+kernel and columns j*stride ..< j*stride+kernel.

/// Where unpooling puts each value.
public enum UnpoolMode: String, CaseIterable, Sendable {
    /// At the position of the max pool's argmax (its switches).
    case switches
    /// In every cell of its window.
    case nearest
    /// In the top-left cell of its window; the other cells stay zero.
    case zeros
}

/// Checked sizes of an unpooling call.
private struct UnpoolCall {
    let planes: Int
    let small: (h: Int, w: Int)
    let large: (h: Int, w: Int)
}

/// Validates an unpooling between `small` [N,C,h,w] and `large` [N,C,H,W]:
/// every window must fit inside the large plane, and switch mode needs
/// one valid switch per small element.
private func unpoolCall(op: String, mode: UnpoolMode, kernel: Int, stride: Int,
                        small: [Int], smallName: String, large: [Int], largeName: String,
                        switches: [Int32]?) throws -> UnpoolCall {
    let s = try requireNCHW(small, smallName, op: op)
    let l = try requireNCHW(large, largeName, op: op)
    _ = try kernelElementCount(large, what: "\(op) \(largeName)")
    try requireKernel(kernel, op: op)
    try requireStride(stride, op: op)
    guard s.n == l.n, s.c == l.c else {
        throw RWCNNError.argument("\(op): \(smallName) \(small) and \(largeName) \(large) differ in batch or channels")
    }
    // The last window must end inside the plane: (h-1)*stride + kernel <= H.
    // h, stride and kernel are bounded, so this cannot overflow.
    guard (s.h - 1) * stride + kernel <= l.h, (s.w - 1) * stride + kernel <= l.w else {
        throw RWCNNError.argument("\(op): \(s.h)x\(s.w) windows of \(kernel)x\(kernel) at stride \(stride) do not fit in \(l.h)x\(l.w)")
    }
    if mode == .switches {
        guard let switches else {
            throw RWCNNError.argument("\(op): unpool mode 'switches' needs the max pool's switches")
        }
        guard l.h * l.w <= Int(Int32.max) else {  // checked above: no overflow
            throw RWCNNError.argument("\(op): plane \(l.h)x\(l.w) is too large for 32-bit switches")
        }
        try requireSwitches(switches, count: s.n * s.c * s.h * s.w, planeSize: l.h * l.w, op: op)
    }
    return UnpoolCall(planes: s.n * s.c, small: (s.h, s.w), large: (l.h, l.w))
}

/// Unpools `input` [N,C,h,w] to [N,C,outputHeight,outputWidth], the size of
/// the pooled layer's input. `.switches` puts each value at its switch
/// position (`switches` required: N*C*h*w entries from `maxPoolForward`);
/// `.nearest` copies it to every cell of its window; `.zeros` puts it in the
/// top-left cell. Where windows overlap, values add.
public func unpoolForward(input: Tensor, mode: UnpoolMode, kernel: Int, stride: Int,
                          outputHeight: Int, outputWidth: Int, switches: [Int32]?,
                          context: ExecutionContext = .current) throws -> Tensor {
    try unpoolForward(input: input, mode: mode, kernel: kernel, stride: stride, outputHeight: outputHeight,
                      outputWidth: outputWidth, switches: switches, context: context, workspace: nil)
}

/// `unpoolForward` with its output from `workspace` when given.
func unpoolForward(input: Tensor, mode: UnpoolMode, kernel: Int, stride: Int,
                   outputHeight: Int, outputWidth: Int, switches: [Int32]?,
                   context: ExecutionContext, workspace: Workspace?) throws -> Tensor {
    let op = "unpool (\(mode.rawValue))"
    let outputShape = input.rank == 4 ? [input.shape[0], input.shape[1], outputHeight, outputWidth] : []
    guard outputHeight >= 1, outputWidth >= 1 else {
        throw RWCNNError.argument("\(op): output size \(outputHeight)x\(outputWidth) is below 1")
    }
    let call = try unpoolCall(op: op, mode: mode, kernel: kernel, stride: stride,
                              small: input.shape, smallName: "input", large: outputShape, largeName: "output",
                              switches: switches)
    var output = try zeroTensor(outputShape, what: "\(op) output", workspace: workspace)
    let planeSize = outputHeight * outputWidth
    if mode == .switches, let switches {
        scatterBySwitches(input, switches: switches, into: &output, planes: call.planes, planeSize: planeSize,
                          threads: context.threads)
        return output
    }
    let (h, w) = call.small, wide = outputWidth
    let k = mode == .nearest ? kernel : 1  // .zeros: a 1x1 "window" at the top-left corner
    input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
            guard let x = xb.baseAddress, let y = yb.baseAddress else { return }
            parallelFor(call.planes, threads: context.threads, minChunk: minChunk(itemCost: h * w * k * k + planeSize / 4)) { planes in
                for p in planes {
                    let src = x + p * h * w, dst = y + p * planeSize
                    for i in 0..<h {
                        for j in 0..<w {
                            let v = src[i * w + j]
                            for a in 0..<k {
                                let row = dst + ((i * stride + a) * wide + j * stride)
                                for b in 0..<k { row[b] += v }
                            }
                        }
                    }
                }
            }
        }
    }
    return output
}

/// Gradient of `unpoolForward`: `gradOutput` is [N,C,H,W] (the unpooled
/// size), `inputShape` the unpooling's input shape [N,C,h,w]. `.switches`
/// reads the gradient at each switch, `.nearest` sums it over each window,
/// `.zeros` reads it at each window's top-left cell.
public func unpoolBackward(gradOutput: Tensor, mode: UnpoolMode, kernel: Int, stride: Int,
                           inputShape: [Int], switches: [Int32]?,
                           context: ExecutionContext = .current) throws -> Tensor {
    try unpoolBackward(gradOutput: gradOutput, mode: mode, kernel: kernel, stride: stride, inputShape: inputShape,
                       switches: switches, context: context, workspace: nil)
}

/// `unpoolBackward` with its output from `workspace` when given.
func unpoolBackward(gradOutput: Tensor, mode: UnpoolMode, kernel: Int, stride: Int,
                    inputShape: [Int], switches: [Int32]?,
                    context: ExecutionContext, workspace: Workspace?) throws -> Tensor {
    let op = "unpool (\(mode.rawValue)) backward"
    let call = try unpoolCall(op: op, mode: mode, kernel: kernel, stride: stride,
                              small: inputShape, smallName: "inputShape", large: gradOutput.shape, largeName: "gradOutput",
                              switches: switches)
    let planeSize = call.large.h * call.large.w
    if mode == .switches, let switches {
        return try gatherBySwitches(gradOutput, switches: switches, shape: inputShape, planes: call.planes, planeSize: planeSize,
                                    threads: context.threads, workspace: workspace)
    }
    var grad = try uninitializedTensor(inputShape, what: "\(op) input gradient", workspace: workspace)
    let (h, w) = call.small, wide = call.large.w
    let k = mode == .nearest ? kernel : 1
    gradOutput.data.withUnsafeBufferPointer { gb in
        grad.data.withUnsafeMutableBufferPointer { db in
            guard let g = gb.baseAddress, let d = db.baseAddress else { return }
            parallelFor(call.planes, threads: context.threads, minChunk: minChunk(itemCost: h * w * k * k)) { planes in
                for p in planes {
                    let src = g + p * planeSize, dst = d + p * h * w
                    for i in 0..<h {
                        for j in 0..<w {
                            var sum: Float = 0
                            for a in 0..<k {
                                let row = src + ((i * stride + a) * wide + j * stride)
                                for b in 0..<k { sum += row[b] }
                            }
                            dst[i * w + j] = sum
                        }
                    }
                }
            }
        }
    }
    return grad
}
