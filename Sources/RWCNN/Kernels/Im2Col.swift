// im2col / col2im: a convolution becomes one matrix product once every
// receptive field is laid out as a column. The column matrix of one image has
// `channels * kernelH * kernelW` rows (row r = (c, ki, kj)) and
// `outHeight * outWidth` columns; padding cells are zeros.

/// The sizes of one convolution seen from its image side: the image it reads
/// (channels x height x width, before padding), the kernel, stride and
/// padding, and the output grid. Transposed convolutions use the geometry of
/// the convolution they are the adjoint of.
struct ConvGeometry {
    let channels: Int
    let height: Int
    let width: Int
    let kernelH: Int
    let kernelW: Int
    let stride: Int
    let padding: Int
    let outHeight: Int
    let outWidth: Int
    /// Output rows per column tile (see `KernelTuning.columnTileBytes`),
    /// fixed at creation so that the scratch size and the tiles of one call
    /// always agree.
    let tileRows: Int

    init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int, stride: Int, padding: Int,
         outHeight: Int, outWidth: Int, tuning: KernelTuning) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW; self.stride = stride; self.padding = padding
        self.outHeight = outHeight; self.outWidth = outWidth
        // In Double: the sizes are validated only after the geometry exists.
        let rowBytes = 4 * Double(channels) * Double(kernelH * kernelW) * Double(outWidth)
        let byBytes = Int(min(Double(outHeight), Double(tuning.columnTileBytes) / max(1, rowBytes)))
        let byColumns = (tuning.minTileColumns + outWidth - 1) / max(1, outWidth)
        tileRows = min(outHeight, max(1, byBytes, byColumns))
    }

    /// Rows of the column matrix: one per (channel, kernel row, kernel column).
    var colRows: Int { channels * kernelH * kernelW }
    /// Columns of the column matrix: one per output position.
    var colCols: Int { outHeight * outWidth }
    var imageSize: Int { channels * height * width }
    /// 1x1, stride 1, no padding: the image already is its column matrix.
    var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }
}

/// Output positions `o` in `0..<outSize` whose input coordinate
/// `o * stride + offset` lies inside `0..<size`; a contiguous range.
@inline(__always)
func validOutputRange(offset: Int, stride: Int, size: Int, outSize: Int) -> Range<Int> {
    // o*stride + offset >= 0  <=>  o >= ceil(-offset / stride)
    let lo = min(outSize, offset >= 0 ? 0 : (stride - 1 - offset) / stride)
    let last = size - 1 - offset
    // o*stride + offset <= size - 1  <=>  o <= floor(last / stride)
    let hi = last < 0 ? 0 : min(outSize, last / stride + 1)
    return lo..<max(lo, hi)
}

extension ConvGeometry {
    /// Floats in the column buffer of one tile.
    var tileSize: Int { colRows * tileRows * outWidth }

    /// The output-row ranges of the tiles, in order.
    var tiles: [Range<Int>] {
        let step = tileRows
        return Swift.stride(from: 0, to: outHeight, by: step).map { $0..<min(outHeight, $0 + step) }
    }
}

/// Writes the column matrix of output rows `rows` of one image (`g.imageSize`
/// floats at `image`) to `col`: `g.colRows` rows of `rows.count * g.outWidth`
/// columns. Rows are independent, so they are filled in parallel.
func im2col(_ g: ConvGeometry, image: UnsafePointer<Float>, col: UnsafeMutablePointer<Float>, rows: Range<Int>,
            threads: Int) {
    let kk = g.kernelH * g.kernelW, wo = g.outWidth, cols = rows.count * wo
    let w = g.width, s = g.stride
    parallelFor(g.colRows, threads: threads, minChunk: minChunk(itemCost: cols)) { colRows in
        for r in colRows {
            let c = r / kk, ki = (r % kk) / g.kernelW, kj = r % g.kernelW
            let plane = image + c * g.height * w
            let dst = col + r * cols
            // Output rows of the tile whose input row is inside the image.
            let all = validOutputRange(offset: ki - g.padding, stride: s, size: g.height, outSize: g.outHeight)
            let lo = min(max(all.lowerBound, rows.lowerBound), rows.upperBound)
            let ys = lo..<max(lo, min(all.upperBound, rows.upperBound))
            let xs = validOutputRange(offset: kj - g.padding, stride: s, size: w, outSize: wo)
            // Whole output rows that fall into the vertical padding.
            dst.update(repeating: 0, count: (ys.lowerBound - rows.lowerBound) * wo)
            (dst + (ys.upperBound - rows.lowerBound) * wo).update(repeating: 0, count: (rows.upperBound - ys.upperBound) * wo)
            for oh in ys {
                let rowOut = dst + (oh - rows.lowerBound) * wo
                // Input index of output column ow is rowIn + ow * s.
                let rowIn = (oh * s + ki - g.padding) * w + kj - g.padding
                rowOut.update(repeating: 0, count: xs.lowerBound)
                (rowOut + xs.upperBound).update(repeating: 0, count: wo - xs.upperBound)
                if s == 1 {
                    (rowOut + xs.lowerBound).update(from: plane + (rowIn + xs.lowerBound), count: xs.count)
                } else {
                    var ow = xs.lowerBound
                    while ow < xs.upperBound {
                        rowOut[ow] = plane[rowIn &+ ow &* s]
                        ow &+= 1
                    }
                }
            }
        }
    }
}

/// The adjoint of `im2col` for output rows `rows`: adds every entry of the
/// tile's column matrix into the image cell it came from (entries from
/// padding are dropped). The image (`g.imageSize` floats) is zeroed by the
/// first tile (rows starting at 0), so calling this for every tile in order
/// leaves the full sum. Each channel is summed by one thread in a fixed
/// order, so the result does not depend on the thread count.
func col2im(_ g: ConvGeometry, col: UnsafePointer<Float>, image: UnsafeMutablePointer<Float>, rows: Range<Int>,
            threads: Int) {
    let wo = g.outWidth, cols = rows.count * wo, planeSize = g.height * g.width
    let w = g.width, s = g.stride
    parallelFor(g.channels, threads: threads, minChunk: minChunk(itemCost: g.kernelH * g.kernelW * cols)) { channels in
        for c in channels {
            let plane = image + c * planeSize
            if rows.lowerBound == 0 { plane.update(repeating: 0, count: planeSize) }
            for ki in 0..<g.kernelH {
                let all = validOutputRange(offset: ki - g.padding, stride: s, size: g.height, outSize: g.outHeight)
                let lo = max(all.lowerBound, rows.lowerBound), hi = max(lo, min(all.upperBound, rows.upperBound))
                for kj in 0..<g.kernelW {
                    let xs = validOutputRange(offset: kj - g.padding, stride: s, size: w, outSize: wo)
                    let src = col + ((c * g.kernelH + ki) * g.kernelW + kj) * cols
                    for oh in lo..<hi {
                        let rowOut = src + (oh - rows.lowerBound) * wo
                        // Image index of output column ow is rowIn + ow * s.
                        let rowIn = (oh * s + ki - g.padding) * w + kj - g.padding
                        var ow = xs.lowerBound
                        if s == 1 {
                            while ow < xs.upperBound { plane[rowIn &+ ow] += rowOut[ow]; ow &+= 1 }
                        } else {
                            while ow < xs.upperBound { plane[rowIn &+ ow &* s] += rowOut[ow]; ow &+= 1 }
                        }
                    }
                }
            }
        }
    }
}
