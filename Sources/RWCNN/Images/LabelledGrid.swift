// A grid of equal tiles with row and column labels (the demo's figure):
// rows are methods, columns are layers.

/// One row of a labelled grid: its label and a tile per column (nil
/// leaves the cell blank).
public struct GridRow: Sendable {
    public var label: String
    public var tiles: [Tensor?]

    public init(label: String, tiles: [Tensor?]) {
        self.label = label
        self.tiles = tiles
    }
}

/// Tiles [3, tile, tile] (gray [1, tile, tile] is replicated) on a white
/// RGB canvas, `columns` labels along the top and each row's label at its
/// left, `gap` pixels between cells. Labels are drawn with `LabelFont` at
/// scale 2, or 1 when a column label would be wider than a tile. A row
/// with more tiles than columns, or a tile of another size, is `.argument`.
public func labelledGrid(rows: [GridRow], columns: [String], tile: Int, gap: Int = 4) throws -> Tensor {
    guard tile >= 1, tile <= 1 << 14 else { throw RWCNNError.argument("labelledGrid: tile must be in 1...16384, got \(tile)") }
    guard gap >= 0, gap <= 1024 else { throw RWCNNError.argument("labelledGrid: gap must be in 0...1024, got \(gap)") }
    guard !columns.isEmpty else { throw RWCNNError.argument("labelledGrid: no columns") }
    for row in rows {
        guard row.tiles.count <= columns.count else {
            throw RWCNNError.argument("labelledGrid: row \"\(row.label)\" has \(row.tiles.count) tiles for \(columns.count) columns")
        }
        for case let t? in row.tiles where !(t.rank == 3 && (t.shape[0] == 1 || t.shape[0] == 3) && t.shape[1] == tile && t.shape[2] == tile) {
            throw RWCNNError.argument("labelledGrid: tiles must be [3, \(tile), \(tile)] or [1, \(tile), \(tile)]; row \"\(row.label)\" has \(t.shape)")
        }
    }
    let scale = columns.allSatisfy({ labelSize($0, scale: 2).width <= tile }) ? 2 : 1
    let margin = 4, lineHeight = labelSize("", scale: scale).height
    let labelColumn = 2 * margin + (rows.map { labelSize($0.label, scale: scale).width }.max() ?? 0)
    let top = lineHeight + 2 * margin
    let width = try checkedProduct([columns.count, tile + gap], what: "labelledGrid") + labelColumn
    let height = try checkedProduct([rows.count, tile + gap], what: "labelledGrid") + top
    var canvas = try uninitializedTensor([3, height, width], what: "labelledGrid")
    let plane = height * width
    canvas.data.withUnsafeMutableBufferPointer { $0.initialize(repeating: 1) }
    for (c, name) in columns.enumerated() {
        drawLabel(name, into: &canvas, top: margin, left: labelColumn + c * (tile + gap), scale: scale)
    }
    for (r, row) in rows.enumerated() {
        let y0 = top + r * (tile + gap)
        drawLabel(row.label, into: &canvas, top: y0 + (tile - lineHeight) / 2, left: margin, scale: scale)
        for (c, image) in row.tiles.enumerated() {
            guard let image else { continue }
            let x0 = labelColumn + c * (tile + gap)
            image.data.withUnsafeBufferPointer { src in
                canvas.data.withUnsafeMutableBufferPointer { dst in
                    for k in 0..<3 {
                        let from = image.shape[0] == 1 ? 0 : k
                        for y in 0..<tile {
                            (dst.baseAddress! + k * plane + (y0 + y) * width + x0)
                                .update(from: src.baseAddress! + (from * tile + y) * tile, count: tile)
                        }
                    }
                }
            }
        }
    }
    return canvas
}
