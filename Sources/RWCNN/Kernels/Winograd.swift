// Winograd F(4x4, 3x3) convolution for 3x3, stride-1 layers (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016): each 4x4 output
// tile costs 36 multiply-adds per (input, output) channel pair instead of 144.
//
// Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A, with the standard interpolation points
// 0, ±1, ±2 and ∞ (the ±1/2 variants were not needed: the float32 relative
// error against float64 on VGG-like layers with He-scaled weights is 2e-7 to
// 2.3e-6 normwise, the larger with OpenBLAS's SkylakeX kernels, and under
// 7e-6 elementwise at Cin = 512; WinogradTests allow 3e-6 and 7e-6).
//
// A 3x3 stride-1 transposed convolution with padding p is the convolution
// with padding 2 - p whose kernel is flipped in both axes and whose channel
// axes are swapped, so the decoder's forward pass and the backward-data pass
// of both kinds take this path too (`WinogradFilters.transposed`).
//
// Layout: the weight transform U is 36 matrices [Cout x Cin]; the image is
// processed in blocks of whole tile rows (T tiles), whose input transform V is
// 36 matrices [Cin x T]; 36 sgemms give M = U V ([Cout x T] each), and the
// output transform turns M back into 4x4 tiles, cropped at the edges. Blocks
// keep V and M a few MiB so they stay in cache between the three stages.
//
// Threads: with at least as many blocks as threads, each thread runs whole
// blocks (its own V and M, every stage single-threaded, so the three stages
// of a block stay in one core's cache); with fewer blocks, each stage is
// split (transforms by channel, the 36 sgemms between the threads).

/// The shape of the convolution Winograd computes: input [batch, cin, h, w]
/// with zero padding `padding`, output [batch, cout, outHeight, outWidth].
struct WinogradShape: Equatable {
    let batch, cin, cout, height, width, padding: Int
    var outHeight: Int { height + 2 * padding - 2 }
    var outWidth: Int { width + 2 * padding - 2 }
    var tilesDown: Int { (outHeight + 3) / 4 }
    var tilesAcross: Int { (outWidth + 3) / 4 }
    /// 4x4 output tiles over the whole batch.
    var tiles: Int { batch * tilesDown * tilesAcross }

    /// The forward convolution of a validated `convCall`.
    init(conv call: ConvCall) {
        let g = call.geometry
        batch = call.batch; cin = g.channels; cout = call.outChannels
        height = g.height; width = g.width; padding = g.padding
    }

    /// The convolution that a validated stride-1 `convTransposeCall` is:
    /// input [N, Cin_t, H, W], output [N, Cout_t, Ho, Wo], padding k-1-p.
    init(transposed call: ConvCall) {
        let g = call.geometry
        batch = call.batch; cin = call.outChannels; cout = g.channels
        height = g.outHeight; width = g.outWidth; padding = g.kernelH - 1 - g.padding
    }

    init(batch: Int, cin: Int, cout: Int, height: Int, width: Int, padding: Int) {
        self.batch = batch; self.cin = cin; self.cout = cout
        self.height = height; self.width = width; self.padding = padding
    }

    /// Whether the kernel computes this convolution (3x3 is checked by the caller).
    var isSupported: Bool { padding >= 0 && padding <= 2 && outHeight >= 1 && outWidth >= 1 }

    /// Whether Winograd pays for this convolution: at least 8 input channels
    /// (the 3-channel first layer stays on im2col) and enough tiles.
    /// With `cached` weights (transformed once, outside the call) the
    /// threshold is `winogradMinTilesCached`.
    func pays(_ tuning: KernelTuning, cached: Bool = false) -> Bool {
        tuning.winograd && isSupported && cin >= 8
            && tiles >= (cached ? tuning.winogradMinTilesCached : tuning.winogradMinTiles)
    }
}

