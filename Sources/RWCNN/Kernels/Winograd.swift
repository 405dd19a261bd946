// Winograd F(4x4, 3x3) convolution for 3x3, stride-1 layers (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016): each 4x4 output
// tile costs 36 multiply-adds per (input, output) channel pair instead of 144.
//
// Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A, with the standard interpolation points
// 0, ±1, ±2 and ∞ (the ±1/2 variants were not needed: the float32 relative
// error against float64 on VGG-like layers with He-scaled weights is 2e-7 to
// 2e-6 normwise, under 7e-6 elementwise at Cin = 512; see WinogradTests).
//
// Layout: the weight transform U is 36 matrices [Cout x Cin]; the image is
// processed in blocks of whole tile rows (T tiles), whose input transform V is
// 36 matrices [Cin x T]; 36 sgemms give M = U V ([Cout x T] each), and the
// output transform turns M back into 4x4 tiles, cropped at the edges. Blocks
// keep V and M a few MiB so they stay in cache between the three stages.
// sgemm is called from this one thread (BLAS has its own threads); the
// transforms use `parallelFor` over channels.

/// Lets tests compare the Winograd and im2col paths of `conv2dForward`.
nonisolated(unsafe) var winogradEnabled = true

/// Floats of V plus M per block (2^20 floats = 4 MiB).
nonisolated(unsafe) var winogradBlockFloats = 1 << 20

/// The most floats of transformed weights held at once (6 Mi floats = 24 MiB,
/// under glibc's 32 MiB limit for reusing freed memory).
nonisolated(unsafe) var winogradWeightFloats = 6 << 20

/// The fewest tiles per block (unless the whole call has fewer).
nonisolated(unsafe) var winogradMinBlockTiles = 128

/// The fewest 4x4 output tiles (over the whole batch) for which Winograd is
/// used. Its fixed cost, the weight transform (36 x Cout x Cin floats, 4x the
/// weights, written and read back every call), grows like the sgemm work per
/// tile, so the break-even is a tile count whatever the channels. Measured on
/// VGG16 layers (2 cores): 128 tiles (14x14, batch 8) gain 10 %, 196 tiles
/// (56x56, batch 1) 30-35 %; 49 tiles (28x28, batch 1) lose 10-15 %.
nonisolated(unsafe) var winogradMinTiles = 128

/// Whether `conv2dForward` takes the Winograd path for this call: 3x3 kernel,
/// stride 1, padding 0 or 1, at least 8 input channels (the 3-channel first
/// layer stays on im2col) and enough tiles (see `winogradMinTiles`).
func winogradApplies(_ call: ConvCall) -> Bool {
    let g = call.geometry
    let tiles = call.batch * ((g.outHeight + 3) / 4) * ((g.outWidth + 3) / 4)
    return winogradEnabled && winogradSupports(call) && g.channels >= 8 && tiles >= winogradMinTiles
}

/// Whether the Winograd kernel can compute this call at all.
func winogradSupports(_ call: ConvCall) -> Bool {
    let g = call.geometry
    return g.kernelH == 3 && g.kernelW == 3 && g.stride == 1 && g.padding <= 1
}

/// `conv2dForward` through Winograd, for calls validated by `convCall` (and
/// `requireBias`) that `winogradSupports`.
func winogradConv2d(_ call: ConvCall, input: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
    guard winogradSupports(call) else {
        throw RWCNNError.argument("conv2d Winograd: needs a 3x3 kernel, stride 1 and padding 0 or 1")
    }
    let g = call.geometry
    var output = try uninitializedTensor([call.batch, call.outChannels, g.outHeight, g.outWidth],
                                         what: "conv2d output")
    try input.data.withUnsafeBufferPointer { xb in
        try weight.data.withUnsafeBufferPointer { wb in
            try output.data.withUnsafeMutableBufferPointer { yb in
                guard let x = xb.baseAddress, let w = wb.baseAddress, let y = yb.baseAddress else { return }
                if let bias {
                    try bias.data.withUnsafeBufferPointer { bb in
                        try winogradConv2dForward(call, x: x, w: w, bias: bb.baseAddress, y: y)
                    }
                } else {
                    try winogradConv2dForward(call, x: x, w: w, bias: nil, y: y)
                }
            }
        }
    }
    return output
}

