// Making raw network outputs viewable: per-image normalisation and tiling.

/// Every value clamped to [0, 1] (NaN becomes 0): how a trained decoder's
/// output is shown and scored, where `displayNormalize` is for random ones.
public func clampedToUnit(_ t: Tensor) -> Tensor {
    var t = t
    t.data.withUnsafeMutableBufferPointer { p in
        for i in p.indices { p[i] = p[i] >= 0 ? min(p[i], 1) : 0 }
    }
    return t
}

/// Maps each image to [0, 1] by its own minimum and maximum over all of its
/// channels, so colour relations inside an image are kept. An image is the
/// whole tensor for [C, H, W] (or any rank other than 4) and each item for
/// [N, C, H, W]. A constant image becomes 0.5. Non-finite values are left
/// out of the minimum and maximum and come out as 0 (NaN, -inf) or 1 (+inf).
public func displayNormalize(_ t: Tensor) -> Tensor {
    var out = t
    let items = t.rank == 4 ? t.shape[0] : 1
    guard items > 0, t.count > 0 else { return out }
    let size = t.count / items
    out.data.withUnsafeMutableBufferPointer { d in
        for i in 0..<items {
            let image = UnsafeMutableBufferPointer(rebasing: d[(i * size)..<((i + 1) * size)])
            var lo = Float.infinity, hi = -Float.infinity
            for v in image where v.isFinite {
                lo = min(lo, v)
                hi = max(hi, v)
            }
            // In Double: hi - lo can overflow Float.
            let range = Double(hi) - Double(lo)
            let constant = !(range > 0)  // also true when nothing was finite
            let scale = constant ? 0 : 1 / range
            for k in 0..<image.count {
                let v = image[k]
                if v.isFinite {
                    image[k] = constant ? 0.5 : Float(min(1, max(0, (Double(v) - Double(lo)) * scale)))
                } else {
                    image[k] = v == .infinity ? 1 : 0
                }
            }
        }
    }
    return out
}

/// Tiles images [C, H, W] row-major into one image, `columns` per row
/// (fewer if there are fewer tiles), with `padding` pixels of `background`
/// around and between them (as torchvision's make_grid). Tiles share one
/// channel count, except that gray tiles among RGB ones are replicated to
/// RGB. Cells are as large as the largest tile; smaller tiles are centred.
public func makeGrid(_ tiles: [Tensor], columns: Int, padding: Int = 2, background: Float = 1) throws -> Tensor {
    guard !tiles.isEmpty else { throw RWCNNError.argument("makeGrid: no tiles") }
    guard columns >= 1 else { throw RWCNNError.argument("makeGrid: columns must be at least 1, got \(columns)") }
    guard padding >= 0, padding <= kernelParameterLimit else {
        throw RWCNNError.argument("makeGrid: padding must be in 0...\(kernelParameterLimit), got \(padding)")
    }
    for (i, tile) in tiles.enumerated() where tile.rank != 3 || !tile.shape.allSatisfy({ $0 >= 1 }) {
        throw RWCNNError.argument("makeGrid: tile \(i) must be [C, H, W] with no empty dimension, got shape \(tile.shape)")
    }
    let counts = Set(tiles.map { $0.shape[0] })
    guard counts.count == 1 || counts == [1, 3] else {
        throw RWCNNError.argument("makeGrid: tiles have channel counts \(counts.sorted()); they must agree (gray and RGB may mix)")
    }
    let channels = counts.max() ?? 1
    let cellH = tiles.map { $0.shape[1] }.max() ?? 1, cellW = tiles.map { $0.shape[2] }.max() ?? 1
    let across = min(columns, tiles.count), down = (tiles.count + across - 1) / across
    let (stepH, oh) = (cellH + padding).multipliedReportingOverflow(by: down)
    let (stepW, ow) = (cellW + padding).multipliedReportingOverflow(by: across)
    guard !oh, !ow else { throw RWCNNError.outOfMemory("makeGrid: the grid size overflows") }
    let height = stepH + padding, width = stepW + padding
    var grid = try uninitializedTensor([channels, height, width], what: "makeGrid")
    grid.data.withUnsafeMutableBufferPointer { g in
        g.initialize(repeating: background)
        for (i, tile) in tiles.enumerated() {
            let (c, h, w) = (tile.shape[0], tile.shape[1], tile.shape[2])
            let top = padding + (i / across) * (cellH + padding) + (cellH - h) / 2
            let left = padding + (i % across) * (cellW + padding) + (cellW - w) / 2
            tile.data.withUnsafeBufferPointer { s in
                for k in 0..<channels {
                    let from = c == 1 ? 0 : k  // gray tiles fill every channel
                    for y in 0..<h {
                        (g.baseAddress! + (k * height + top + y) * width + left)
                            .update(from: s.baseAddress! + (from * h + y) * w, count: w)
                    }
                }
            }
        }
    }
    return grid
}
