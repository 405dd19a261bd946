// 2-D convolution (cross-correlation, as in PyTorch's Conv2d), forward and
// backward, as im2col + sgemm per image, in tiles of output rows (see
// `KernelTuning.columnTileBytes`); 1x1 stride-1 unpadded convolutions skip
// im2col. Every stage splits its work over the context's threads: im2col,
// col2im and bias by channel or row, sgemm by column blocks (BLAS itself
// runs single-threaded).

/// Gradients of a loss with respect to a convolution's input (nil when not
/// asked for), weight and bias. Shapes match the corresponding arguments.
public struct ConvGradients {
    public var input: Tensor?
    public var weight: Tensor
    public var bias: Tensor

    public init(input: Tensor?, weight: Tensor, bias: Tensor) {
        self.input = input
        self.weight = weight
        self.bias = bias
    }
}

/// Checked sizes of a convolution call: batch, output channels and the
/// image-side geometry.
struct ConvCall {
    let batch: Int
    let outChannels: Int
    let geometry: ConvGeometry
}

/// Validates `conv2d` arguments: input [N,Cin,H,W], weight [Cout,Cin,kh,kw].
func convCall(op: String, input: [Int], weight: [Int], stride: Int, padding: Int,
              tuning: KernelTuning) throws -> ConvCall {
    let x = try requireNCHW(input, "input", op: op)
    let k = try requireNCHW(weight, "weight", op: op)
    try requireStride(stride, op: op)
    try requirePadding(padding, op: op)
    guard k.c == x.c else {
        throw RWCNNError.argument("\(op): weight \(weight) expects \(k.c) input channels, the input \(input) has \(x.c)")
    }
    let ph = x.h + 2 * padding, pw = x.w + 2 * padding
    guard k.h <= ph, k.w <= pw else {
        throw RWCNNError.argument("\(op): kernel \(k.h)x\(k.w) is larger than the padded input \(ph)x\(pw)")
    }
    let g = ConvGeometry(channels: x.c, height: x.h, width: x.w, kernelH: k.h, kernelW: k.w,
                         stride: stride, padding: padding,
                         outHeight: (ph - k.h) / stride + 1, outWidth: (pw - k.w) / stride + 1, tuning: tuning)
    _ = try kernelElementCount([x.n, k.n, g.outHeight, g.outWidth], what: "\(op) output")
    _ = try kernelElementCount([g.colRows, g.colCols], what: "\(op) column buffer")
    return ConvCall(batch: x.n, outChannels: k.n, geometry: g)
}

/// Throws unless `bias` is nil or a vector of `count` values.
func requireBias(_ bias: (any WeightValues)?, count: Int, op: String) throws {
    guard let b = bias else { return }
    guard b.shape == [count] else {
        throw RWCNNError.argument("\(op): bias must have shape [\(count)], got \(b.shape)")
    }
}

/// Adds `bias[c]` (if any) to `count` consecutive elements of row c (rows
/// `rowStride` apart) for every channel c, then clamps at 0 when `relu`: one
/// output tile of one image.
func addChannelBias(_ bias: (any WeightValues)?, relu: Bool = false, to y: UnsafeMutablePointer<Float>, channels: Int, count: Int,
                    rowStride: Int, threads: Int) {
    if bias == nil && !relu { return }
    withOptionalPointer(bias) { b in
        parallelFor(channels, threads: threads, minChunk: minChunk(itemCost: count)) { cs in
            for c in cs {
                let v = b?[c] ?? 0, row = y + c * rowStride
                var i = 0
                if relu {
                    while i < count { let t = row[i] + v; row[i] = t < 0 ? 0 : t; i &+= 1 }
                } else {
                    while i < count { row[i] += v; i &+= 1 }
                }
            }
        }
    }
}

/// Per-channel sums of an [N, C, plane] buffer over batch and plane,
/// accumulated in Double in a fixed order (the bias gradient).
func channelSums(_ g: UnsafePointer<Float>, batch: Int, channels: Int, plane: Int, threads: Int) -> Tensor {
    var sums = [Float](repeating: 0, count: channels)
    sums.withUnsafeMutableBufferPointer { out in
        parallelFor(channels, threads: threads, minChunk: minChunk(itemCost: batch * plane)) { cs in
            for c in cs {
                var total = 0.0
                for n in 0..<batch {
                    let row = g + (n * channels + c) * plane
                    // Four partial sums: shorter dependency chains, same order every run.
                    var a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0
                    var i = 0
                    while i &+ 4 <= plane {
                        a0 += Double(row[i]); a1 += Double(row[i &+ 1])
                        a2 += Double(row[i &+ 2]); a3 += Double(row[i &+ 3])
                        i &+= 4
                    }
                    while i < plane { a0 += Double(row[i]); i &+= 1 }
                    total += (a0 + a1) + (a2 + a3)
                }
                out[c] = Float(total)
            }
        }
    }
    // Shape [channels] with channels >= 1 always matches the data.
    return (try? Tensor(shape: [channels], data: sums)) ?? Tensor(checkedZeros: [channels])
}

