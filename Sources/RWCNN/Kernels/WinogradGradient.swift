// Weight gradients of 3x3 stride-1 convolutions through Winograd F(4x4, 3x3).
//
// The forward pass of a tile is y_t = A^T [ U ⊙ V_t ] A with U = G g G^T and
// V_t = B^T d_t B (Winograd.swift). For a loss L with gradient dy_t at the
// tile (zero past the output's edges), dL/dU = sum_t (A dy_t A^T) ⊙ V_t, and
// dL/dg = G^T (dL/dU) G. So the weight gradient is 36 products
//     dU_xi [Cout x Cin] = Z_xi [Cout x T] * V_xi^T [T x Cin],
// with Z_t = A dy_t A^T (6x6 from each 4x4 tile of dy) and V the input
// transform of the forward pass, summed over every tile of the batch, then
// one 6x6 -> 3x3 transform per filter. That is 36 multiply-adds per tile and
// channel pair instead of the 144 of the direct form (im2col + GEMM).
//
// The tiles are processed in blocks (whole tile rows); each block's V and Z
// are made by all threads (split by channel), then its 36 products are split
// between the threads, each product accumulating into its own dU_xi (beta 1
// after the first block). Every dU_xi is thus one chain of products in a
// fixed order, and the result does not depend on the thread count.
//
// A transposed convolution is the convolution with the flipped kernel and
// swapped channel axes (Winograd.swift), so its weight gradient is this one,
// flipped back (`WinogradWeightLayout.transposed`).

extension WinogradShape {
    /// Whether the weight gradient of this convolution takes the Winograd
    /// path: at least 8 channels on both sides (the products are
    /// Cout x Cin) and `KernelTuning.winogradGradientMinTiles` tiles.
    func gradientPays(_ tuning: KernelTuning) -> Bool {
        tuning.winograd && isSupported && cin >= 8 && cout >= 8 && tiles >= tuning.winogradGradientMinTiles
    }
}

/// How `winogradWeightGradient` splits its tiles into blocks; one home for
/// the layout, so the kernel and the memory estimate agree.
struct WinogradGradientBlocking {
    let rowsPerBlock: Int
    let blocks: Int
    /// Floats of dU, of one V block and of one Z block (plane strides included).
    let uFloats: Int, vFloats: Int, zFloats: Int

    init(_ s: WinogradShape, tuning: KernelTuning) {
        let tilesAcross = s.tilesAcross, tileRowCount = s.batch * s.tilesDown
        let perTileRow = 36 * (s.cin + s.cout) * tilesAcross
        // Long products (many tiles per block) first: each block reads and
        // writes all of dU once, so short blocks would be dominated by it.
        let minRows = (tuning.winogradGradientMinBlockTiles + tilesAcross - 1) / tilesAcross
        rowsPerBlock = max(1, min(tileRowCount, max(minRows, tuning.winogradGradientBlockFloats / max(1, perTileRow))))
        blocks = (tileRowCount + rowsPerBlock - 1) / rowsPerBlock
        let maxTiles = rowsPerBlock * tilesAcross
        uFloats = 36 * winogradPlaneStride(s.cout * s.cin)
        vFloats = 36 * winogradPlaneStride(s.cin * maxTiles)
        zFloats = 36 * winogradPlaneStride(s.cout * maxTiles)
    }

    /// Scratch floats held at once.
    var scratchFloats: Int { uFloats + vFloats + zFloats }
}

