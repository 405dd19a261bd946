// 2-D transposed convolution (PyTorch's ConvTranspose2d, no output padding):
// the adjoint of `conv2dForward` with the same weight. Its forward pass is the
// convolution's input-gradient computation (sgemm then col2im), its backward
// pass is a convolution (im2col then sgemm). The weight layout
// [Cin_t, Cout_t, kh, kw] equals the convolution layout [Cout, Cin, kh, kw] of
// the convolution it inverts, so an encoder weight serves a tied decoder as is.

/// Validates `convTranspose2d` arguments: input [N,Cin_t,H,W], weight
/// [Cin_t,Cout_t,kh,kw]. The geometry returned is that of the adjoint
/// convolution, whose image is the transposed convolution's output
/// [Cout_t, Ho, Wo] with Ho = (H-1)*stride - 2*padding + kh.
func convTransposeCall(op: String, input: [Int], weight: [Int], stride: Int, padding: Int,
                       tuning: KernelTuning) throws -> ConvCall {
    let x = try requireNCHW(input, "input", op: op)
    let k = try requireNCHW(weight, "weight", op: op)
    try requireStride(stride, op: op)
    try requirePadding(padding, op: op)
    guard k.n == x.c else {
        throw RWCNNError.argument("\(op): weight \(weight) expects \(k.n) input channels, the input \(input) has \(x.c)")
    }
    func outSize(_ size: Int, _ kernel: Int) throws -> Int {
        let (span, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
        guard !overflow, span <= kernelElementLimit else {
            throw RWCNNError.outOfMemory("\(op): output of input \(input) with stride \(stride) is too large")
        }
        return span - 2 * padding + kernel
    }
    let ho = try outSize(x.h, k.h), wo = try outSize(x.w, k.w)
    guard ho >= 1, wo >= 1 else {
        throw RWCNNError.argument("\(op): output size \(ho)x\(wo) of input \(input), kernel \(k.h)x\(k.w), stride \(stride), padding \(padding) is below 1")
    }
    // The adjoint convolution maps [Cout_t, ho, wo] back to exactly [Cin_t, H, W]:
    // (ho + 2p - kh) / s + 1 = (H-1)*s / s + 1 = H.
    let g = ConvGeometry(channels: k.c, height: ho, width: wo, kernelH: k.h, kernelW: k.w,
                         stride: stride, padding: padding, outHeight: x.h, outWidth: x.w, tuning: tuning)
    _ = try kernelElementCount([x.n, k.c, ho, wo], what: "\(op) output")
    _ = try kernelElementCount([g.colRows, g.colCols], what: "\(op) column buffer")
    return ConvCall(batch: x.n, outChannels: x.c, geometry: g)
}

/// Transposed 2-D convolution. `input` [N,Cin_t,H,W], `weight`
/// [Cin_t,Cout_t,kh,kw] (PyTorch ConvTranspose2d layout), `bias` [Cout_t] or
/// nil. Returns [N,Cout_t,Ho,Wo] with Ho = (H-1)*stride - 2*padding + kh
/// (and likewise Wo). Without bias it is the adjoint of `conv2dForward` with
/// the same weight, stride and padding.
public func convTranspose2dForward(input: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int,
                                   context: ExecutionContext = .current) throws -> Tensor {
    try convTranspose2dForward(input: input, weight: weight, bias: bias, stride: stride, padding: padding,
                               relu: false, transformed: nil, context: context)
}

/// `convTranspose2dForward`, then ReLU when `relu`. `transformed`, when
/// given, supplies the Winograd weights of the flipped kernel
/// (`winogradTransformedWeights` with `.transposed` filters).
func convTranspose2dForward(input: Tensor, weight: any WeightValues, bias: (any WeightValues)?, stride: Int, padding: Int,
                            relu: Bool,
                            transformed: [Float]?, context: ExecutionContext,
                            workspace: Workspace? = nil) throws -> Tensor {
    let op = "convTranspose2d"
    // In `call`, outChannels is Cin_t (the adjoint convolution's output channels).
    let call = try convTransposeCall(op: op, input: input.shape, weight: weight.shape, stride: stride, padding: padding,
                                     tuning: context.tuning)
    let g = call.geometry, cin = call.outChannels
    try requireBias(bias, count: g.channels, op: op)
    var output = try uninitializedTensor([call.batch, g.channels, g.height, g.width], what: "\(op) output",
                                         workspace: workspace)
    if winogradAppliesTransposed(call, tuning: context.tuning, cached: transformed != nil) {
        // 3x3 stride 1: a convolution with the flipped kernel, through Winograd.
        let shape = WinogradShape(transposed: call)
        try winogradConvolve(shape, input: input, weight: weight, layout: .transposed, transformed: transformed, bias: bias,
                             relu: relu, into: &output, context: context, workspace: workspace)
        return output
    }
    let inPerImage = cin * g.colCols
    input.data.withUnsafeBufferPointer { xb in
        weight.withValues { wb in
            output.data.withUnsafeMutableBufferPointer { yb in
                guard let x = xb.baseAddress, let w = wb.baseAddress, let y = yb.baseAddress else { return }
                withScratch(g.isPointwise ? 0 : g.tileSize, in: workspace, slot: ScratchSlot.columns) { col in
                    let tiles = g.isPointwise ? [0..<g.outHeight] : g.tiles
                    for n in 0..<call.batch {
                        let xn = x + n * inPerImage, yn = y + n * g.imageSize
                        for rows in tiles {
                            let first = rows.lowerBound * g.outWidth, count = rows.count * g.outWidth
                            // col = W^T [Cout_t*kk x Cin_t] * x_n[:, tile], then summed into the image.
                            sgemm(transA: true, transB: false, m: g.colRows, n: count, k: cin,
                                  alpha: 1, a: w, lda: g.colRows, b: xn + first, ldb: g.colCols,
                                  beta: 0, c: g.isPointwise ? yn : col, ldc: count, context: context)
                            if !g.isPointwise { col2im(g, col: col, image: yn, rows: rows, threads: context.threads) }
                        }
                    }
                }
                if bias != nil || relu {
                    for n in 0..<call.batch {
                        addChannelBias(bias, relu: relu, to: y + n * g.imageSize, channels: g.channels,
                                       count: g.height * g.width, rowStride: g.height * g.width,
                                       threads: context.threads)
                    }
                }
            }
        }
    }
    return output
}

/// Gradients of `convTranspose2dForward` given the gradient of the loss at
/// its output (`gradOutput`, [N,Cout_t,Ho,Wo]). The input gradient is
/// `conv2dForward(gradOutput, weight)`; the weight gradient sums
/// input_n x im2col(gradOutput_n)^T over the batch. Both share one im2col
/// per image. The bias gradient is always returned; with
/// `needInputGradient == false` the input gradient is nil.
public func convTranspose2dBackward(input: Tensor, weight: Tensor, gradOutput: Tensor, stride: Int, padding: Int,
                                    needInputGradient: Bool = true,
                                    context: ExecutionContext = .current) throws -> ConvGradients {
    try convTranspose2dBackward(input: input, weight: weight, gradOutput: gradOutput, stride: stride, padding: padding,
                                needInputGradient: needInputGradient, context: context, workspace: nil)
}

/// `convTranspose2dBackward` with its buffers from `workspace` when given.
func convTranspose2dBackward(input: Tensor, weight: any WeightValues, gradOutput: Tensor, stride: Int, padding: Int,
                             needInputGradient: Bool, context: ExecutionContext,
                             workspace: Workspace?) throws -> ConvGradients {
    let op = "convTranspose2d backward"
    let call = try convTransposeCall(op: op, input: input.shape, weight: weight.shape, stride: stride, padding: padding,
                                     tuning: context.tuning)
    let g = call.geometry, cin = call.outChannels
    let expected = [call.batch, g.channels, g.height, g.width]
    guard gradOutput.shape == expected else {
        throw RWCNNError.argument("\(op): gradOutput must have shape \(expected), got \(gradOutput.shape)")
    }
    var gradWeight = try uninitializedTensor(weight.shape, what: "\(op) weight gradient", workspace: workspace)
    // One dummy element when the input gradient is not wanted keeps the pointer code uniform.
    let inputCount = try kernelElementCount(input.shape, what: "\(op) input gradient")
    var gradInputData = needInputGradient
        ? (workspace?.floatArray(inputCount) ?? uninitializedFloats(inputCount)) : [0]
    let inPerImage = cin * g.colCols
    var gradBias = Tensor(checkedZeros: [g.channels])
    // The input gradient is conv2d(gradOutput, weight): Winograd when it pays.
    let dataShape = WinogradShape(batch: call.batch, cin: g.channels, cout: cin, height: g.height, width: g.width,
                                  padding: g.padding)
    let dataByWinograd = needInputGradient && g.kernelH == 3 && g.kernelW == 3 && g.stride == 1
        && dataShape.pays(context.tuning)
    // The weight gradient is that of the flipped convolution the forward pass is: Winograd when it pays.
    let forwardShape = WinogradShape(transposed: call)
    let weightByWinograd = g.kernelH == 3 && g.kernelW == 3 && g.stride == 1 && g.padding <= 2
        && forwardShape.gradientPays(context.tuning)
    let needColumns = !weightByWinograd || (needInputGradient && !dataByWinograd)
    try input.data.withUnsafeBufferPointer { xb in
        try weight.withValues { wb in
            try gradOutput.data.withUnsafeBufferPointer { gyb in
                try gradWeight.data.withUnsafeMutableBufferPointer { gwb in
                    try gradInputData.withUnsafeMutableBufferPointer { gxb in
                        guard let x = xb.baseAddress, let w = wb.baseAddress, let gy = gyb.baseAddress,
                              let gw = gwb.baseAddress, let gx = gxb.baseAddress else { return }
                        gradBias = channelSums(gy, batch: call.batch, channels: g.channels, plane: g.height * g.width,
                                               threads: context.threads)
                        if needColumns {
                            withScratch(g.isPointwise ? 0 : g.tileSize, in: workspace, slot: ScratchSlot.columns) { col in
                                let tiles = g.isPointwise ? [0..<g.outHeight] : g.tiles
                                for n in 0..<call.batch {
                                    let gyn = gy + n * g.imageSize, xn = x + n * inPerImage, gxn = gx + n * inPerImage
                                    for rows in tiles {
                                        let first = rows.lowerBound * g.outWidth, count = rows.count * g.outWidth
                                        if !g.isPointwise { im2col(g, image: gyn, col: col, rows: rows, threads: context.threads) }
                                        let cols = g.isPointwise ? gyn : UnsafePointer(col)
                                        if !weightByWinograd {
                                            // dW += x_n[:, tile] [Cin_t x tile] * col^T [tile x Cout_t*kk]
                                            sgemm(transA: false, transB: true, m: cin, n: g.colRows, k: count,
                                                  alpha: 1, a: xn + first, lda: g.colCols, b: cols, ldb: count,
                                                  beta: n == 0 && first == 0 ? 0 : 1, c: gw, ldc: g.colRows,
                                                  context: context)
                                        }
                                        guard needInputGradient && !dataByWinograd else { continue }
                                        // dx_n[:, tile] = W [Cin_t x Cout_t*kk] * col [Cout_t*kk x tile]
                                        sgemm(transA: false, transB: false, m: cin, n: count, k: g.colRows,
                                              alpha: 1, a: w, lda: g.colRows, b: cols, ldb: count,
                                              beta: 0, c: gxn + first, ldc: g.colCols, context: context)
                                    }
                                }
                            }
                        }
                        if weightByWinograd {
                            try winogradWeightGradient(forwardShape, x: x, gradOutput: gy, layout: .transposed, into: gw,
                                                       context: context, workspace: workspace)
                        }
                    }
                }
            }
        }
    }
    if dataByWinograd {
        try gradOutput.data.withUnsafeBufferPointer { gyb in
            try weight.withValues { wb in
                try gradInputData.withUnsafeMutableBufferPointer { gxb in
                    try winogradConvolve(dataShape, x: gyb.baseAddress!, filters: .conv(wb.baseAddress!), bias: nil,
                                         relu: false, y: gxb.baseAddress!, context: context, workspace: workspace)
                }
            }
        }
    }
    let inputGradient = needInputGradient ? try Tensor(shape: input.shape, data: gradInputData) : nil
    return ConvGradients(input: inputGradient, weight: gradWeight, bias: gradBias)
}