/// Winograd forward convolution of `x` [N,Cin,H,W] with `w` [Cout,Cin,3,3]
/// into `y` [N,Cout,Ho,Wo], plus `bias` [Cout] when given. The call must
/// satisfy `winogradSupports`.
func winogradConv2dForward(_ call: ConvCall, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) throws {
    let g = call.geometry, cin = g.channels, cout = call.outChannels
    let tilesDown = (g.outHeight + 3) / 4, tilesAcross = (g.outWidth + 3) / 4
    let tileRowCount = call.batch * tilesDown
    // Output channels in groups whose weight transform stays under
    // `winogradWeightFloats`: larger scratch comes as fresh pages from the
    // system on every call, and faulting them in cost more than the convolution.
    // Each group transforms the input again (one group up to 256 x 512 channels).
    let groups = max(1, min(cout, (36 * cout * cin + winogradWeightFloats - 1) / winogradWeightFloats))
    let groupSize = (cout + groups - 1) / groups
    let perTileRow = 36 * (cin + groupSize) * tilesAcross
    // At least `winogradMinBlockTiles` tiles per block: narrower sgemms lose more than the cache gains.
    let minRows = (winogradMinBlockTiles + tilesAcross - 1) / tilesAcross
    let rowsPerBlock = max(1, min(tileRowCount, max(minRows, winogradBlockFloats / max(1, perTileRow))))
    let maxTiles = rowsPerBlock * tilesAcross
    let uCount = try kernelElementCount([36, groupSize, cin], what: "conv2d Winograd weights")
    let vCount = try kernelElementCount([36, cin, maxTiles], what: "conv2d Winograd input block")
    let mCount = try kernelElementCount([36, groupSize, maxTiles], what: "conv2d Winograd output block")
    withScratch(uCount) { u in
        withScratch(vCount) { v in
            withScratch(mCount) { m in
                var firstChannel = 0
                while firstChannel < cout {
                    let channels = firstChannel..<min(cout, firstChannel + groupSize)
                    let co = channels.count
                    winogradWeightTransform(w + firstChannel * cin * 9, into: u, cout: co, cin: cin)
                    var firstRow = 0
                    while firstRow < tileRowCount {
                        let rows = firstRow..<min(tileRowCount, firstRow + rowsPerBlock)
                        let tiles = rows.count * tilesAcross
                        winogradInputTransform(g, x: x, tileRows: rows, tilesDown: tilesDown,
                                               tilesAcross: tilesAcross, into: v)
                        for xi in 0..<36 {
                            // M_xi [co x T] = U_xi [co x Cin] * V_xi [Cin x T]
                            sgemm(transA: false, transB: false, m: co, n: tiles, k: cin,
                                  alpha: 1, a: u + xi * co * cin, lda: cin,
                                  b: v + xi * cin * tiles, ldb: tiles,
                                  beta: 0, c: m + xi * co * tiles, ldc: tiles)
                        }
                        winogradOutputTransform(g, m: m, channels: channels, cout: cout, bias: bias, tileRows: rows,
                                                tilesDown: tilesDown, tilesAcross: tilesAcross, y: y)
                        firstRow = rows.upperBound
                    }
                    firstChannel = channels.upperBound
                }
            }
        }
    }
}