/// The weight gradient of the convolution `s` of `x` [N,Cin,H,W] given the
/// gradient `dy` [N,Cout,Ho,Wo] at its output, written (not added) to `gw`:
/// [Cout, Cin, 3, 3] for `.conv`, or the transposed convolution's weight
/// [Cin, Cout, 3, 3] flipped for `.transposed`. Scratch comes from
/// `workspace` (the slots of the Winograd forward, which never runs at the
/// same time) when given.
func winogradWeightGradient(_ s: WinogradShape, x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>,
                            layout: WinogradWeightLayout, into gw: UnsafeMutablePointer<Float>,
                            context: ExecutionContext, workspace: Workspace?) throws {
    let cin = s.cin, cout = s.cout, threads = context.threads
    let tilesAcross = s.tilesAcross, tileRowCount = s.batch * s.tilesDown
    let plan = WinogradGradientBlocking(s, tuning: context.tuning)
    _ = try kernelElementCount([plan.uFloats + plan.vFloats + plan.zFloats], what: "Winograd gradient scratch")
    let uPlane = winogradPlaneStride(cout * cin)
    let single = context.withThreads(1)
    withScratch(plan.uFloats, in: workspace, slot: ScratchSlot.winogradWeights) { du in
        withScratch(plan.vFloats, in: workspace, slot: ScratchSlot.winogradBlocks) { v in
            withScratch(plan.zFloats, in: workspace, slot: ScratchSlot.winogradBlocks + 1) { z in
                for block in 0..<plan.blocks {
                    let rows = (block * plan.rowsPerBlock)..<min(tileRowCount, (block + 1) * plan.rowsPerBlock)
                    let tiles = rows.count * tilesAcross
                    let vPlane = winogradPlaneStride(cin * tiles), zPlane = winogradPlaneStride(cout * tiles)
                    winogradInputTransform(s, x: x, tileRows: rows, into: v, planeStride: vPlane, threads: threads)
                    winogradGradientTransform(s, dy: dy, tileRows: rows, into: z, planeStride: zPlane, threads: threads)
                    let beta: Float = block == 0 ? 0 : 1
                    parallelFor(36, threads: threads) { xis in
                        for xi in xis {
                            // dU_xi [Cout x Cin] (+)= Z_xi [Cout x T] * V_xi^T [T x Cin]
                            sgemm(transA: false, transB: true, m: cout, n: cin, k: tiles,
                                  alpha: 1, a: z + xi * zPlane, lda: tiles, b: v + xi * vPlane, ldb: tiles,
                                  beta: beta, c: du + xi * uPlane, ldc: cin, context: single)
                        }
                    }
                }
                winogradGradientFilters(du, planeStride: uPlane, cout: cout, cin: cin, layout: layout, into: gw,
                                        threads: threads)
            }
        }
    }
}

/// Z[xi][co][t] = (A dy_t A^T)[xi] for every output channel and every tile
/// of the block (tile rows `tileRows`, as in the input transform): the 4x4
/// tile of `dy` at (4 ti, 4 tj), zero past the output's edges, expanded to
/// 6x6 by A (6x4), the transpose of the output transform's A^T.
private func winogradGradientTransform(_ g: WinogradShape, dy: UnsafePointer<Float>, tileRows: Range<Int>,
                                       into z: UnsafeMutablePointer<Float>, planeStride plane: Int, threads: Int) {
    winogradTileTransform(WinogradGradientStrip.self, source: dy, channels: g.cout, height: g.outHeight,
                          width: g.outWidth, padding: 0, tilesDown: g.tilesDown, tilesAcross: g.tilesAcross,
                          tileRows: tileRows, into: z, planeStride: plane, threads: threads)
}

