extension PNG {
    /// An upper bound of the size of `encode`'s output for an image of this
    /// shape, computed without encoding: the filtered rows (one filter byte
    /// per row) stored uncompressed by deflate at worst, plus zlib's block
    /// headers, one 12-byte chunk frame per 8 KiB IDAT, and the fixed
    /// chunks (signature, IHDR, sRGB, IEND), with generous slack.
    public static func encodedSizeBound(width: Int, height: Int, channels: Int, bitDepth: Int) throws -> Int {
        let row = try checkedProduct([width, channels, bitDepth / 8], what: "PNG row") + 1
        let raw = try checkedProduct([row, height], what: "PNG rows")
        let (slack, o1) = (raw / 8).addingReportingOverflow(raw / 64 + 12 * (raw / 8192 + 2) + 4096)
        let (bound, o2) = raw.addingReportingOverflow(slack)
        guard !o1, !o2 else { throw RWCNNError.outOfMemory("a \(width)x\(height) PNG is too large") }
        return bound
    }
}
