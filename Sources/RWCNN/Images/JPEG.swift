import CTurboJPEG

/// JPEG reading through libjpeg-turbo's TurboJPEG API (see
/// Sources/CTurboJPEG/shim.h for why that API and not libjpeg's).
///
/// - Baseline and progressive files; gray files come back as 1 channel,
///   YCbCr and RGB ones as 3 (8-bit samples). CMYK and YCCK files are
///   refused (`.format`): converting them needs colour management.
/// - The decoder settings are libjpeg's defaults, the same as Pillow's:
///   the accurate integer IDCT and smooth ("fancy") chroma upsampling, so
///   both give the same samples for the same file.
/// - Strict: libjpeg's warnings (truncated data, a corrupt entropy segment)
///   are errors here, where libjpeg alone would fill the rest with gray.
/// - The pixel limit is checked on the header, before anything is decoded or
///   allocated; a progressive file with an absurd number of scans is refused
///   (TurboJPEG's scan limit) instead of taking minutes.
public enum JPEG {
    /// Whether `bytes` start like a JPEG file (SOI marker, then a marker).
    public static func looksLikeJPEG(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
    }

    /// The size and channel count of the JPEG held in `bytes`, from its
    /// header (nothing is decoded).
    public static func header(bytes: UnsafeRawBufferPointer, source: String = "JPEG data") throws -> ImageHeader {
        try withDecompressor(source: source) { handle in try readHeader(handle, bytes, source: source) }
    }

    /// Decodes the JPEG held in `bytes` (see the type's notes).
    public static func read(bytes: UnsafeRawBufferPointer, maxPixels: Int = PNG.defaultMaxPixels,
                            source: String = "JPEG data") throws -> Image {
        guard maxPixels >= 1 else { throw RWCNNError.argument("maxPixels must be at least 1, got \(maxPixels)") }
        return try withDecompressor(source: source) { handle in
            let header = try readHeader(handle, bytes, source: source)
            let pixels = header.width.multipliedReportingOverflow(by: header.height)
            guard !pixels.overflow, pixels.partialValue <= maxPixels else {
                throw RWCNNError.outOfMemory("\(source): image is \(header.width)x\(header.height) = \(pixels.partialValue) pixels, over the limit of \(maxPixels)")
            }
            let count = try kernelElementCount([header.height, header.width, header.channels], what: "\(source): JPEG samples")
            let format = header.channels == 1 ? TJPF_GRAY : TJPF_RGB
            try MemoryBudget.check(count: decodingBytes(header), what: "\(source): decoding \(header.width)x\(header.height)x\(header.channels) samples")
            var bytesOut = [UInt8](repeating: 0, count: count)
            let flags = TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS
            let ok = bytesOut.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                              dst.baseAddress, Int32(header.width), 0, Int32(header.height),
                              Int32(format.rawValue), flags)
            }
            guard ok == 0 else { throw failure(handle, source: source) }
            return try Image(width: header.width, height: header.height, channels: header.channels, bitDepth: 8,
                             samples: bytesOut.map { UInt16($0) })
        }
    }

    /// Bytes a decode holds at its peak: the 8-bit buffer, plus the larger
    /// of the 16-bit samples made from it and libjpeg's whole-image
    /// coefficient buffer (2 bytes per coefficient, every component at full
    /// resolution, padded to 16-pixel MCUs), which progressive and
    /// multi-scan files need; baseline files are counted the same, an upper
    /// bound, since the header does not say which kind a file is.
    static func decodingBytes(_ header: ImageHeader) -> Int {
        let samples = Double(header.width) * Double(header.height) * Double(header.channels)
        let padded = ((Double(header.width) / 16).rounded(.up) * 16) * ((Double(header.height) / 16).rounded(.up) * 16)
        let coefficients = 2 * padded * Double(header.channels)
        let bytes = samples + max(2 * samples, coefficients)
        return bytes < 0x1p62 ? Int(bytes) : 1 << 62
    }

    private static func withDecompressor<T>(source: String, _ body: (tjhandle) throws -> T) throws -> T {
        guard let handle = tjInitDecompress() else {
            throw RWCNNError.outOfMemory("\(source): cannot create a JPEG decompressor: \(String(cString: tjGetErrorStr2(nil)))")
        }
        defer { tjDestroy(handle) }
        return try body(handle)
    }

    private static func readHeader(_ handle: tjhandle, _ bytes: UnsafeRawBufferPointer, source: String) throws -> ImageHeader {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw RWCNNError.format("\(source) is not a valid JPEG: it is empty")
        }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
        guard tjDecompressHeader3(handle, base.assumingMemoryBound(to: UInt8.self), UInt(bytes.count),
                                  &width, &height, &subsampling, &colourspace) == 0 else {
            throw failure(handle, source: source)
        }
        guard width >= 1, height >= 1 else {
            throw RWCNNError.format("\(source) is not a valid JPEG: its header gives \(width)x\(height) pixels")
        }
        let channels: Int
        switch colourspace {
        case Int32(TJCS_GRAY.rawValue): channels = 1
        case Int32(TJCS_RGB.rawValue), Int32(TJCS_YCbCr.rawValue): channels = 3
        default:
            throw RWCNNError.format("\(source) is a CMYK/YCCK JPEG, which rwcnn does not read (convert it to RGB first)")
        }
        return ImageHeader(format: .jpeg, width: Int(width), height: Int(height), channels: channels, bitDepth: 8)
    }

    private static func failure(_ handle: tjhandle, source: String) -> RWCNNError {
        let message = String(cString: tjGetErrorStr2(handle))
        let warning = tjGetErrorCode(handle) == Int32(TJERR_WARNING.rawValue)
        return .format("\(source) is not a valid JPEG\(warning ? " (truncated or corrupt data)" : ""): \(message)")
    }
}