/// U[xi][co][ci] = (G g G^T)[xi] for every 3x3 filter g = w[co][ci], computed
/// in Double (the 1/6 and 1/24 entries of G are not exact in float).
private func winogradWeightTransform(_ w: UnsafePointer<Float>, into u: UnsafeMutablePointer<Float>,
                                     cout: Int, cin: Int) {
    let plane = cout * cin
    parallelFor(cout, minChunk: minChunk(itemCost: cin * 36 * 4)) { cos in
        // Filters are transformed `batch` at a time into `filters` ([batch][36]:
        // each filter's 36 values together, small enough to stay in L1) and then
        // copied out plane by plane. Writing the 36 values straight to 36 rows
        // or planes far apart hit the same cache sets every time and cost 10-30x
        // the arithmetic.
        let batch = 64
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 36 * batch) { scratch in
            let filters = scratch.baseAddress!
            for co in cos {
                var first = 0
                while first < cin {
                    let count = min(batch, cin - first)
                    for j in 0..<count {
                        let f = w + (co * cin + first + j) * 9
                        // t = G f (6x3), one column of f at a time.
                        let c0 = winogradG(Double(f[0]), Double(f[3]), Double(f[6]))
                        let c1 = winogradG(Double(f[1]), Double(f[4]), Double(f[7]))
                        let c2 = winogradG(Double(f[2]), Double(f[5]), Double(f[8]))
                        // U = t G^T: row i of t through G gives values 6i...6i+5.
                        let out = filters + j * 36
                        @inline(__always) func store(_ i: Int, _ r: (Double, Double, Double, Double, Double, Double)) {
                            let row = out + i * 6
                            row[0] = Float(r.0); row[1] = Float(r.1); row[2] = Float(r.2)
                            row[3] = Float(r.3); row[4] = Float(r.4); row[5] = Float(r.5)
                        }
                        store(0, winogradG(c0.0, c1.0, c2.0))
                        store(1, winogradG(c0.1, c1.1, c2.1))
                        store(2, winogradG(c0.2, c1.2, c2.2))
                        store(3, winogradG(c0.3, c1.3, c2.3))
                        store(4, winogradG(c0.4, c1.4, c2.4))
                        store(5, winogradG(c0.5, c1.5, c2.5))
                    }
                    for xi in 0..<36 {
                        let dst = u + xi * plane + co * cin + first
                        var j = 0
                        while j < count { dst[j] = filters[j * 36 + xi]; j &+= 1 }
                    }
                    first += count
                }
            }
        }
    }
}