/// How the 3x3 filters of a Winograd convolution are stored.
enum WinogradFilters {
    /// A conv2d weight [Cout, Cin, 3, 3], used as is.
    case conv(UnsafePointer<Float>)
    /// A convTranspose2d weight [Cin_t = Cin, Cout_t = Cout, 3, 3] (or a
    /// conv2d weight [Cout_c = Cin, Cin_c = Cout] whose input gradient is
    /// wanted): flipped in both axes, channel axes swapped.
    case transposed(UnsafePointer<Float>)
    /// Filters already transformed by `winogradTransformedWeights`: 36
    /// matrices [Cout x Cin].
    case transformed(UnsafePointer<Float>)
}

/// Whether `conv2dForward` takes the Winograd path for this call: 3x3 kernel,
/// stride 1, padding 0 or 1, and `WinogradShape.pays`.
func winogradApplies(_ call: ConvCall, tuning: KernelTuning) -> Bool {
    winogradSupports(call) && WinogradShape(conv: call).pays(tuning)
}

/// Whether the Winograd kernel can compute this conv2d call at all.
func winogradSupports(_ call: ConvCall) -> Bool {
    let g = call.geometry
    return g.kernelH == 3 && g.kernelW == 3 && g.stride == 1 && g.padding <= 1
}

/// Whether a stride-1 convTranspose2d call (or the input gradient of a
/// conv2d, which is one) takes the Winograd path.
func winogradAppliesTransposed(_ call: ConvCall, tuning: KernelTuning, cached: Bool = false) -> Bool {
    let g = call.geometry
    return g.kernelH == 3 && g.kernelW == 3 && g.stride == 1 && g.padding <= 2
        && WinogradShape(transposed: call).pays(tuning, cached: cached)
}

/// `conv2dForward` through Winograd, for calls validated by `convCall` (and
/// `requireBias`) that `winogradSupports`.
func winogradConv2d(_ call: ConvCall, input: Tensor, weight: any WeightValues, bias: (any WeightValues)?,
                    context: ExecutionContext) throws -> Tensor {
    guard winogradSupports(call) else {
        throw RWCNNError.argument("conv2d Winograd: needs a 3x3 kernel, stride 1 and padding 0 or 1")
    }
    let shape = WinogradShape(conv: call)
    var output = try uninitializedTensor([shape.batch, shape.cout, shape.outHeight, shape.outWidth],
                                         what: "conv2d output")
    try winogradConvolve(shape, input: input, weight: weight, layout: .conv, transformed: nil, bias: bias,
                         relu: false, into: &output, context: context, workspace: nil)
    return output
}

/// How a Winograd call reads an untransformed weight tensor.
enum WinogradWeightLayout {
    /// A conv2d weight (`WinogradFilters.conv`).
    case conv
    /// Flipped, channel axes swapped (`WinogradFilters.transposed`).
    case transposed
}

/// `winogradConvolve` on tensors: `input` into `output`, with the cached
/// `transformed` filters when they are this shape's, else `weight` read as
/// `layout`.
func winogradConvolve(_ shape: WinogradShape, input: Tensor, weight: any WeightValues, layout: WinogradWeightLayout,
                      transformed: [Float]?, bias: (any WeightValues)?, relu: Bool, into output: inout Tensor,
                      context: ExecutionContext, workspace: Workspace?) throws {
    try input.data.withUnsafeBufferPointer { xb in
        try weight.withValues { wb in
            try output.data.withUnsafeMutableBufferPointer { yb in
                try withOptionalPointer(bias) { b in
                    func run(_ filters: WinogradFilters) throws {
                        try winogradConvolve(shape, x: xb.baseAddress!, filters: filters, bias: b, relu: relu,
                                             y: yb.baseAddress!, context: context, workspace: workspace)
                    }
                    if let transformed, transformed.count == winogradTransformedCount(shape) {
                        try transformed.withUnsafeBufferPointer { try run(.transformed($0.baseAddress!)) }
                    } else {
                        try run(layout == .conv ? .conv(wb.baseAddress!) : .transposed(wb.baseAddress!))
                    }
                }
            }
        }
    }
}

/// Runs `body` with the values' storage, or nil.
func withOptionalPointer<R>(_ t: (any WeightValues)?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
    guard let t else { return try body(nil) }
    return try t.withValues { try body($0.baseAddress) }
}

