import CPNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Size and layout of a PNG, read from its header without decoding pixels.
public struct PNGHeader: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// Channels as `PNG.read` returns them: 1 gray, 2 gray + alpha, 3 RGB,
    /// 4 RGBA. Palette images count as RGB, or RGBA when they have a tRNS
    /// chunk; gray or RGB with a tRNS chunk gain an alpha channel.
    public var channels: Int
    /// 16 for 16-bit files, otherwise 8 (1-, 2- and 4-bit files are widened).
    public var bitDepth: Int
}

/// PNG reading and writing through libpng's simplified API (`png_image_*`).
///
/// What you get is what the file stores:
/// - 8-bit files (and palette, 1/2/4-bit ones, widened to 8 bits) come back
///   as 8-bit samples, 16-bit files as 16-bit samples; palettes are expanded.
/// - No colour management: gAMA, cHRM, sRGB, iCCP and cICP chunks are hidden
///   from libpng, which would otherwise convert samples (and turn sRGB
///   16-bit data into linear light, losing the darks). This matches PIL and
///   most machine-learning loaders.
/// - Alpha is straight. For 16-bit files with alpha, libpng only hands out
///   premultiplied colour, which `read` divides back: exact where alpha is
///   65535, within about 65535 / (2 alpha) otherwise, and colour under
///   alpha 0 reads as 0.
///
/// Writes are non-interlaced, tagged sRGB: 8-bit files carry libpng's sRGB
/// chunk; for 16-bit files libpng writes a linear-light tag (gAMA 1.0 +
/// cHRM), which `encode` replaces by an sRGB chunk because the samples are
/// display-encoded. An 8-bit or 16-bit image without alpha reads back
/// exactly as written.
///
/// Errors: `.io` for files that cannot be opened, read or written (only
/// regular files are read), `.format` (with libpng's message, or the chunk
/// walk's) for data that is not a valid PNG, `.outOfMemory` when the header
/// asks for more than `maxPixels` pixels or the samples exceed the
/// `MemoryBudget`, checked before any pixel buffer is allocated.
///
/// Cost is bounded by the input: chunks are walked before libpng sees them
/// (a chunk running past the data is refused; text, ICC, EXIF and every
/// other ancillary chunk but tRNS is dropped unread), and image data too
/// short to inflate to the header's size is refused. libpng's own user
/// limits (`png_set_user_limits`, `png_set_chunk_malloc_max`) cannot be set
/// through the simplified API, whose `png_struct` is private.
public enum PNG {
    /// Default limit on width x height when reading (64 Mi pixels).
    public static let defaultMaxPixels = 64 << 20

    /// The header of the PNG file at `path` (a regular file, read whole
    /// within the memory budget, so that it is walked like `read`'s input).
    public static func header(path: String) throws -> PNGHeader {
        let bytes = try readFile(path: path)
        return try bytes.withUnsafeBytes { try header(bytes: $0, source: path) }
    }

    /// The header of the PNG held in `bytes`.
    public static func header(bytes: UnsafeRawBufferPointer) throws -> PNGHeader {
        try header(bytes: bytes, source: "PNG data")
    }

    static func header(bytes: UnsafeRawBufferPointer, source: String) throws -> PNGHeader {
        let walk = try PNGChunks.walk(bytes, source: source)
        let plain = PNGChunks.rewritten(bytes, dropping: walk.dropped)
        return try plain.withUnsafeBytes { plain in
            var image = newImage()
            defer { png_image_free(&image) }
            try beginRead(&image, plain, source: source)
            return headerOf(image)
        }
    }

    /// Decodes the PNG file at `path` (see the type's notes).
    public static func read(path: String, maxPixels: Int = defaultMaxPixels) throws -> Image {
        let bytes = try readFile(path: path)
        return try bytes.withUnsafeBytes { try decode($0, maxPixels: maxPixels, source: path) }
    }

    /// Decodes the PNG held in `bytes`.
    public static func read(bytes: UnsafeRawBufferPointer, maxPixels: Int = defaultMaxPixels) throws -> Image {
        try decode(bytes, maxPixels: maxPixels, source: "PNG data")
    }

    /// Decodes the PNG held in `bytes`.
    public static func read(bytes: [UInt8], maxPixels: Int = defaultMaxPixels) throws -> Image {
        try bytes.withUnsafeBytes { try decode($0, maxPixels: maxPixels, source: "PNG data") }
    }

    /// Writes `image` as a PNG file, atomically (temporary file, then rename).
    public static func write(_ image: Image, path: String) throws {
        try writeFileAtomically(path: path, bytes: encode(image))
    }

