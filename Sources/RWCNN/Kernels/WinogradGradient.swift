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
    let cout = g.cout, ho = g.outHeight, wo = g.outWidth
    let tilesDown = g.tilesDown, tilesAcross = g.tilesAcross
    let tiles = tileRows.count * tilesAcross
    let rowWidth = 4 * tilesAcross
    parallelFor(cout, threads: threads, minChunk: minChunk(itemCost: tileRows.count * 6 * rowWidth * 2)) { cs in
        // Scratch: the 6 vertically expanded rows, and one zero row for rows past the edge.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 7 * rowWidth) { scratch in
            let tv = scratch.baseAddress!, zero = tv + 6 * rowWidth
            zero.initialize(repeating: 0, count: rowWidth)
            // Columns past the output's right edge are always zero.
            for k in 0..<6 {
                let row = tv + k * rowWidth
                for xx in wo..<rowWidth { row[xx] = 0 }
            }
            for c in cs {
                for (b, r) in tileRows.enumerated() {
                    let n = r / tilesDown, ti = r % tilesDown
                    let channel = dy + (n * cout + c) * ho * wo
                    let top = 4 * ti
                    @inline(__always) func rowPointer(_ i: Int) -> UnsafePointer<Float> {
                        top + i < ho ? channel + (top + i) * wo : UnsafePointer(zero)
                    }
                    let r0 = rowPointer(0), r1 = rowPointer(1), r2 = rowPointer(2), r3 = rowPointer(3)
                    let t0 = tv, t1 = t0 + rowWidth, t2 = t1 + rowWidth
                    let t3 = t2 + rowWidth, t4 = t3 + rowWidth, t5 = t4 + rowWidth
                    // Vertical A over the four rows, contiguous along x.
                    var s = 0
                    while s < wo {
                        let e0 = r0[s], e1 = r1[s], e2 = r2[s], e3 = r3[s]
                        let p02 = e0 + e2, p13 = e1 + e3, q02 = e0 + 4 * e2, q13 = 2 * e1 + 8 * e3
                        t0[s] = e0
                        t1[s] = p02 + p13
                        t2[s] = p02 - p13
                        t3[s] = q02 + q13
                        t4[s] = q02 - q13
                        t5[s] = e3
                        s &+= 1
                    }
                    // Horizontal A per tile, scattered into the 36 planes.
                    let dst = z + c * tiles + b * tilesAcross
                    for k in 0..<6 {
                        let row = tv + k * rowWidth
                        let o0 = dst + 6 * k * plane, o1 = o0 + plane, o2 = o1 + plane
                        let o3 = o2 + plane, o4 = o3 + plane, o5 = o4 + plane
                        var tj = 0
                        // Four tiles at a time, one per lane (a 4x4 transpose of 16
                        // consecutive values); the same arithmetic as the scalar tail.
                        while tj &+ 4 <= tilesAcross {
                            let raw = UnsafeRawPointer(row + 4 * tj)
                            let p0 = raw.loadUnaligned(as: SIMD4<Float>.self)
                            let p1 = raw.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
                            let p2 = raw.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self)
                            let p3 = raw.loadUnaligned(fromByteOffset: 48, as: SIMD4<Float>.self)
                            let e0 = SIMD4(p0[0], p1[0], p2[0], p3[0]), e1 = SIMD4(p0[1], p1[1], p2[1], p3[1])
                            let e2 = SIMD4(p0[2], p1[2], p2[2], p3[2]), e3 = SIMD4(p0[3], p1[3], p2[3], p3[3])
                            let two = SIMD4<Float>(repeating: 2), four = SIMD4<Float>(repeating: 4)
                            let eight = SIMD4<Float>(repeating: 8)
                            let p02 = e0 + e2, p13 = e1 + e3, q02 = e0 + four * e2, q13 = two * e1 + eight * e3
                            UnsafeMutableRawPointer(o0 + tj).storeBytes(of: e0, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o1 + tj).storeBytes(of: p02 + p13, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o2 + tj).storeBytes(of: p02 - p13, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o3 + tj).storeBytes(of: q02 + q13, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o4 + tj).storeBytes(of: q02 - q13, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o5 + tj).storeBytes(of: e3, as: SIMD4<Float>.self)
                            tj &+= 4
                        }
                        while tj < tilesAcross {
                            let a = row + 4 * tj
                            let e0 = a[0], e1 = a[1], e2 = a[2], e3 = a[3]
                            let p02 = e0 + e2, p13 = e1 + e3, q02 = e0 + 4 * e2, q13 = 2 * e1 + 8 * e3
                            o0[tj] = e0
                            o1[tj] = p02 + p13
                            o2[tj] = p02 - p13
                            o3[tj] = q02 + q13
                            o4[tj] = q02 - q13
                            o5[tj] = e3
                            tj &+= 1
                        }
                    }
                }
            }
        }
    }
}

