// The walk that the two tile transforms of F(4x4, 3x3) share: the input
// transform V = B^T d B of the forward pass (Winograd.swift) and the gradient
// transform Z = A dy A^T of the weight gradient (WinogradGradient.swift). Each
// applies one 1-D transform down the rows of a tile row (contiguous along x),
// then across each tile, and scatters the 36 values of every tile into 36
// planes. Only the 1-D transform (`WinogradStrip`) differs.

/// What the tile transforms compute with: one value (Float), or four tiles
/// at once, one per lane (SIMD4<Float>), with the same arithmetic.
protocol WinogradLane {
    init(_ constant: Float)
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
}

extension Float: WinogradLane {}

extension SIMD4: WinogradLane where Scalar == Float {
    init(_ constant: Float) { self.init(repeating: constant) }
}

/// A 1-D transform of F(4, 3): `inputs` values in (6 or 4; the others are
/// passed as zero and ignored), 6 values out.
protocol WinogradStrip {
    static var inputs: Int { get }
    static func apply<L: WinogradLane>(_ d0: L, _ d1: L, _ d2: L, _ d3: L, _ d4: L, _ d5: L) -> (L, L, L, L, L, L)
}

/// B^T (6x6): the input side of the forward pass.
enum WinogradInputStrip: WinogradStrip {
    static var inputs: Int { 6 }
    @inline(__always)
    static func apply<L: WinogradLane>(_ d0: L, _ d1: L, _ d2: L, _ d3: L, _ d4: L, _ d5: L) -> (L, L, L, L, L, L) {
        (L(4) * d0 - L(5) * d2 + d4,
         L(-4) * (d1 + d2) + (d3 + d4),
         L(4) * (d1 - d2) + (d4 - d3),
         L(2) * (d3 - d1) + (d4 - d2),
         L(2) * (d1 - d3) + (d4 - d2),
         L(4) * d1 - L(5) * d3 + d5)
    }
}

/// A (6x4), the transpose of the output transform's A^T: the gradient side
/// of the weight gradient.
enum WinogradGradientStrip: WinogradStrip {
    static var inputs: Int { 4 }
    @inline(__always)
    static func apply<L: WinogradLane>(_ e0: L, _ e1: L, _ e2: L, _ e3: L, _: L, _: L) -> (L, L, L, L, L, L) {
        let p02 = e0 + e2, p13 = e1 + e3, q02 = e0 + L(4) * e2, q13 = L(2) * e1 + L(8) * e3
        return (e0, p02 + p13, p02 - p13, q02 + q13, q02 - q13, e3)
    }
}

/// out[6k + l][c][t] = (T d T^T)[k][l] for every channel c of `source`
/// ([N, channels, height, width]) and every tile t of the block (tile rows
/// `tileRows`, each of `tilesAcross` tiles; global tile row r is image
/// r / tilesDown, tile row r % tilesDown). d is the patch of `T.inputs` rows
/// and columns whose top-left corner is (4 ti - padding, 4 tj - padding),
/// zero outside the image.
func winogradTileTransform<T: WinogradStrip>(_: T.Type, source: UnsafePointer<Float>, channels: Int,
                                             height h: Int, width w: Int, padding pad: Int,
                                             tilesDown: Int, tilesAcross: Int, tileRows: Range<Int>,
                                             into out: UnsafeMutablePointer<Float>, planeStride plane: Int,
                                             threads: Int) {
    let inputs = T.inputs, tiles = tileRows.count * tilesAcross
    // Padded row width covering every patch: 4 * tilesAcross + inputs - 4 >= w + 2 * pad.
    let rowWidth = 4 * tilesAcross + inputs - 4
    parallelFor(channels, threads: threads, minChunk: minChunk(itemCost: tileRows.count * 6 * rowWidth * 2)) { cs in
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
                    let channel = source + (n * channels + c) * h * w
                    let top = 4 * ti - pad
                    @inline(__always) func rowPointer(_ i: Int) -> UnsafePointer<Float> {
                        let yy = top + i
                        return i < inputs && yy >= 0 && yy < h ? channel + yy * w : UnsafePointer(zero)
                    }
                    let r0 = rowPointer(0), r1 = rowPointer(1), r2 = rowPointer(2)
                    let r3 = rowPointer(3), r4 = rowPointer(4), r5 = rowPointer(5)
                    let t0 = tv + pad, t1 = t0 + rowWidth, t2 = t1 + rowWidth
                    let t3 = t2 + rowWidth, t4 = t3 + rowWidth, t5 = t4 + rowWidth
                    // Vertical T over the rows, contiguous along x.
                    var s = 0
                    while s < w {
                        let v = T.apply(r0[s], r1[s], r2[s], r3[s], r4[s], r5[s])
                        t0[s] = v.0; t1[s] = v.1; t2[s] = v.2; t3[s] = v.3; t4[s] = v.4; t5[s] = v.5
                        s &+= 1
                    }
                    // Horizontal T per tile, scattered into the 36 planes.
                    let dst = out + c * tiles + b * tilesAcross
                    for k in 0..<6 {
                        let row = tv + k * rowWidth
                        let o0 = dst + 6 * k * plane, o1 = o0 + plane, o2 = o1 + plane
                        let o3 = o2 + plane, o4 = o3 + plane, o5 = o4 + plane
                        var tj = 0
                        // Four tiles at a time, one per lane: their inputs gathered from 16
                        // consecutive values (a 4x4 transpose), and for 6 inputs 2 more;
                        // the same arithmetic per lane as the scalar tail below.
                        while tj &+ 4 <= tilesAcross {
                            let a = row + 4 * tj, raw = UnsafeRawPointer(a)
                            let p0 = raw.loadUnaligned(as: SIMD4<Float>.self)
                            let p1 = raw.loadUnaligned(fromByteOffset: 16, as: SIMD4<Float>.self)
                            let p2 = raw.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self)
                            let p3 = raw.loadUnaligned(fromByteOffset: 48, as: SIMD4<Float>.self)
                            let d0 = SIMD4(p0[0], p1[0], p2[0], p3[0]), d1 = SIMD4(p0[1], p1[1], p2[1], p3[1])
                            let d2 = SIMD4(p0[2], p1[2], p2[2], p3[2]), d3 = SIMD4(p0[3], p1[3], p2[3], p3[3])
                            var d4 = SIMD4<Float>(), d5 = SIMD4<Float>()
                            if inputs == 6 { d4 = SIMD4(p1[0], p2[0], p3[0], a[16]); d5 = SIMD4(p1[1], p2[1], p3[1], a[17]) }
                            let v = T.apply(d0, d1, d2, d3, d4, d5)
                            UnsafeMutableRawPointer(o0 + tj).storeBytes(of: v.0, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o1 + tj).storeBytes(of: v.1, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o2 + tj).storeBytes(of: v.2, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o3 + tj).storeBytes(of: v.3, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o4 + tj).storeBytes(of: v.4, as: SIMD4<Float>.self)
                            UnsafeMutableRawPointer(o5 + tj).storeBytes(of: v.5, as: SIMD4<Float>.self)
                            tj &+= 4
                        }
                        while tj < tilesAcross {
                            let a = row + 4 * tj
                            let v = T.apply(a[0], a[1], a[2], a[3], inputs == 6 ? a[4] : 0, inputs == 6 ? a[5] : 0)
                            o0[tj] = v.0; o1[tj] = v.1; o2[tj] = v.2; o3[tj] = v.3; o4[tj] = v.4; o5[tj] = v.5
                            tj &+= 1
                        }
                    }
                }
            }
        }
    }
}
