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

    /// What the walk over a whole file found (see `walk`).
    struct Walk {
        /// Chunks to hide from libpng: every ancillary chunk except tRNS.
        var dropped: [Range<Int>] = []
        /// Total declared length of the IDAT chunks.
        var idatBytes = 0
        /// Width, height, bit depth and colour type from IHDR, when it is first and 13 bytes.
        var ihdr: (width: Int, height: Int, bitDepth: Int, colourType: Int)?
    }

    /// The one ancillary chunk libpng's simplified reader needs (transparency).
    static let keptAncillary: Set<UInt32> = [fourCC("tRNS")]

    /// Walks every chunk from the signature to IEND before libpng sees the
    /// data, so that the cost of a read is bounded by the input:
    /// - a chunk whose declared length runs past the data, or is above
    ///   2^31 - 1 (the PNG limit), is `.format`, before anything is allocated;
    /// - ancillary chunks other than tRNS (text, ICC profiles, EXIF, sPLT,
    ///   colour-space tags...) are dropped: rwcnn uses none of them, and
    ///   libpng would allocate (and inflate) each of them whole.
    /// Data without the PNG signature is left to libpng, which names the
    /// problem. Bytes after IEND are ignored, as libpng does.
    static func walk(_ bytes: UnsafeRawBufferPointer, source: String) throws -> Walk {
        var result = Walk()
        guard bytes.count >= signature.count, bytes.prefix(signature.count).elementsEqual(signature) else { return result }
        let idat = fourCC("IDAT"), iend = fourCC("IEND"), ihdr = fourCC("IHDR")
        var at = signature.count
        while at < bytes.count {
            guard at + 8 <= bytes.count else {
                throw RWCNNError.format("\(source) is not a valid PNG: truncated chunk header at byte \(at) (the data has \(bytes.count) bytes)")
            }
            let length = Int(bigEndian32(bytes, at)), type = bigEndian32(bytes, at + 4)
            let name = typeName(type)
            guard length <= Int(Int32.max) else {
                throw RWCNNError.format("\(source) is not a valid PNG: chunk \(name) at byte \(at) declares \(length) bytes, above the PNG limit of 2^31-1")
            }
            let end = at + 12 + length
            guard end <= bytes.count else {
                throw RWCNNError.format("\(source) is not a valid PNG: chunk \(name) at byte \(at) declares \(length) bytes, past the end of the data (\(bytes.count - at - 8) bytes follow its header)")
            }
            if at == signature.count, type == ihdr, length == 13 {
                result.ihdr = (Int(bigEndian32(bytes, at + 8)), Int(bigEndian32(bytes, at + 12)),
                               Int(bytes[at + 16]), Int(bytes[at + 17]))
            }
            if type == idat { result.idatBytes += length }
            let ancillary = (type >> 24) & 0x20 != 0
            if ancillary && !keptAncillary.contains(type) { result.dropped.append(at..<end) }
            at = end
            if type == iend { break }
        }
        return result
    }

    /// The least compressed data that can inflate to `rawBytes`: deflate
    /// codes at best 258 bytes in 2 bits (a ratio of 1032:1), plus the
    /// 2-byte zlib header and 4-byte checksum.
    static func minimumDeflateBytes(forRaw rawBytes: Int) -> Int { rawBytes / 1032 + 6 }

    /// The bytes of image data (without filter bytes) an IHDR describes, or
    /// nil for values libpng rejects itself.
    static func pixelBytes(width: Int, height: Int, bitDepth: Int, colourType: Int) -> Int? {
        let channels: Int
        switch colourType {
        case 0, 3: channels = 1
        case 2: channels = 3
        case 4: channels = 2
        case 6: channels = 4
        default: return nil
        }
        guard [1, 2, 4, 8, 16].contains(bitDepth) else { return nil }
        let (bits, o1) = width.multipliedReportingOverflow(by: channels * bitDepth)
        let (total, o2) = ((bits + 7) / 8).multipliedReportingOverflow(by: height)
        return o1 || o2 ? nil : total
    }

    /// A chunk type as text ("tEXt"), or its hex value when not printable.
    static func typeName(_ type: UInt32) -> String {
        let chars = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: type >> UInt32($0)) }
        guard chars.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            return "0x" + String(type, radix: 16)
        }
        return String(decoding: chars, as: UTF8.self)
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