/// The distance (floats) between two of the 36 planes of a V or M block
/// holding `count` floats each: rounded up to whole 64-byte lines, an odd
/// number of them. The transforms read or write all 36 planes at once; with
/// plane sizes a multiple of 4 KiB (64 channels x 256 tiles, say) those 36
/// streams fell into the same cache sets and the input transform alone took
/// a sixth of a training step. An odd line stride puts them in 36 sets.
func winogradPlaneStride(_ count: Int) -> Int {
    var lines = (count + 15) / 16
    if lines % 2 == 0 { lines += 1 }
    return lines * 16
}

/// Floats of `winogradTransformedWeights` for a shape: 36 x Cout x Cin.
func winogradTransformedCount(_ s: WinogradShape) -> Int { 36 * s.cout * s.cin }

/// Transforms all filters of a convolution into `u` (36 matrices [Cout x
/// Cin]), for reuse across calls while the weights do not change.
func winogradTransformedWeights(_ s: WinogradShape, filters: WinogradFilters, into u: UnsafeMutablePointer<Float>,
                                threads: Int) {
    switch filters {
    case .transformed(let t): u.update(from: t, count: winogradTransformedCount(s))
    case .conv, .transposed:
        winogradWeightTransform(filters, channels: 0..<s.cout, cout: s.cout, cin: s.cin, into: u, threads: threads)
    }
}

/// How `winogradConvolve` splits one call: output channels in groups (for
/// untransformed filters), tile rows in blocks, and whether threads take
/// whole blocks. One home for the layout, so the kernel and the memory
/// estimate (`WorkingMemory`) agree.
struct WinogradBlocking {
    /// Output channels per weight-transform group (all of them for transformed filters).
    let groupSize: Int
    let rowsPerBlock: Int
    let blocks: Int
    /// Whether each thread runs whole blocks (with its own V and M).
    let blockParallel: Bool
    /// Threads that hold a V and an M at once.
    let workers: Int
    /// Floats of the weight transform U (0 for transformed filters), of V and of M.
    let uFloats: Int, vFloats: Int, mFloats: Int

    init(_ s: WinogradShape, transformed: Bool, tuning: KernelTuning, threads: Int) {
        let cin = s.cin, cout = s.cout, tilesAcross = s.tilesAcross
        let tileRowCount = s.batch * s.tilesDown
        // Untransformed filters: output channels in groups whose weight transform
        // stays under `winogradWeightFloats` (larger scratch comes as fresh pages
        // from the system on every call, and faulting them in cost more than the
        // convolution). Each group transforms the input again.
        var groupSize = cout
        if !transformed {
            let groups = max(1, min(cout, (36 * cout * cin + tuning.winogradWeightFloats - 1) / tuning.winogradWeightFloats))
            groupSize = (cout + groups - 1) / groups
        }
        let perTileRow = 36 * (cin + groupSize) * tilesAcross
        // At least `winogradMinBlockTiles` tiles per block: narrower sgemms lose more than the cache gains.
        let minRows = (tuning.winogradMinBlockTiles + tilesAcross - 1) / tilesAcross
        var rowsPerBlock = max(1, min(tileRowCount, max(minRows, tuning.winogradBlockFloats / max(1, perTileRow))))
        var blocks = (tileRowCount + rowsPerBlock - 1) / rowsPerBlock
        let blockParallel = threads > 1 && blocks >= threads
        if blockParallel {
            // A multiple of the thread count, as even as whole tile rows allow.
            blocks = (blocks + threads - 1) / threads * threads
            rowsPerBlock = (tileRowCount + blocks - 1) / blocks
            blocks = (tileRowCount + rowsPerBlock - 1) / rowsPerBlock
        }
        self.groupSize = groupSize
        self.rowsPerBlock = rowsPerBlock
        self.blocks = blocks
        self.blockParallel = blockParallel
        workers = blockParallel ? min(threads, blocks) : 1
        let maxTiles = rowsPerBlock * tilesAcross
        uFloats = transformed ? 0 : 36 * groupSize * cin
        vFloats = 36 * cin * maxTiles
        mFloats = 36 * groupSize * maxTiles
    }