/// dg = G^T dU G for every filter (computed in Double: G's 1/6 and 1/24 are
/// not exact in float), written to `gw` in `layout`.
private func winogradGradientFilters(_ du: UnsafePointer<Float>, planeStride plane: Int, cout: Int, cin: Int,
                                     layout: WinogradWeightLayout, into gw: UnsafeMutablePointer<Float>,
                                     threads: Int) {
    // Where dg[co][ci] goes: tap i (row-major) of it is
    // gw[co * channelStride + ci * laneStride + firstTap + i * tapStride].
    let channelStride: Int, laneStride: Int, firstTap: Int, tapStride: Int
    switch layout {
    case .conv: channelStride = cin * 9; laneStride = 9; firstTap = 0; tapStride = 1
    case .transposed: channelStride = 9; laneStride = cout * 9; firstTap = 8; tapStride = -1
    }
    parallelFor(cout, threads: threads, minChunk: minChunk(itemCost: cin * 36 * 4)) { cs in
        // Each filter's 36 values are gathered `batch` filters at a time
        // (`staged` is [36][batch]: 36 contiguous runs, one per plane), then
        // transformed four at a time, one per SIMD lane (each lane does the
        // scalar Double arithmetic, so the result is the same bit for bit).
        let batch = 64
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 36 * batch) { scratch in
            let staged = scratch.baseAddress!
            // Lanes past `count` compute on these zeros and are never stored.
            staged.initialize(repeating: 0, count: 36 * batch)
            for co in cs {
                let base = gw + co * channelStride + firstTap
                var first = 0
                while first < cin {
                    let count = min(batch, cin - first)
                    for xi in 0..<36 {
                        (staged + xi * batch).update(from: du + xi * plane + co * cin + first, count: count)
                    }
                    var j = 0
                    while j < count {
                        @inline(__always) func row(_ i: Int) -> WinogradThree {
                            @inline(__always) func load(_ xi: Int) -> SIMD4<Double> {
                                SIMD4<Double>(UnsafeRawPointer(staged + xi * batch + j).loadUnaligned(as: SIMD4<Float>.self))
                            }
                            return winogradGT(load(6 * i), load(6 * i + 1), load(6 * i + 2),
                                              load(6 * i + 3), load(6 * i + 4), load(6 * i + 5))
                        }
                        // Rows of dU G (6x3), then G^T of each column.
                        let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3), a4 = row(4), a5 = row(5)
                        let col0 = winogradGT(a0.0, a1.0, a2.0, a3.0, a4.0, a5.0)
                        let col1 = winogradGT(a0.1, a1.1, a2.1, a3.1, a4.1, a5.1)
                        let col2 = winogradGT(a0.2, a1.2, a2.2, a3.2, a4.2, a5.2)
                        // Tap (k, c) of filter ci = first + j + l is lane l of column c's value k.
                        let taps = (SIMD4<Float>(col0.0), SIMD4<Float>(col1.0), SIMD4<Float>(col2.0),
                                    SIMD4<Float>(col0.1), SIMD4<Float>(col1.1), SIMD4<Float>(col2.1),
                                    SIMD4<Float>(col0.2), SIMD4<Float>(col1.2), SIMD4<Float>(col2.2))
                        for l in 0..<min(4, count - j) {
                            let dst = base + (first + j + l) * laneStride
                            dst[0] = taps.0[l]; dst[tapStride] = taps.1[l]; dst[2 * tapStride] = taps.2[l]
                            dst[3 * tapStride] = taps.3[l]; dst[4 * tapStride] = taps.4[l]
                            dst[5 * tapStride] = taps.5[l]; dst[6 * tapStride] = taps.6[l]
                            dst[7 * tapStride] = taps.7[l]; dst[8 * tapStride] = taps.8[l]
                        }
                        j &+= 4
                    }
                    first += count
                }
            }
        }
    }
}

/// Three values, four filters at a time.
private typealias WinogradThree = (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>)

/// G^T applied to a 6-vector (the adjoint of `winogradG`), one filter per lane.
@inline(__always)
private func winogradGT(_ u0: SIMD4<Double>, _ u1: SIMD4<Double>, _ u2: SIMD4<Double>, _ u3: SIMD4<Double>,
                        _ u4: SIMD4<Double>, _ u5: SIMD4<Double>) -> WinogradThree {
    let sixth = 1.0 / 6, twelfth = 1.0 / 12, twentyFourth = 1.0 / 24
    let s12 = u1 + u2, d12 = u2 - u1, s34 = u3 + u4, d34 = u3 - u4
    return (u0 * 0.25 - s12 * sixth + s34 * twentyFourth,
            d12 * sixth + d34 * twelfth,
            (s34 - s12) * sixth + u5)
}