/// Runs `body` with a scratch buffer of `count` floats (contents unspecified),
/// allocated once per call and reused for every image.
func withScratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count))
    defer { p.deallocate() }
    return try body(p)
}

/// 2-D convolution. `input` [N,Cin,H,W], `weight` [Cout,Cin,kh,kw] (PyTorch
/// layout), `bias` [Cout] or nil. Returns [N,Cout,Ho,Wo] with
/// Ho = (H + 2*padding - kh) / stride + 1 (and likewise Wo); zero padding.
public func conv2dForward(input: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int,
                          context: ExecutionContext = .current) throws -> Tensor {
    try conv2dForward(input: input, weight: weight, bias: bias, stride: stride, padding: padding,
                      relu: false, transformed: nil, context: context)
}

/// `conv2dForward`, then ReLU when `relu` (fused: applied while each output
/// tile is in cache). `transformed`, when given, supplies the Winograd weights
/// of `weight` (from `winogradTransformedWeights`, e.g. a model's cache) and
/// is used if the call takes the Winograd path.
func conv2dForward(input: Tensor, weight: any WeightValues, bias: (any WeightValues)?, stride: Int, padding: Int, relu: Bool,
                   transformed: [Float]?, context: ExecutionContext,
                   workspace: Workspace? = nil) throws -> Tensor {
    let op = "conv2d"
    let call = try convCall(op: op, input: input.shape, weight: weight.shape, stride: stride, padding: padding,
                            tuning: context.tuning)
    try requireBias(bias, count: call.outChannels, op: op)
    let g = call.geometry, cout = call.outChannels
    let shape = WinogradShape(conv: call)
    if winogradSupports(call) && shape.pays(context.tuning, cached: transformed != nil) {
        // 3x3 stride-1 on a large enough image: Winograd F(4x4, 3x3), a quarter of the multiplies.
        var output = try uninitializedTensor([shape.batch, cout, shape.outHeight, shape.outWidth], what: "\(op) output",
                                             workspace: workspace)
        try winogradConvolve(shape, input: input, weight: weight, layout: .conv, transformed: transformed, bias: bias,
                             relu: relu, into: &output, context: context, workspace: workspace)
        return output
    }
    var output = try uninitializedTensor([call.batch, cout, g.outHeight, g.outWidth], what: "\(op) output",
                                         workspace: workspace)
    let outPerImage = cout * g.colCols
    input.data.withUnsafeBufferPointer { xb in
        weight.withValues { wb in
            output.data.withUnsafeMutableBufferPointer { yb in
                guard let x = xb.baseAddress, let w = wb.baseAddress, let y = yb.baseAddress else { return }
                withScratch(g.isPointwise ? 0 : g.tileSize, in: workspace, slot: ScratchSlot.columns) { col in
                    // A pointwise convolution is one tile: the image is its own column matrix.
                    let tiles = g.isPointwise ? [0..<g.outHeight] : g.tiles
                    for n in 0..<call.batch {
                        let image = x + n * g.imageSize, yn = y + n * outPerImage
                        for rows in tiles {
                            let first = rows.lowerBound * g.outWidth, count = rows.count * g.outWidth
                            if !g.isPointwise { im2col(g, image: image, col: col, rows: rows, threads: context.threads) }
                            // y_n[:, tile] = W [Cout x CinKK] * col [CinKK x tile]
                            sgemm(transA: false, transB: false, m: cout, n: count, k: g.colRows,
                                  alpha: 1, a: w, lda: g.colRows, b: g.isPointwise ? image : UnsafePointer(col), ldb: count,
                                  beta: 0, c: yn + first, ldc: g.colCols, context: context)
                            // Bias (and ReLU) while the tile is still in cache.
                            addChannelBias(bias, relu: relu, to: yn + first, channels: cout, count: count,
                                           rowStride: g.colCols, threads: context.threads)
                        }
                    }
                }
            }
        }
    }
    return output
}

/// Gradients of `conv2dForward` given the gradient of the loss at its output
/// (`gradOutput`, [N,Cout,Ho,Wo]). The bias gradient is always returned (it
/// does not depend on whether the forward pass had a bias). With
/// `needInputGradient == false` the input gradient is skipped (nil).
public func conv2dBackward(input: Tensor, weight: Tensor, gradOutput: Tensor, stride: Int, padding: Int,
                           needInputGradient: Bool = true,
                           context: ExecutionContext = .current) throws -> ConvGradients {
    try conv2dBackward(input: input, weight: weight, gradOutput: gradOutput, stride: stride, padding: padding,
                       needInputGradient: needInputGradient, context: context, workspace: nil)
}

