// Chunk-level edits around libpng's simplified API, which has no switch for
// gamma handling: it converts samples whenever a file carries colour-space
// chunks (and it reads 16-bit data tagged sRGB through a 2.2 power law into
// linear light, collapsing the darks). rwcnn wants the stored values, like
// PIL and most machine-learning loaders, so it hides those chunks from
// libpng on read and tags its own 16-bit writes as sRGB.

enum PNGChunks {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// gAMA, cHRM, sRGB, iCCP and cICP: the chunks from which libpng derives
    /// a colour space (and therefore a gamma conversion).
    static let colourSpaceTypes: Set<UInt32> = [fourCC("gAMA"), fourCC("cHRM"), fourCC("sRGB"),
                                                fourCC("iCCP"), fourCC("cICP")]

    /// A complete sRGB chunk (rendering intent 0, perceptual, as libpng
    /// writes for 8-bit images): length, type, data, CRC-32.
    static let sRGBChunk: [UInt8] = [0, 0, 0, 1, 0x73, 0x52, 0x47, 0x42, 0, 0xAE, 0xCE, 0x1C, 0xE9]

    /// The signature plus the IHDR chunk, which is always first and 13 bytes long.
    static let headerLength = 8 + 12 + 13

    static func fourCC(_ s: StaticString) -> UInt32 {
        s.withUTF8Buffer { $0.reduce(0) { $0 << 8 | UInt32($1) } }
    }

    /// Byte ranges of the colour-space chunks before the first IDAT. The walk
    /// stops at the first malformed chunk header and leaves the rest to
    /// libpng, which reports damage with its own messages.
    static func colourSpaceRanges(_ bytes: UnsafeRawBufferPointer) -> [Range<Int>] {
        guard bytes.count > signature.count, bytes.prefix(signature.count).elementsEqual(signature) else { return [] }
        let idat = fourCC("IDAT")
        var ranges: [Range<Int>] = []
        var at = signature.count
        while at + 8 <= bytes.count {
            let length = Int(bigEndian32(bytes, at)), type = bigEndian32(bytes, at + 4)
            if type == idat || length > Int(Int32.max) { break }
            let end = at + 12 + length
            guard end <= bytes.count else { break }
            if colourSpaceTypes.contains(type) { ranges.append(at..<end) }
            at = end
        }
        return ranges
    }

    /// `bytes` without `ranges` (sorted, disjoint), with `insert` placed at
    /// byte offset `insertAt` (which must not fall inside a range).
    static func rewritten(_ bytes: UnsafeRawBufferPointer, dropping ranges: [Range<Int>],
                          insert: [UInt8] = [], at insertAt: Int = 0) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count + insert.count)
        var from = 0, pending = !insert.isEmpty
        for cut in ranges + [bytes.count..<bytes.count] {
            if pending, insertAt >= from, insertAt <= cut.lowerBound {
                out.append(contentsOf: bytes[from..<insertAt])
                out.append(contentsOf: insert)
                from = insertAt
                pending = false
            }
            out.append(contentsOf: bytes[from..<cut.lowerBound])
            from = cut.upperBound
        }
        return out
    }

    private static func bigEndian32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
    }
}