    /// Scratch floats held at once: U plus every worker's V and M.
    var scratchFloats: Int { uFloats + workers * (vFloats + mFloats) }
}

/// Winograd convolution of `x` [N,Cin,H,W] into `y` [N,Cout,Ho,Wo], plus
/// `bias` [Cout] when given, then ReLU when `relu`.
func winogradConvolve(_ s: WinogradShape, x: UnsafePointer<Float>, filters: WinogradFilters,
                      bias: UnsafePointer<Float>?, relu: Bool, y: UnsafeMutablePointer<Float>,
                      context: ExecutionContext, workspace: Workspace? = nil) throws {
    let cin = s.cin, cout = s.cout, threads = context.threads
    let tilesAcross = s.tilesAcross
    let tileRowCount = s.batch * s.tilesDown
    var transformed = false
    if case .transformed = filters { transformed = true }
    let layout = WinogradBlocking(s, transformed: transformed, tuning: context.tuning, threads: threads)
    let groupSize = layout.groupSize, rowsPerBlock = layout.rowsPerBlock, blocks = layout.blocks
    let blockParallel = layout.blockParallel
    let maxTiles = rowsPerBlock * tilesAcross
    let uCount = try kernelElementCount([36, groupSize, cin], what: "Winograd weights")
    let vCount = try kernelElementCount([36, winogradPlaneStride(cin * maxTiles)], what: "Winograd input block")
    let mCount = try kernelElementCount([36, winogradPlaneStride(groupSize * maxTiles)], what: "Winograd output block")
    let single = context.withThreads(1)

    // One block: input transform, 36 products, output transform.
    func run(block: Int, u: UnsafePointer<Float>, channels: Range<Int>, v: UnsafeMutablePointer<Float>,
             m: UnsafeMutablePointer<Float>, stageThreads: Int) {
        let rows = (block * rowsPerBlock)..<min(tileRowCount, (block + 1) * rowsPerBlock)
        let tiles = rows.count * tilesAcross, co = channels.count
        let vPlane = winogradPlaneStride(cin * tiles), mPlane = winogradPlaneStride(co * tiles)
        winogradInputTransform(s, x: x, tileRows: rows, into: v, planeStride: vPlane, threads: stageThreads)
        parallelFor(36, threads: stageThreads) { xis in
            for xi in xis {
                // M_xi [co x T] = U_xi [co x Cin] * V_xi [Cin x T]
                sgemm(transA: false, transB: false, m: co, n: tiles, k: cin,
                      alpha: 1, a: u + xi * co * cin, lda: cin,
                      b: v + xi * vPlane, ldb: tiles,
                      beta: 0, c: m + xi * mPlane, ldc: tiles, context: single)
            }
        }
        winogradOutputTransform(s, m: m, planeStride: mPlane, channels: channels, bias: bias, relu: relu,
                                tileRows: rows, y: y, threads: stageThreads)
    }

    // Each thread's V and M blocks, from the workspace when there is one
    // (fetched here, on the calling thread), else allocated for the call.
    let workers = blockParallel ? threads : 1
    var planned: [(v: UnsafeMutablePointer<Float>, m: UnsafeMutablePointer<Float>)] = []
    if let workspace {
        for t in 0..<workers {
            planned.append((workspace.scratch(ScratchSlot.winogradBlocks + 2 * t, count: vCount),
                            workspace.scratch(ScratchSlot.winogradBlocks + 2 * t + 1, count: mCount)))
        }
    }
    func withBlocks(_ t: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        if t < planned.count { body(planned[t].v, planned[t].m); return }
        withScratch(vCount) { v in withScratch(mCount) { m in body(v, m) } }
    }

    func runGroup(u: UnsafePointer<Float>, channels: Range<Int>) {
        if blockParallel {
            // Thread t runs blocks t*blocks/threads ..< (t+1)*blocks/threads.
            parallelFor(threads, threads: threads) { ts in
                for t in ts {
                    withBlocks(t) { v, m in
                        for b in (t * blocks / threads)..<((t + 1) * blocks / threads) {
                            run(block: b, u: u, channels: channels, v: v, m: m, stageThreads: 1)
                        }
                    }
                }
            }
        } else {
            withBlocks(0) { v, m in
                for b in 0..<blocks { run(block: b, u: u, channels: channels, v: v, m: m, stageThreads: threads) }
            }
        }
    }

    if case .transformed(let u) = filters {
        runGroup(u: u, channels: 0..<cout)
        return
    }
    withScratch(uCount, in: workspace, slot: ScratchSlot.winogradWeights) { u in
        var first = 0
        while first < cout {
            let channels = first..<min(cout, first + groupSize)
            winogradWeightTransform(filters, channels: channels, cout: cout, cin: cin, into: u, threads: threads)
            runGroup(u: u, channels: channels)
            first = channels.upperBound
        }
    }
}