/// `conv2dBackward` on weights in place (a model's block), the weight
/// gradient from `workspace` when given.
func conv2dBackward(input: Tensor, weight: any WeightValues, gradOutput: Tensor, stride: Int, padding: Int,
                    needInputGradient: Bool = true, context: ExecutionContext,
                    workspace: Workspace?) throws -> ConvGradients {
    let op = "conv2d backward"
    let call = try convCall(op: op, input: input.shape, weight: weight.shape, stride: stride, padding: padding,
                            tuning: context.tuning)
    let g = call.geometry, cout = call.outChannels
    let expected = [call.batch, cout, g.outHeight, g.outWidth]
    guard gradOutput.shape == expected else {
        throw RWCNNError.argument("\(op): gradOutput must have shape \(expected), got \(gradOutput.shape)")
    }
    var gradWeight = try uninitializedTensor(weight.shape, what: "\(op) weight gradient", workspace: workspace)
    // One dummy element when the input gradient is not wanted keeps the pointer code uniform.
    var gradInputData = needInputGradient
        ? uninitializedFloats(try kernelElementCount(input.shape, what: "\(op) input gradient")) : [0]
    let outPerImage = cout * g.colCols
    var gradBias = Tensor(checkedZeros: [cout])
    // The input gradient is convTranspose2d(gradOutput, weight): Winograd when it pays.
    let dataShape = WinogradShape(batch: call.batch, cin: cout, cout: g.channels, height: g.outHeight,
                                  width: g.outWidth, padding: g.kernelH - 1 - g.padding)
    let dataByWinograd = needInputGradient && g.kernelH == 3 && g.kernelW == 3 && g.stride == 1
        && dataShape.pays(context.tuning)
    let forwardShape = WinogradShape(conv: call)
    let weightByWinograd = winogradSupports(call) && forwardShape.gradientPays(context.tuning)
    let needColumns = !weightByWinograd || (needInputGradient && !dataByWinograd)
    try input.data.withUnsafeBufferPointer { xb in
        try weight.withValues { wb in
            try gradOutput.data.withUnsafeBufferPointer { gyb in
                try gradWeight.data.withUnsafeMutableBufferPointer { gwb in
                    try gradInputData.withUnsafeMutableBufferPointer { gxb in
                        guard let x = xb.baseAddress, let w = wb.baseAddress, let gy = gyb.baseAddress,
                              let gw = gwb.baseAddress, let gx = gxb.baseAddress else { return }
                        gradBias = channelSums(gy, batch: call.batch, channels: cout, plane: g.colCols, threads: context.threads)
                        if needColumns {
                            withScratch(g.isPointwise ? 0 : g.tileSize) { col in
                                let tiles = g.isPointwise ? [0..<g.outHeight] : g.tiles
                                for n in 0..<call.batch {
                                    let image = x + n * g.imageSize, gyn = gy + n * outPerImage
                                    let gxn = gx + n * g.imageSize
                                    for rows in tiles {
                                        let first = rows.lowerBound * g.outWidth, count = rows.count * g.outWidth
                                        if !weightByWinograd {
                                            if !g.isPointwise { im2col(g, image: image, col: col, rows: rows, threads: context.threads) }
                                            // dW += gy_n[:, tile] [Cout x tile] * col^T [tile x CinKK]
                                            sgemm(transA: false, transB: true, m: cout, n: g.colRows, k: count,
                                                  alpha: 1, a: gyn + first, lda: g.colCols,
                                                  b: g.isPointwise ? image : UnsafePointer(col), ldb: count,
                                                  beta: n == 0 && first == 0 ? 0 : 1, c: gw, ldc: g.colRows,
                                                  context: context)
                                        }
                                        guard needInputGradient && !dataByWinograd else { continue }
                                        // dcol = W^T [CinKK x Cout] * gy_n[:, tile], then back to the image.
                                        sgemm(transA: true, transB: false, m: g.colRows, n: count, k: cout,
                                              alpha: 1, a: w, lda: g.colRows, b: gyn + first, ldb: g.colCols,
                                              beta: 0, c: g.isPointwise ? gxn : col, ldc: count, context: context)
                                        if !g.isPointwise { col2im(g, col: col, image: gxn, rows: rows, threads: context.threads) }
                                    }
                                }
                            }
                        }
                        if weightByWinograd {
                            try winogradWeightGradient(forwardShape, x: x, gradOutput: gy, layout: .conv, into: gw,
                                                       context: context, workspace: nil)
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
                    try winogradConvolve(dataShape, x: gyb.baseAddress!, filters: .transposed(wb.baseAddress!),
                                         bias: nil, relu: false, y: gxb.baseAddress!, context: context)
                }
            }
        }
    }
    let inputGradient = needInputGradient ? try Tensor(shape: input.shape, data: gradInputData) : nil
    return ConvGradients(input: inputGradient, weight: gradWeight, bias: gradBias)
}