    /// The PNG encoding of `image` (its fields are validated first).
    public static func encode(_ image: Image) throws -> [UInt8] {
        let image = try Image(width: image.width, height: image.height, channels: image.channels,
                              bitDepth: image.bitDepth, samples: image.samples)
        var png = newImage()
        defer { png_image_free(&png) }
        png.width = UInt32(clamping: image.width)
        png.height = UInt32(clamping: image.height)
        png.format = layoutFlags(channels: image.channels) | (image.bitDepth == 16 ? formatLinear : 0)
        guard png.width == image.width, png.height == image.height else {
            throw RWCNNError.argument("image of \(image.width)x\(image.height) is too large for PNG")
        }
        let encoded: [UInt8]
        if image.bitDepth == 16 {
            let samples = image.hasAlpha ? premultiplied(image) : image.samples
            encoded = try samples.withUnsafeBytes { try writeToMemory(&png, $0, rawBytes: image.samples.count * 2 + image.height) }
        } else {
            let samples = image.samples.map { UInt8(truncatingIfNeeded: $0) }
            encoded = try samples.withUnsafeBytes { try writeToMemory(&png, $0, rawBytes: samples.count + image.height) }
        }
        guard image.bitDepth == 16 else { return encoded }
        return encoded.withUnsafeBytes { bytes in
            PNGChunks.rewritten(bytes, dropping: PNGChunks.colourSpaceRanges(bytes),
                                insert: PNGChunks.sRGBChunk, at: PNGChunks.headerLength)
        }
    }
}

// MARK: - libpng plumbing

private let formatAlpha = UInt32(PNG_FORMAT_FLAG_ALPHA)
private let formatColour = UInt32(PNG_FORMAT_FLAG_COLOR)
private let formatLinear = UInt32(PNG_FORMAT_FLAG_LINEAR)