/// dg = G^T dU G for every filter (computed in Double: G's 1/6 and 1/24 are
/// not exact in float), written to `gw` in `layout`.
private func winogradGradientFilters(_ du: UnsafePointer<Float>, planeStride plane: Int, cout: Int, cin: Int,
                                     layout: WinogradWeightLayout, into gw: UnsafeMutablePointer<Float>,
                                     threads: Int) {
    parallelFor(cout, threads: threads, minChunk: minChunk(itemCost: cin * 36 * 4)) { cs in
        // Each filter's 36 values are gathered `batch` filters at a time (36
        // contiguous runs, one per plane) rather than 36 strided reads per filter.
        let batch = 64
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 36 * batch) { scratch in
            let staged = scratch.baseAddress!
            for co in cs {
                var first = 0
                while first < cin {
                    let count = min(batch, cin - first)
                    for xi in 0..<36 {
                        let src = du + xi * plane + co * cin + first
                        var j = 0
                        while j < count { staged[j * 36 + xi] = src[j]; j &+= 1 }
                    }
                    for j in 0..<count {
                        let ci = first + j, u = staged + j * 36
                        // Rows of dU G (6x3), then G^T of each column.
                        var t = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
                        withUnsafeMutableBytes(of: &t) { tb in
                            let tr = tb.baseAddress!.assumingMemoryBound(to: Double.self)
                            for i in 0..<6 {
                                let r = u + 6 * i
                                let g = winogradGT(Double(r[0]), Double(r[1]), Double(r[2]),
                                                   Double(r[3]), Double(r[4]), Double(r[5]))
                                tr[3 * i] = g.0; tr[3 * i + 1] = g.1; tr[3 * i + 2] = g.2
                            }
                            let dst: UnsafeMutablePointer<Float>
                            switch layout {
                            case .conv: dst = gw + (co * cin + ci) * 9
                            case .transposed: dst = gw + (ci * cout + co) * 9
                            }
                            for j2 in 0..<3 {
                                let g = winogradGT(tr[j2], tr[3 + j2], tr[6 + j2], tr[9 + j2], tr[12 + j2], tr[15 + j2])
                                // Column j2 of the 3x3 filter, rows 0...2.
                                switch layout {
                                case .conv:
                                    dst[j2] = Float(g.0); dst[3 + j2] = Float(g.1); dst[6 + j2] = Float(g.2)
                                case .transposed:
                                    dst[8 - j2] = Float(g.0); dst[5 - j2] = Float(g.1); dst[2 - j2] = Float(g.2)
                                }
                            }
                        }
                    }
                    first += count
                }
            }
        }
    }
}

/// G^T applied to a 6-vector: the adjoint of `winogradG`.
@inline(__always)
private func winogradGT(_ u0: Double, _ u1: Double, _ u2: Double, _ u3: Double, _ u4: Double, _ u5: Double)
    -> (Double, Double, Double) {
    let sixth = 1.0 / 6, twelfth = 1.0 / 12, twentyFourth = 1.0 / 24
    let s12 = u1 + u2, d12 = u2 - u1, s34 = u3 + u4, d34 = u3 - u4
    return (u0 * 0.25 - s12 * sixth + s34 * twentyFourth,
            d12 * sixth + d34 * twelfth,
            (s34 - s12) * sixth + u5)
}