/// U[xi][co - first][ci] = (G g G^T)[xi] for every 3x3 filter g of the
/// output channels `channels` (first = channels.lowerBound), computed in
/// Double (the 1/6 and 1/24 entries of G are not exact in float).
private func winogradWeightTransform(_ filters: WinogradFilters, channels: Range<Int>, cout: Int, cin: Int,
                                     into u: UnsafeMutablePointer<Float>, threads: Int) {
    let plane = channels.count * cin
    // Where filter g[co][ci] is: tap i (row-major) of it is
    // base(co)[ci * laneStride + i * tapStride].
    let w: UnsafePointer<Float>, laneStride: Int, tapStride: Int, firstTap: Int, channelStride: Int
    switch filters {
    case .conv(let p): w = p; laneStride = 9; tapStride = 1; firstTap = 0; channelStride = cin * 9
    case .transposed(let p): w = p; laneStride = cout * 9; tapStride = -1; firstTap = 8; channelStride = 9
    case .transformed: return
    }
    parallelFor(channels.count, threads: threads, minChunk: minChunk(itemCost: cin * 36 * 4)) { locals in
        // Four filters at a time, one per SIMD lane (each lane does the scalar
        // Double arithmetic, so the result is the same bit for bit), `batch`
        // at a time into `staged` ([36][batch], small enough to stay in L1),
        // then copied out as 36 contiguous runs. Writing the 36 values
        // straight to 36 planes far apart hit the same cache sets every time
        // and cost 10-30x the arithmetic.
        let batch = 64
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 36 * batch) { scratch in
            let staged = scratch.baseAddress!
            for local in locals {
                let co = channels.lowerBound + local
                let base = w + co * channelStride + firstTap
                var first = 0
                while first < cin {
                    let count = min(batch, cin - first)
                    var j = 0
                    while j < count {
                        // Lanes past `count` read zeros; their values are never copied out.
                        let lanes = min(4, count - j), p = base + (first + j) * laneStride
                        @inline(__always) func tap(_ i: Int) -> SIMD4<Double> {
                            let o = i * tapStride
                            if lanes == 4 {
                                return SIMD4<Double>(SIMD4<Float>(p[o], p[laneStride + o], p[2 * laneStride + o],
                                                                  p[3 * laneStride + o]))
                            }
                            var t = SIMD4<Float>()
                            for l in 0..<lanes { t[l] = p[l * laneStride + o] }
                            return SIMD4<Double>(t)
                        }
                        // t = G f (6x3), one column of f at a time.
                        let c0 = winogradG(tap(0), tap(3), tap(6))
                        let c1 = winogradG(tap(1), tap(4), tap(7))
                        let c2 = winogradG(tap(2), tap(5), tap(8))
                        // U = t G^T: row i of t through G gives planes 6i...6i+5.
                        let out = UnsafeMutableRawPointer(staged + j)
                        @inline(__always) func store(_ i: Int, _ r: WinogradSix) {
                            let stride = MemoryLayout<Float>.stride * batch, row = 6 * i * stride
                            out.storeBytes(of: SIMD4<Float>(r.0), toByteOffset: row, as: SIMD4<Float>.self)
                            out.storeBytes(of: SIMD4<Float>(r.1), toByteOffset: row + stride, as: SIMD4<Float>.self)
                            out.storeBytes(of: SIMD4<Float>(r.2), toByteOffset: row + 2 * stride, as: SIMD4<Float>.self)
                            out.storeBytes(of: SIMD4<Float>(r.3), toByteOffset: row + 3 * stride, as: SIMD4<Float>.self)
                            out.storeBytes(of: SIMD4<Float>(r.4), toByteOffset: row + 4 * stride, as: SIMD4<Float>.self)
                            out.storeBytes(of: SIMD4<Float>(r.5), toByteOffset: row + 5 * stride, as: SIMD4<Float>.self)
                        }
                        store(0, winogradG(c0.0, c1.0, c2.0))
                        store(1, winogradG(c0.1, c1.1, c2.1))
                        store(2, winogradG(c0.2, c1.2, c2.2))
                        store(3, winogradG(c0.3, c1.3, c2.3))
                        store(4, winogradG(c0.4, c1.4, c2.4))
                        store(5, winogradG(c0.5, c1.5, c2.5))
                        j &+= 4
                    }
                    for xi in 0..<36 {
                        (u + xi * plane + local * cin + first).update(from: staged + xi * batch, count: count)
                    }
                    first += count
                }
            }
        }
    }
}