/// G applied to a 3-vector (the filter side of F(4,3)).
@inline(__always)
private func winogradG(_ g0: Double, _ g1: Double, _ g2: Double)
    -> (Double, Double, Double, Double, Double, Double) {
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
private func winogradInputTransform(_ g: ConvGeometry, x: UnsafePointer<Float>, tileRows: Range<Int>,
                                    tilesDown: Int, tilesAcross: Int, into v: UnsafeMutablePointer<Float>) {
    let cin = g.channels, h = g.height, w = g.width, pad = g.padding
    let tiles = tileRows.count * tilesAcross
    let plane = cin * tiles
    // Padded row width covering every patch: 4 * tilesAcross + 2 >= w + 2 * pad.
    let rowWidth = 4 * tilesAcross + 2
    let perChannel = tileRows.count * 6 * rowWidth * 2
    parallelFor(cin, minChunk: minChunk(itemCost: perChannel)) { cs in
        // Scratch: the 6 vertically transformed rows, and one zero row for rows outside the image.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 7 * rowWidth) { scratch in
            let tv = scratch.baseAddress!, zero = tv + 6 * rowWidth
            zero.initialize(repeating: 0, count: rowWidth)
            // Padding columns of the transformed rows are always zero.
            for k in 0..<6 {
                let row = tv + k * rowWidth
                for xx in 0..<pad { row[xx] = 0 }
                for xx in (w + pad)..<rowWidth { row[xx] = 0 }
            }
            for c in cs {
                for (b, r) in tileRows.enumerated() {
                    let n = r / tilesDown, ti = r % tilesDown
                    let channel = x + (n * cin + c) * h * w
                    let top = 4 * ti - pad
                    @inline(__always) func rowPointer(_ i: Int) -> UnsafePointer<Float> {
                        let yy = top + i
                        return yy >= 0 && yy < h ? channel + yy * w : UnsafePointer(zero)
                    }
                    let r0 = rowPointer(0), r1 = rowPointer(1), r2 = rowPointer(2)
                    let r3 = rowPointer(3), r4 = rowPointer(4), r5 = rowPointer(5)
                    let t0 = tv + pad, t1 = t0 + rowWidth, t2 = t1 + rowWidth
                    let t3 = t2 + rowWidth, t4 = t3 + rowWidth, t5 = t4 + rowWidth
                    // Vertical B^T over the six rows, contiguous along x.
                    var s = 0
                    while s < w {
                        let d0 = r0[s], d1 = r1[s], d2 = r2[s], d3 = r3[s], d4 = r4[s], d5 = r5[s]
                        t0[s] = 4 * d0 - 5 * d2 + d4
                        t1[s] = -4 * (d1 + d2) + (d3 + d4)
                        t2[s] = 4 * (d1 - d2) + (d4 - d3)
                        t3[s] = 2 * (d3 - d1) + (d4 - d2)
                        t4[s] = 2 * (d1 - d3) + (d4 - d2)
                        t5[s] = 4 * d1 - 5 * d3 + d5
                        s &+= 1
                    }
                    // Horizontal B^T per tile, scattered into the 36 planes.
                    let dst = v + c * tiles + b * tilesAcross
                    for k in 0..<6 {
                        let row = tv + k * rowWidth
                        let o0 = dst + 6 * k * plane, o1 = o0 + plane, o2 = o1 + plane
                        let o3 = o2 + plane, o4 = o3 + plane, o5 = o4 + plane
                        var tj = 0
                        while tj < tilesAcross {
                            let a = row + 4 * tj
                            let d0 = a[0], d1 = a[1], d2 = a[2], d3 = a[3], d4 = a[4], d5 = a[5]
                            o0[tj] = 4 * d0 - 5 * d2 + d4
                            o1[tj] = -4 * (d1 + d2) + (d3 + d4)
                            o2[tj] = 4 * (d1 - d2) + (d4 - d3)
                            o3[tj] = 2 * (d3 - d1) + (d4 - d2)
                            o4[tj] = 2 * (d1 - d3) + (d4 - d2)
                            o5[tj] = 4 * d1 - 5 * d3 + d5
                            tj &+= 1
                        }
                    }
                }
            }
        }
    }
}

/// y tiles = A^T M A (+ bias) for every output channel and every tile of the
/// block, for the output channels `channels` (M holds only those), cropped
/// to the output size.
private func winogradOutputTransform(_ g: ConvGeometry, m: UnsafePointer<Float>, channels: Range<Int>, cout: Int,
                                     bias: UnsafePointer<Float>?, tileRows: Range<Int>,
                                     tilesDown: Int, tilesAcross: Int, y: UnsafeMutablePointer<Float>) {
    let ho = g.outHeight, wo = g.outWidth
    let tiles = tileRows.count * tilesAcross
    let plane = channels.count * tiles
    let rowWidth = 4 * tilesAcross
    parallelFor(channels.count, minChunk: minChunk(itemCost: tileRows.count * 6 * rowWidth * 2)) { locals in
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
                    for q in 0..<min(4, ho - firstRow) {
                        let out = outPlane + (firstRow + q) * wo
                        var x = 0
                        switch q {
                        case 0:
                            while x < wo { out[x] = s0[x] + (s1[x] + s2[x]) + (s3[x] + s4[x]) + b0; x &+= 1 }
                        case 1:
                            while x < wo { out[x] = (s1[x] - s2[x]) + 2 * (s3[x] - s4[x]) + b0; x &+= 1 }
                        case 2:
                            while x < wo { out[x] = (s1[x] + s2[x]) + 4 * (s3[x] + s4[x]) + b0; x &+= 1 }
                        default:
                            while x < wo { out[x] = (s1[x] - s2[x]) + 8 * (s3[x] - s4[x]) + s5[x] + b0; x &+= 1 }
                        }
                    }
                }
            }
        }
    }
}
