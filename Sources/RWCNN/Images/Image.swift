/// A decoded raster image: integer samples exactly as stored in the file,
/// row-major with interleaved channels (HWC).
///
/// - `channels`: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.
/// - `bitDepth`: 8 (samples 0...255) or 16 (samples 0...65535).
/// - Alpha is straight (colour not multiplied by alpha), as in the PNG file.
///
/// Colour values are the stored, display-encoded (sRGB-like) values at both
/// bit depths; no gamma conversion happens anywhere (see `PNG`).
public struct Image: Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var bitDepth: Int
    public var samples: [UInt16]

    /// Checks that the size is positive, `channels` is 1...4, `bitDepth` is
    /// 8 or 16, `samples` has `width * height * channels` values and every
    /// value fits the bit depth; throws `.argument` otherwise.
    public init(width: Int, height: Int, channels: Int, bitDepth: Int, samples: [UInt16]) throws {
        guard width >= 1, height >= 1 else {
            throw RWCNNError.argument("image size must be at least 1x1, got \(width)x\(height)")
        }
        guard (1...4).contains(channels) else {
            throw RWCNNError.argument("image channels must be 1 (gray), 2 (gray+alpha), 3 (RGB) or 4 (RGBA), got \(channels)")
        }
        guard bitDepth == 8 || bitDepth == 16 else {
            throw RWCNNError.argument("image bit depth must be 8 or 16, got \(bitDepth)")
        }
        let count = try checkedProduct([width, height, channels], what: "image of \(width)x\(height)x\(channels)")
        guard samples.count == count else {
            throw RWCNNError.argument("image of \(width)x\(height)x\(channels) needs \(count) samples, got \(samples.count)")
        }
        if bitDepth == 8, let big = samples.firstIndex(where: { $0 > 255 }) {
            throw RWCNNError.argument("8-bit image has sample \(samples[big]) at index \(big), above 255")
        }
        self.width = width
        self.height = height
        self.channels = channels
        self.bitDepth = bitDepth
        self.samples = samples
    }

    /// The largest sample value of the bit depth (255 or 65535).
    var maxSample: Int { bitDepth == 16 ? 65535 : 255 }

    /// Whether the last channel is alpha.
    var hasAlpha: Bool { channels == 2 || channels == 4 }
}