/// Six values of a column of G g, four filters at a time.
private typealias WinogradSix = (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>,
                                 SIMD4<Double>)

/// G applied to a 3-vector (the filter side of F(4,3)), one filter per lane.
@inline(__always)
private func winogradG(_ g0: SIMD4<Double>, _ g1: SIMD4<Double>, _ g2: SIMD4<Double>) -> WinogradSix {
    // Multiplications by reciprocals: divisions here dominated the whole transform.
    let sixth = 1.0 / 6, twelfth = 1.0 / 12, twentyFourth = 1.0 / 24
    let even = g0 + g2, outer = g0 * twentyFourth + g2 * sixth, middle = g1 * twelfth
    return (g0 * 0.25,
            -(even + g1) * sixth,
            -(even - g1) * sixth,
            outer + middle,
            outer - middle,
            g2)
}

/// V[xi][c][t] = (B^T d B)[xi] for every channel c and every tile t of the
/// block (tile rows `tileRows`, each of `tilesAcross` tiles; global tile row r
/// is image r / tilesDown, tile row r % tilesDown). d is the 6x6 input patch
/// whose top-left corner is (4 ti - padding, 4 tj - padding), zero outside.
func winogradInputTransform(_ g: WinogradShape, x: UnsafePointer<Float>, tileRows: Range<Int>,
                            into v: UnsafeMutablePointer<Float>, planeStride plane: Int, threads: Int) {
    winogradTileTransform(WinogradInputStrip.self, source: x, channels: g.cin, height: g.height, width: g.width,
                          padding: g.padding, tilesDown: g.tilesDown, tilesAcross: g.tilesAcross,
                          tileRows: tileRows, into: v, planeStride: plane, threads: threads)
}

