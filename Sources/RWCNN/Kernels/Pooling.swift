// Max pooling without padding (floor mode), with the argmax "switches" that
// `maxPoolBackward` and switch unpooling need. Planes (n, c) are independent
// and processed in parallel.

/// A max-pooled tensor and, per output element, the flat index (h * W + w)
/// of its maximum within its input plane.
public struct PoolOutput {
    public var output: Tensor
    public var switches: [Int32]

    public init(output: Tensor, switches: [Int32]) {
        self.output = output
        self.switches = switches
    }
}

/// Max pooling of [N,C,H,W] with a `kernel` x `kernel` window moved by
/// `stride`, no padding: Ho = (H - kernel) / stride + 1 (likewise Wo).
/// The first maximum in row-major window order wins ties; a NaN in a window
/// is propagated (the last NaN wins). Throws if H or W is below `kernel`.
public func maxPoolForward(input: Tensor, kernel: Int, stride: Int,
                           context: ExecutionContext = .current) throws -> PoolOutput {
    try maxPoolForward(input: input, kernel: kernel, stride: stride, context: context, workspace: nil)
}

/// `maxPoolForward` with its output and switches from `workspace` when given.
func maxPoolForward(input: Tensor, kernel: Int, stride: Int, context: ExecutionContext,
                    workspace: Workspace?) throws -> PoolOutput {
    let op = "maxPool"
    let x = try requireNCHW(input.shape, "input", op: op)
    try requireKernel(kernel, op: op)
    try requireStride(stride, op: op)
    guard x.h >= kernel, x.w >= kernel else {
        throw RWCNNError.argument("\(op): kernel \(kernel)x\(kernel) is larger than the input plane \(x.h)x\(x.w)")
    }
    let planeSize = x.h * x.w
    guard planeSize <= Int(Int32.max) else {
        throw RWCNNError.argument("\(op): input plane \(x.h)x\(x.w) is too large for 32-bit switches")
    }
    let ho = (x.h - kernel) / stride + 1, wo = (x.w - kernel) / stride + 1
    var output = try uninitializedTensor([x.n, x.c, ho, wo], what: "\(op) output", workspace: workspace)
    var switches = workspace?.intArray(output.count)
        ?? [Int32](unsafeUninitializedCapacity: output.count) { _, n in n = output.count }
    let w = x.w
    input.data.withUnsafeBufferPointer { xb in
        output.data.withUnsafeMutableBufferPointer { yb in
            switches.withUnsafeMutableBufferPointer { sb in
                guard let xp = xb.baseAddress, let yp = yb.baseAddress, let sp = sb.baseAddress else { return }
                parallelFor(x.n * x.c, threads: context.threads, minChunk: minChunk(itemCost: ho * wo * kernel * kernel)) { planes in
                    for p in planes {
                        let plane = xp + p * planeSize
                        for oh in 0..<ho {
                            // One output row at a time, window cell by window cell, so the
                            // innermost loop runs along the row without data-dependent
                            // branches (the argmax comparison is unpredictable on real data).
                            let o = (p * ho + oh) * wo, rowStart = oh * stride * w
                            let values = yp + o, args = sp + o
                            var ow = 0
                            while ow < wo {
                                let cell = rowStart &+ ow &* stride
                                values[ow] = plane[cell]; args[ow] = Int32(truncatingIfNeeded: cell)
                                ow &+= 1
                            }
                            for i in 0..<kernel {
                                for j in 0..<kernel where i > 0 || j > 0 {
                                    maxIntoRow(plane, offset: rowStart + i * w + j, stride: stride,
                                               count: wo, values: values, args: args)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return PoolOutput(output: output, switches: switches)
}

/// One window cell for a whole output row: output `ow` compares its running
/// maximum `values[ow]` with `plane[offset + ow * stride]` and takes it (and
/// its index, in `args`) if strictly greater or NaN. Strictly greater keeps
/// the first maximum in window order. Four outputs at a time in SIMD
/// registers with blends: branches (or scalar selects, which the compiler
/// turns into branches) mispredict on real data.
@inline(__always)
private func maxIntoRow(_ plane: UnsafePointer<Float>, offset: Int, stride: Int, count: Int,
                        values: UnsafeMutablePointer<Float>, args: UnsafeMutablePointer<Int32>) {
    let lanes = SIMD4<Int32>(0, 1, 2, 3) &* Int32(truncatingIfNeeded: stride)
    let valueRow = UnsafeMutableRawPointer(values), argRow = UnsafeMutableRawPointer(args)
    var ow = 0
    // Wrapping arithmetic is safe: every index is inside the plane (< Int32.max).
    while ow &+ 4 <= count {
        let cell = offset &+ ow &* stride
        let v = SIMD4<Float>(plane[cell], plane[cell &+ stride], plane[cell &+ 2 &* stride], plane[cell &+ 3 &* stride])
        var best = valueRow.loadUnaligned(fromByteOffset: ow &* 4, as: SIMD4<Float>.self)
        var arg = argRow.loadUnaligned(fromByteOffset: ow &* 4, as: SIMD4<Int32>.self)
        let take = (v .> best) .| (v .!= v)
        best.replace(with: v, where: take)
        arg.replace(with: SIMD4(repeating: Int32(truncatingIfNeeded: cell)) &+ lanes, where: take)
        valueRow.storeBytes(of: best, toByteOffset: ow &* 4, as: SIMD4<Float>.self)
        argRow.storeBytes(of: arg, toByteOffset: ow &* 4, as: SIMD4<Int32>.self)
        ow &+= 4
    }
    while ow < count {
        let cell = offset &+ ow &* stride
        let v = plane[cell]
        if v > values[ow] || v.isNaN { values[ow] = v; args[ow] = Int32(truncatingIfNeeded: cell) }
        ow &+= 1
    }
}

/// Checks that `switches` has `count` entries, each a valid index into a
/// plane of `planeSize` cells.
func requireSwitches(_ switches: [Int32], count: Int, planeSize: Int, op: String) throws {
    guard switches.count == count else {
        throw RWCNNError.argument("\(op): expected \(count) switches (one per pooled element), got \(switches.count)")
    }
    let limit = Int32(clamping: planeSize)
    if let bad = switches.first(where: { $0 < 0 || $0 >= limit }) {
        throw RWCNNError.argument("\(op): switch \(bad) is outside the input plane of \(planeSize) cells")
    }
}

/// Gradient of max pooling: each output gradient goes to its switch position
/// in the input plane (overlapping windows add). `inputShape` is the pooled
/// layer's input shape [N,C,H,W]; `gradOutput` is [N,C,Ho,Wo].
public func maxPoolBackward(gradOutput: Tensor, switches: [Int32], inputShape: [Int],
                            context: ExecutionContext = .current) throws -> Tensor {
    try maxPoolBackward(gradOutput: gradOutput, switches: switches, inputShape: inputShape, context: context,
                        workspace: nil)
}

/// `maxPoolBackward` with its output from `workspace` when given.
func maxPoolBackward(gradOutput: Tensor, switches: [Int32], inputShape: [Int], context: ExecutionContext,
                     workspace: Workspace?) throws -> Tensor {
    let op = "maxPool backward"
    let x = try requireNCHW(inputShape, "inputShape", op: op)
    let y = try requireNCHW(gradOutput.shape, "gradOutput", op: op)
    guard y.n == x.n, y.c == x.c else {
        throw RWCNNError.argument("\(op): gradOutput \(gradOutput.shape) and inputShape \(inputShape) differ in batch or channels")
    }
    let planeSize = x.h * x.w
    try requireSwitches(switches, count: gradOutput.count, planeSize: planeSize, op: op)
    var grad = try zeroTensor(inputShape, what: "\(op) input gradient", workspace: workspace)
    scatterBySwitches(gradOutput, switches: switches, into: &grad, planes: x.n * x.c, planeSize: planeSize,
                      threads: context.threads)
    return grad
}

/// Adds each value of `source` ([planes, m] elements) into its switch
/// position of the matching plane of `target` ([planes, planeSize]).
/// Switches must have been validated.
func scatterBySwitches(_ source: Tensor, switches: [Int32], into target: inout Tensor, planes: Int, planeSize: Int,
                       threads: Int) {
    let m = source.count / planes
    source.data.withUnsafeBufferPointer { gb in
        switches.withUnsafeBufferPointer { sb in
            target.data.withUnsafeMutableBufferPointer { db in
                guard let g = gb.baseAddress, let s = sb.baseAddress, let d = db.baseAddress else { return }
                parallelFor(planes, threads: threads, minChunk: minChunk(itemCost: m + planeSize / 4)) { ps in
                    for p in ps {
                        let plane = d + p * planeSize
                        for i in (p * m)..<((p + 1) * m) { plane[Int(s[i])] += g[i] }
                    }
                }
            }
        }
    }
}

/// Reads, for each switch, the value at its position in the matching plane
/// of `source` ([planes, planeSize]); returns [planes, m] values in `shape`.
/// Switches must have been validated.
func gatherBySwitches(_ source: Tensor, switches: [Int32], shape: [Int], planes: Int, planeSize: Int,
                      threads: Int, workspace: Workspace? = nil) throws -> Tensor {
    var out = try uninitializedTensor(shape, what: "gather by switches", workspace: workspace)
    let m = out.count / planes
    source.data.withUnsafeBufferPointer { gb in
        switches.withUnsafeBufferPointer { sb in
            out.data.withUnsafeMutableBufferPointer { db in
                guard let g = gb.baseAddress, let s = sb.baseAddress, let d = db.baseAddress else { return }
                parallelFor(planes, threads: threads, minChunk: minChunk(itemCost: m)) { ps in
                    for p in ps {
                        let plane = g + p * planeSize
                        for i in (p * m)..<((p + 1) * m) { d[i] = plane[Int(s[i])] }
                    }
                }
            }
        }
    }
    return out
}
