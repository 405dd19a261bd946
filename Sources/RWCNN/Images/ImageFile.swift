#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The image file formats rwcnn reads; the format is detected from the
/// first bytes, never from the file name.
public enum ImageFormat: String, Sendable, CaseIterable {
    case png, jpeg

    /// File name extensions (lower case) of each format, for folder listings.
    public var fileExtensions: [String] {
        switch self {
        case .png: return ["png"]
        case .jpeg: return ["jpg", "jpeg"]
        }
    }

    /// The format whose signature starts `bytes`, or nil.
    public static func detect(_ bytes: UnsafeRawBufferPointer) -> ImageFormat? {
        if bytes.count >= PNGChunks.signature.count && zip(bytes, PNGChunks.signature).allSatisfy({ $0 == $1 }) { return .png }
        if JPEG.looksLikeJPEG(bytes) { return .jpeg }
        return nil
    }
}

/// Size and layout of an image file, from its header.
public struct ImageHeader: Equatable, Sendable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    /// Channels as `ImageFile.read` returns them (1 gray, 2 gray + alpha,
    /// 3 RGB, 4 RGBA; JPEGs have 1 or 3).
    public var channels: Int
    /// 8, or 16 for 16-bit PNGs.
    public var bitDepth: Int

    public init(format: ImageFormat, width: Int, height: Int, channels: Int, bitDepth: Int) {
        self.format = format
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
    }
}

/// Reading PNG or JPEG files, whichever the bytes are (see `PNG` and `JPEG`
/// for what each gives). Anything else is `.format`, naming both formats.
public enum ImageFile {
    public static func header(bytes: UnsafeRawBufferPointer, source: String = "image data") throws -> ImageHeader {
        switch try format(of: bytes, source: source) {
        case .png:
            let h = try PNG.header(bytes: bytes)
            return ImageHeader(format: .png, width: h.width, height: h.height, channels: h.channels, bitDepth: h.bitDepth)
        case .jpeg:
            return try JPEG.header(bytes: bytes, source: source)
        }
    }

    /// The header of the file at `path`, read whole through `readFile` (only
    /// regular files, bounded by the memory budget), then parsed.
    public static func header(path: String) throws -> ImageHeader {
        let bytes = try readFile(path: path)
        return try bytes.withUnsafeBytes { try header(bytes: $0, source: path) }
    }

    public static func read(bytes: UnsafeRawBufferPointer, maxPixels: Int = PNG.defaultMaxPixels,
                            source: String = "image data") throws -> Image {
        switch try format(of: bytes, source: source) {
        case .png: return try PNG.decode(bytes, maxPixels: maxPixels, source: source)
        case .jpeg: return try JPEG.read(bytes: bytes, maxPixels: maxPixels, source: source)
        }
    }

    public static func read(bytes: [UInt8], maxPixels: Int = PNG.defaultMaxPixels) throws -> Image {
        try bytes.withUnsafeBytes { try read(bytes: $0, maxPixels: maxPixels) }
    }

    public static func read(path: String, maxPixels: Int = PNG.defaultMaxPixels) throws -> Image {
        let bytes = try readFile(path: path)
        return try bytes.withUnsafeBytes { try read(bytes: $0, maxPixels: maxPixels, source: path) }
    }

    /// Throws what a decode of a `width` x `height` header would throw for the pixel limit
    /// (`.outOfMemory`), before anything is decoded: callers that check their
    /// own output buffer against the header do this first, so that a bomb
    /// is refused as one whatever buffer comes with it.
    public static func checkPixelLimit(width: Int, height: Int, maxPixels: Int = PNG.defaultMaxPixels,
                                       source: String = "image data") throws {
        let pixels = width.multipliedReportingOverflow(by: height)
        guard !pixels.overflow, pixels.partialValue <= maxPixels else {
            let size = pixels.overflow ? "more than \(Int.max)" : "\(pixels.partialValue)"
            throw RWCNNError.outOfMemory("\(source): image is \(width)x\(height) = \(size) pixels, over the limit of \(maxPixels)")
        }
    }

    /// Whether a file name has one of the readable formats' extensions
    /// (case-insensitive): .png, .jpg, .jpeg.
    public static func hasImageExtension(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        let ext = name[name.index(after: dot)...].lowercased()
        return ImageFormat.allCases.contains { $0.fileExtensions.contains(ext) }
    }

    static func format(of bytes: UnsafeRawBufferPointer, source: String) throws -> ImageFormat {
        if let format = ImageFormat.detect(bytes) { return format }
        let start = bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
        throw RWCNNError.format("\(source) is neither a PNG nor a JPEG (\(bytes.isEmpty ? "it is empty" : "it starts with bytes \(start)"))")
    }
}