extension PNG {
    static func newImage() -> png_image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        return image
    }

    /// The format flags of a sample layout (without bit depth).
    static func layoutFlags(channels: Int) -> UInt32 {
        (channels >= 3 ? formatColour : 0) | (channels == 2 || channels == 4 ? formatAlpha : 0)
    }

    /// libpng's message for a failed call, as a `.format` error.
    static func libpngError(_ image: png_image, source: String) -> RWCNNError {
        var image = image
        let message = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return .format("\(source) is not a valid PNG: \(message.isEmpty ? "unknown libpng error" : message)")
    }

    static func headerOf(_ image: png_image) -> PNGHeader {
        let layout = image.format & (formatColour | formatAlpha)
        return PNGHeader(width: Int(image.width), height: Int(image.height), channels: Int(layout) + 1,
                         bitDepth: image.format & formatLinear != 0 ? 16 : 8)
    }

    static func beginRead(_ image: inout png_image, _ bytes: UnsafeRawBufferPointer, source: String) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw RWCNNError.format("\(source) is not a valid PNG: it is empty")
        }
        guard png_image_begin_read_from_memory(&image, base, bytes.count) != 0 else {
            throw libpngError(image, source: source)
        }
    }

    /// Chunk walk, header, pixel limit, data-size and budget checks, then
    /// pixels. Every ancillary chunk but tRNS is hidden from libpng first
    /// (see `PNGChunks.walk`), colour-space chunks included.
    static func decode(_ bytes: UnsafeRawBufferPointer, maxPixels: Int, source: String) throws -> Image {
        guard maxPixels >= 1 else { throw RWCNNError.argument("maxPixels must be at least 1, got \(maxPixels)") }
        let walk = try PNGChunks.walk(bytes, source: source)
        if walk.dropped.isEmpty { return try decodeStored(bytes, walk: walk, maxPixels: maxPixels, source: source) }
        let plain = PNGChunks.rewritten(bytes, dropping: walk.dropped)
        return try plain.withUnsafeBytes { try decodeStored($0, walk: walk, maxPixels: maxPixels, source: source) }
    }

    private static func decodeStored(_ bytes: UnsafeRawBufferPointer, walk: PNGChunks.Walk, maxPixels: Int,
                                     source: String) throws -> Image {
        var png = newImage()
        defer { png_image_free(&png) }
        try beginRead(&png, bytes, source: source)
        let header = headerOf(png)
        let pixels = header.width.multipliedReportingOverflow(by: header.height)
        guard !pixels.overflow, pixels.partialValue <= maxPixels else {
            let size = pixels.overflow ? "more than \(Int.max)" : "\(pixels.partialValue)"
            throw RWCNNError.outOfMemory("\(source): image is \(header.width)x\(header.height) = \(size) pixels, over the limit of \(maxPixels)")
        }
        // Deflate cannot expand more than 1032:1, so a file whose image data
        // is too short for its header is refused before the pixels are allocated.
        if let i = walk.ihdr, let raw = PNGChunks.pixelBytes(width: i.width, height: i.height, bitDepth: i.bitDepth, colourType: i.colourType) {
            let least = PNGChunks.minimumDeflateBytes(forRaw: raw)
            guard walk.idatBytes >= least else {
                throw RWCNNError.format("\(source) is not a valid PNG: its IDAT chunks hold \(walk.idatBytes) bytes, but a \(header.width)x\(header.height) image needs at least \(least) (deflate compresses at most 1032:1); truncated?")
            }
        }
        let count = try kernelElementCount([header.height, header.width, header.channels], what: "\(source): PNG samples")
        // 16-bit samples, plus the 8-bit buffer libpng fills for 8-bit files.
        try MemoryBudget.check(count: count, size: header.bitDepth == 16 ? 2 : 3, what: "\(source): decoding \(header.width)x\(header.height)x\(header.channels) samples")
        // Ask for the stored layout: drops the colormap flag (palettes expand to RGB(A)).
        png.format = layoutFlags(channels: header.channels) | (header.bitDepth == 16 ? formatLinear : 0)
        var samples: [UInt16]
        if header.bitDepth == 16 {
            samples = [UInt16](repeating: 0, count: count)
            try samples.withUnsafeMutableBytes { try finishRead(&png, $0.baseAddress, source: source) }
        } else {
            var bytes = [UInt8](repeating: 0, count: count)
            try bytes.withUnsafeMutableBytes { try finishRead(&png, $0.baseAddress, source: source) }
            samples = bytes.map { UInt16($0) }
        }
        var image = try Image(width: header.width, height: header.height, channels: header.channels,
                              bitDepth: header.bitDepth, samples: samples)
        if image.bitDepth == 16 && image.hasAlpha { unpremultiply(&image) }
        return image
    }

    private static func finishRead(_ png: inout png_image, _ buffer: UnsafeMutableRawPointer?, source: String) throws {
        guard png_image_finish_read(&png, nil, buffer, 0, nil) != 0 else { throw libpngError(png, source: source) }
    }

    /// One deflate pass into a buffer sized by zlib's worst case for `rawBytes`
    /// of filtered rows; if libpng still asks for more, once more at its size.
    static func writeToMemory(_ png: inout png_image, _ samples: UnsafeRawBufferPointer, rawBytes: Int) throws -> [UInt8] {
        var capacity = rawBytes + rawBytes / 8 + rawBytes / 64 + 12 * (rawBytes / 8192 + 1) + 4096
        for _ in 0..<2 {
            var out = [UInt8](repeating: 0, count: capacity)
            var size = capacity
            let ok = out.withUnsafeMutableBytes { dst in
                png_image_write_to_memory(&png, dst.baseAddress, &size, 0, samples.baseAddress, 0, nil)
            }
            if ok != 0 {
                out.removeLast(out.count - size)
                return out
            }
            guard size > capacity else { break }
            capacity = size
        }
        throw RWCNNError.argument("cannot encode a \(png.width)x\(png.height) PNG: \(libpngError(png, source: "image").message)")
    }

    /// Straight colour from libpng's premultiplied 16-bit output.
    static func unpremultiply(_ image: inout Image) {
        let c = image.channels
        image.samples.withUnsafeMutableBufferPointer { s in
            for p in stride(from: 0, to: s.count, by: c) {
                let alpha = UInt32(s[p + c - 1])
                if alpha == 65535 { continue }
                for k in p..<(p + c - 1) {
                    s[k] = alpha == 0 ? 0 : UInt16(min(65535, (UInt32(s[k]) * 65535 + alpha / 2) / alpha))
                }
            }
        }
    }

    /// Premultiplied colour, which libpng's 16-bit writer expects (it divides back).
    static func premultiplied(_ image: Image) -> [UInt16] {
        var out = image.samples
        let c = image.channels
        out.withUnsafeMutableBufferPointer { s in
            for p in stride(from: 0, to: s.count, by: c) {
                let alpha = UInt32(s[p + c - 1])
                if alpha == 65535 { continue }
                for k in p..<(p + c - 1) { s[k] = UInt16((UInt32(s[k]) * alpha + 32767) / 65535) }
            }
        }
        return out
    }
}