/// y tiles = A^T M A (+ bias, then ReLU when `relu`) for every output
/// channel and every tile of the block, for the output channels `channels`
/// (M holds only those), cropped to the output size. Bias and ReLU are
/// applied while the row is in registers, in the store itself.
private func winogradOutputTransform(_ g: WinogradShape, m: UnsafePointer<Float>, planeStride plane: Int,
                                     channels: Range<Int>, bias: UnsafePointer<Float>?, relu: Bool,
                                     tileRows: Range<Int>, y: UnsafeMutablePointer<Float>, threads: Int) {
    let ho = g.outHeight, wo = g.outWidth, cout = g.cout
    let tilesDown = g.tilesDown, tilesAcross = g.tilesAcross
    let tiles = tileRows.count * tilesAcross
    let rowWidth = 4 * tilesAcross
    parallelFor(channels.count, threads: threads, minChunk: minChunk(itemCost: tileRows.count * 6 * rowWidth * 2)) { locals in
        // Scratch: the six rows of M after the horizontal A^T, 4 values per tile.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * rowWidth) { scratch in
            let s = scratch.baseAddress!
            for local in locals {
                let co = channels.lowerBound + local
                let b0 = bias?[co] ?? 0
                for (b, r) in tileRows.enumerated() {
                    let n = r / tilesDown, ti = r % tilesDown
                    let src = m + local * tiles + b * tilesAcross
                    for k in 0..<6 {
                        let i0 = src + 6 * k * plane, i1 = i0 + plane, i2 = i1 + plane
                        let i3 = i2 + plane, i4 = i3 + plane, i5 = i4 + plane
                        let row = s + k * rowWidth
                        var tj = 0
                        // Four tiles at a time, one per lane, their 4 values each put back
                        // in tile order by a 4x4 transpose (same arithmetic as the tail).
                        while tj &+ 4 <= tilesAcross {
                            @inline(__always) func load(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
                                UnsafeRawPointer(p + tj).loadUnaligned(as: SIMD4<Float>.self)
                            }
                            let m0 = load(i0), m1 = load(i1), m2 = load(i2), m3 = load(i3), m4 = load(i4), m5 = load(i5)
                            let p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4
                            let q0 = m0 + p12 + p34
                            let q1 = d12 + SIMD4(repeating: 2) * d34
                            let q2 = p12 + SIMD4(repeating: 4) * p34
                            let q3 = d12 + SIMD4(repeating: 8) * d34 + m5
                            let o = UnsafeMutableRawPointer(row + 4 * tj)
                            o.storeBytes(of: SIMD4(q0[0], q1[0], q2[0], q3[0]), as: SIMD4<Float>.self)
                            o.storeBytes(of: SIMD4(q0[1], q1[1], q2[1], q3[1]), toByteOffset: 16, as: SIMD4<Float>.self)
                            o.storeBytes(of: SIMD4(q0[2], q1[2], q2[2], q3[2]), toByteOffset: 32, as: SIMD4<Float>.self)
                            o.storeBytes(of: SIMD4(q0[3], q1[3], q2[3], q3[3]), toByteOffset: 48, as: SIMD4<Float>.self)
                            tj &+= 4
                        }
                        while tj < tilesAcross {
                            let m0 = i0[tj], m1 = i1[tj], m2 = i2[tj], m3 = i3[tj], m4 = i4[tj], m5 = i5[tj]
                            let p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4
                            let o = row + 4 * tj
                            o[0] = m0 + p12 + p34
                            o[1] = d12 + 2 * d34
                            o[2] = p12 + 4 * p34
                            o[3] = d12 + 8 * d34 + m5
                            tj &+= 1
                        }
                    }
                    // Vertical A^T, contiguous along x, written straight into the output rows.
                    let s0 = s, s1 = s0 + rowWidth, s2 = s1 + rowWidth
                    let s3 = s2 + rowWidth, s4 = s3 + rowWidth, s5 = s4 + rowWidth
                    let outPlane = y + (n * cout + co) * ho * wo
                    let firstRow = 4 * ti
                    // ReLU in the same store: values below `floor` become it (-infinity
                    // leaves every value, NaN included, as it is).
                    let floor: Float = relu ? 0 : -.infinity
                    for q in 0..<min(4, ho - firstRow) {
                        let out = outPlane + (firstRow + q) * wo
                        var x = 0
                        switch q {
                        case 0:
                            while x < wo {
                                let v = s0[x] + (s1[x] + s2[x]) + (s3[x] + s4[x]) + b0
                                out[x] = v < floor ? floor : v; x &+= 1
                            }
                        case 1:
                            while x < wo {
                                let v = (s1[x] - s2[x]) + 2 * (s3[x] - s4[x]) + b0
                                out[x] = v < floor ? floor : v; x &+= 1
                            }
                        case 2:
                            while x < wo {
                                let v = (s1[x] + s2[x]) + 4 * (s3[x] + s4[x]) + b0
                                out[x] = v < floor ? floor : v; x &+= 1
                            }
                        default:
                            while x < wo {
                                let v = (s1[x] - s2[x]) + 8 * (s3[x] - s4[x]) + s5[x] + b0
                                out[x] = v < floor ? floor : v; x &+= 1
                            }
                        }
                    }
                }
            }
        }
    }
}
