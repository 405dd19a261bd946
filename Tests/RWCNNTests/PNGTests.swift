import CPNG
import XCTest
@testable import RWCNN

/// PNG decoding against Pillow's decodes of the bundled photos and against
/// PNG files built byte by byte here (stored deflate blocks, own CRC-32 and
/// Adler-32), round trips of every mode, and the rejection table.
final class PNGTests: XCTestCase {
    // MARK: Bundled photos

    /// (file, width, height, channels, sum of samples, [row, column, samples])
    /// printed by scripts/golden_png.py (Pillow).
    private static let photos: [(String, Int, Int, Int, Int, [(Int, Int, [UInt16])])] = [
        ("astronaut.png", 512, 512, 3, 90124324, [(0, 0, [154, 147, 151]), (256, 256, [19, 14, 7]), (511, 511, [0, 0, 0])]),
        ("brick.png", 512, 512, 1, 29217353, [(0, 0, [99]), (256, 256, [151]), (511, 511, [176])]),
        ("camera.png", 512, 512, 1, 33832495, [(0, 0, [200]), (256, 256, [14]), (511, 511, [149])]),
        ("cell.png", 550, 660, 1, 24669746, [(0, 0, [71]), (330, 275, [58]), (659, 549, [61])]),
        ("chelsea.png", 451, 300, 3, 46802357, [(0, 0, [143, 120, 104]), (150, 225, [190, 150, 124]), (299, 450, [162, 138, 128])]),
        ("clock_motion.png", 400, 300, 1, 17559784, [(0, 0, [155]), (150, 200, [227]), (299, 399, [113])]),
        ("coffee.png", 600, 400, 3, 71003487, [(0, 0, [21, 13, 8]), (200, 300, [248, 250, 255]), (399, 599, [143, 60, 29])]),
        ("coins.png", 384, 303, 1, 11269333, [(0, 0, [47]), (151, 192, [46]), (302, 383, [7])]),
        ("grass.png", 512, 512, 1, 30991639, [(0, 0, [113]), (256, 256, [113]), (511, 511, [108])]),
        ("gravel.png", 512, 512, 1, 33173013, [(0, 0, [171]), (256, 256, [153]), (511, 511, [158])]),
        ("horse.png", 400, 328, 4, 100630888, [(0, 0, [255, 255, 255, 110]), (164, 200, [0, 0, 0, 255]), (327, 399, [255, 255, 255, 110])]),
        ("hubble_deep_field.png", 1000, 872, 3, 50108051, [(0, 0, [15, 7, 4]), (436, 500, [47, 34, 28]), (871, 999, [7, 18, 12])]),
        ("ihc.png", 512, 512, 3, 126084883, [(0, 0, [156, 118, 81]), (256, 256, [227, 226, 222]), (511, 511, [215, 210, 207])]),
        ("microaneurysms.png", 102, 102, 1, 1033532, [(0, 0, [96]), (51, 51, [74]), (101, 101, [86])]),
        ("retina.png", 1411, 1411, 3, 535744832, [(0, 0, [0, 0, 0]), (705, 705, [187, 46, 26]), (1410, 1410, [0, 0, 0])]),
        ("rocket.png", 640, 427, 3, 53516744, [(0, 0, [17, 33, 58]), (213, 320, [132, 123, 114]), (426, 639, [83, 61, 37])]),
        ("text.png", 448, 172, 1, 9960413, [(0, 0, [91]), (86, 224, [113]), (171, 447, [126])]),
    ]

    func testBundledPhotosDecodeLikePillow() throws {
        for (name, width, height, channels, sum, pixels) in Self.photos {
            let path = bundledImages + "/" + name
            let image = try PNG.read(path: path)
            XCTAssertEqual([image.width, image.height, image.channels, image.bitDepth], [width, height, channels, 8], name)
            XCTAssertEqual(image.samples.reduce(0) { $0 + Int($1) }, sum, name)
            for (y, x, expected) in pixels {
                let at = (y * width + x) * channels
                XCTAssertEqual(Array(image.samples[at..<(at + channels)]), expected, "\(name) at (\(y), \(x))")
            }
            XCTAssertEqual(try PNG.header(path: path), PNGHeader(width: width, height: height, channels: channels, bitDepth: 8), name)
        }
    }

    func testEveryBundledPhotoRoundTripsAndReadsTheSameFromMemory() throws {
        var modes = Set<Int>()
        for (name, _, _, _, _, _) in Self.photos {
            let path = bundledImages + "/" + name
            let image = try PNG.read(path: path)
            modes.insert(image.channels)
            let file = try readFile(path: path)
            XCTAssertEqual(try PNG.read(bytes: file), image, name)
            XCTAssertEqual(try file.withUnsafeBytes { try PNG.read(bytes: $0) }, image, name)
            XCTAssertEqual(try file.withUnsafeBytes { try PNG.header(bytes: $0) },
                           PNGHeader(width: image.width, height: image.height, channels: image.channels, bitDepth: 8), name)

            let copy = temporaryPath(name)
            defer { unlink(copy) }
            try PNG.write(image, path: copy)
            XCTAssertEqual(try PNG.read(path: copy), image, name)
            XCTAssertEqual(try PNG.read(bytes: PNG.encode(image)), image, name)
        }
        XCTAssertEqual(modes, [1, 3, 4], "the bundled photos cover gray, RGB and RGBA")
    }

    // MARK: Generated images, every mode and depth

    /// Samples covering the extremes and scattered values, deterministic.
    private func generatedSamples(_ count: Int, bitDepth: Int) -> [UInt16] {
        let top = bitDepth == 16 ? 65535 : 255
        return (0..<count).map { i in
            switch i % 7 {
            case 0: return 0
            case 1: return UInt16(top)
            default: return UInt16((i &* 2654435761 >> 7) % (top + 1))
            }
        }
    }

    func testEveryModeRoundTripsExactlyAt8And16BitsWithoutAlpha() throws {
        for bitDepth in [8, 16] {
            for channels in 1...4 where bitDepth == 8 || channels == 1 || channels == 3 {
                let image = try Image(width: 13, height: 7, channels: channels, bitDepth: bitDepth,
                                      samples: generatedSamples(13 * 7 * channels, bitDepth: bitDepth))
                let bytes = try PNG.encode(image)
                XCTAssertEqual(Self.ihdrBitDepth(bytes), UInt8(bitDepth), "\(channels) channels")
                XCTAssertEqual(try PNG.read(bytes: bytes), image, "\(channels) channels at \(bitDepth) bits")
                let path = temporaryPath("mode.png")
                defer { unlink(path) }
                try PNG.write(image, path: path)
                XCTAssertEqual(try PNG.read(path: path), image)
                XCTAssertEqual(try PNG.header(path: path),
                               PNGHeader(width: 13, height: 7, channels: channels, bitDepth: bitDepth))
            }
        }
    }

    func testWrittenFilesAreTaggedSRGBNotLinear() throws {
        for bitDepth in [8, 16] {
            let image = try Image(width: 4, height: 3, channels: 3, bitDepth: bitDepth,
                                  samples: generatedSamples(36, bitDepth: bitDepth))
            let types = Self.chunkTypes(try PNG.encode(image))
            XCTAssertEqual(types.first, "IHDR")
            XCTAssertTrue(types.contains("sRGB"), "\(bitDepth) bits: \(types)")
            XCTAssertFalse(types.contains("gAMA"), "\(bitDepth) bits: \(types)")
            XCTAssertLessThan(types.firstIndex(of: "sRGB") ?? 99, types.firstIndex(of: "IDAT") ?? -1)
            if bitDepth == 16 {
                let bytes = try PNG.encode(image)
                let at = try XCTUnwrap(Self.chunkOffset(bytes, "sRGB"))
                XCTAssertEqual(Array(bytes[(at + 9)..<(at + 13)]), Self.bigEndian(pngTestCRC32(Array("sRGB".utf8) + [0])))
            }
        }
    }

    func testSixteenBitAlphaRoundTripsWithinPremultiplicationError() throws {
        // libpng's simplified API keeps 16-bit colour premultiplied by alpha;
        // the round trip is exact at alpha 65535 and close elsewhere.
        for channels in [2, 4] {
            var samples = generatedSamples(31 * 5 * channels, bitDepth: 16)
            for p in 0..<(31 * 5) where p % 3 == 0 { samples[p * channels + channels - 1] = 65535 }
            let image = try Image(width: 31, height: 5, channels: channels, bitDepth: 16, samples: samples)
            let back = try PNG.read(bytes: PNG.encode(image))
            XCTAssertEqual(back.channels, channels)
            XCTAssertEqual(back.bitDepth, 16)
            for p in 0..<(31 * 5) {
                let alpha = Int(samples[p * channels + channels - 1])
                XCTAssertEqual(back.samples[p * channels + channels - 1], UInt16(alpha), "alpha is exact")
                for k in 0..<(channels - 1) {
                    let want = Int(samples[p * channels + k]), got = Int(back.samples[p * channels + k])
                    if alpha == 65535 {
                        XCTAssertEqual(got, want, "opaque pixel \(p)")
                    } else if alpha == 0 {
                        XCTAssertEqual(got, 0, "colour under alpha 0 reads as 0")
                    } else {
                        XCTAssertLessThanOrEqual(abs(got - want), 65535 / alpha + 1, "pixel \(p), alpha \(alpha)")
                    }
                }
            }
        }
    }

    // MARK: Hand-built files

    func testPaletteWrittenByLibpngColormapReadsAsRGBAndRGBA() throws {
        let indices: [UInt8] = [0, 1, 2, 3, 3, 2, 1, 0, 1, 1]  // 5 x 2
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let rgba: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 10, 20, 30, 255]
        for (colormap, channels) in [(rgb, 3), (rgba, 4)] {
            var png = png_image()
            png.version = UInt32(PNG_IMAGE_VERSION)
            png.width = 5
            png.height = 2
            png.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_COLORMAP) | (channels == 4 ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0)
            png.colormap_entries = 4
            var size = 4096
            var bytes = [UInt8](repeating: 0, count: size)
            let ok = bytes.withUnsafeMutableBytes { out in
                png_image_write_to_memory(&png, out.baseAddress, &size, 0, indices, 0, colormap)
            }
            png_image_free(&png)
            XCTAssertNotEqual(ok, 0, "libpng writes colour-mapped images")
            bytes.removeLast(bytes.count - size)
            XCTAssertTrue(Self.chunkTypes(bytes).contains("PLTE"))
            XCTAssertEqual(Self.ihdrColourType(bytes), 3, "a palette file")

            let expected = indices.flatMap { i in (0..<channels).map { UInt16(colormap[Int(i) * channels + $0]) } }
            XCTAssertEqual(try PNG.read(bytes: bytes), try Image(width: 5, height: 2, channels: channels, bitDepth: 8, samples: expected))
            XCTAssertEqual(try bytes.withUnsafeBytes { try PNG.header(bytes: $0) },
                           PNGHeader(width: 5, height: 2, channels: channels, bitDepth: 8))
        }
    }

    func testHandBuiltFilesOfEveryColourTypeDecodeToTheirSamples() throws {
        // Palette with tRNS: entries 0 and 1 transparent-ish, 2 opaque (no tRNS entry).
        let palette = pngTestFile(width: 3, height: 1, bitDepth: 8, colourType: 3, rows: [[2, 0, 1]],
                                  chunks: [("PLTE", [9, 8, 7, 1, 2, 3, 200, 100, 50]), ("tRNS", [0, 77])])
        XCTAssertEqual(try PNG.read(bytes: palette).samples, [200, 100, 50, 255, 9, 8, 7, 0, 1, 2, 3, 77])
        XCTAssertEqual(try PNG.read(bytes: palette).channels, 4)

        // 8-bit gray + alpha.
        let ga = pngTestFile(width: 2, height: 2, bitDepth: 8, colourType: 4, rows: [[0, 255, 128, 0], [255, 1, 7, 9]])
        XCTAssertEqual(try PNG.read(bytes: ga), try Image(width: 2, height: 2, channels: 2, bitDepth: 8, samples: [0, 255, 128, 0, 255, 1, 7, 9]))

        // 1-bit gray widens to 0 / 255.
        let bits = pngTestFile(width: 10, height: 1, bitDepth: 1, colourType: 0, rows: [[0b1010_0110, 0b1100_0000]])
        XCTAssertEqual(try PNG.read(bytes: bits).samples, [255, 0, 255, 0, 0, 255, 255, 0, 255, 255])

        // Gray with tRNS gains an alpha channel.
        let keyed = pngTestFile(width: 3, height: 1, bitDepth: 8, colourType: 0, rows: [[5, 6, 7]], chunks: [("tRNS", [0, 6])])
        XCTAssertEqual(try PNG.read(bytes: keyed).samples, [5, 255, 6, 0, 7, 255])

        // 16-bit RGB, big-endian in the file.
        let rgb16 = pngTestFile(width: 2, height: 1, bitDepth: 16, colourType: 2,
                                rows: [[0x12, 0x34, 0xFF, 0xFF, 0x00, 0x01, 0xAB, 0xCD, 0x00, 0x00, 0x80, 0x00]])
        XCTAssertEqual(try PNG.read(bytes: rgb16), try Image(width: 2, height: 1, channels: 3, bitDepth: 16,
                                                             samples: [0x1234, 0xFFFF, 0x0001, 0xABCD, 0x0000, 0x8000]))
    }

    func testColourSpaceChunksDoNotChangeSamples() throws {
        // libpng alone would convert these (16-bit sRGB to linear light, 8-bit
        // gamma 1.0 to sRGB); rwcnn returns the stored values.
        let row16: [UInt8] = [0x00, 0x64, 0x03, 0xE8, 0x80, 0x00, 0xFF, 0xFF]  // 100, 1000, 32768, 65535
        let tags: [[(String, [UInt8])]] = [
            [("sRGB", [0])],
            [("gAMA", Self.bigEndian(45455))],
            [("gAMA", Self.bigEndian(100000)), ("cHRM", [UInt8](repeating: 1, count: 32))],
        ]
        for chunks in tags {
            let file = pngTestFile(width: 4, height: 1, bitDepth: 16, colourType: 0, rows: [row16], chunks: chunks)
            XCTAssertEqual(try PNG.read(bytes: file).samples, [100, 1000, 32768, 65535], "\(chunks.map { $0.0 })")
            let eight = pngTestFile(width: 3, height: 1, bitDepth: 8, colourType: 0, rows: [[10, 128, 250]], chunks: chunks)
            XCTAssertEqual(try PNG.read(bytes: eight).samples, [10, 128, 250], "\(chunks.map { $0.0 })")
        }
    }

    // MARK: Rejections

    func testRejectionTable() throws {
        let photo = try readFile(path: bundledImages + "/camera.png")
        var random = [UInt8](repeating: 0, count: 500)
        var state: UInt32 = 12345
        for i in random.indices { state = state &* 1664525 &+ 1013904223; random[i] = UInt8(state >> 24) }
        let huge = pngTestFile(width: 100_000, height: 100_000, bitDepth: 8, colourType: 2, rows: [])
        let cases: [(String, [UInt8], String)] = [
            ("truncated", Array(photo.prefix(100)), "format"),
            ("random bytes", random, "format"),
            ("empty", [], "format"),
            ("signature only", PNGChunks.signature, "format"),
            ("bad IHDR CRC", { var b = Array(photo.prefix(4096)); b[29] ^= 0xFF; return b }(), "format"),
            ("100000 x 100000 header", huge, "outOfMemory"),
        ]
        for (name, bytes, kind) in cases {
            XCTAssertThrowsError(try PNG.read(bytes: bytes), name) { Self.assertKind($0, kind, name) }
            let path = temporaryPath("bad.png")
            defer { unlink(path) }
            try writeFileAtomically(path: path, bytes: bytes)
            XCTAssertThrowsError(try PNG.read(path: path), name) { Self.assertKind($0, kind, name) }
        }
        XCTAssertThrowsError(try PNG.read(bytes: huge)) { error in
            XCTAssertTrue("\(error)".contains("100000x100000 = 10000000000 pixels, over the limit of \(PNG.defaultMaxPixels)"), "\(error)")
        }
        // The header alone is fine, and says why.
        XCTAssertEqual(try huge.withUnsafeBytes { try PNG.header(bytes: $0) },
                       PNGHeader(width: 100_000, height: 100_000, channels: 3, bitDepth: 8))
        XCTAssertThrowsError(try PNG.read(bytes: photo, maxPixels: 512 * 512 - 1)) { Self.assertKind($0, "outOfMemory", "limit") }
        XCTAssertNoThrow(try PNG.read(bytes: photo, maxPixels: 512 * 512))
        XCTAssertThrowsError(try PNG.read(bytes: photo, maxPixels: 0)) { Self.assertKind($0, "argument", "maxPixels 0") }

        let missing = "/nonexistent-folder/none.png"
        XCTAssertThrowsError(try PNG.read(path: missing)) { Self.assertKind($0, "io", "missing file") }
        XCTAssertThrowsError(try PNG.header(path: missing)) { Self.assertKind($0, "io", "missing header") }
        XCTAssertThrowsError(try PNG.read(path: bundledImages)) { Self.assertKind($0, "io", "folder") }
        XCTAssertThrowsError(try PNG.header(path: bundledImages)) { Self.assertKind($0, "io", "folder header") }
        XCTAssertThrowsError(try loadImageTensor(path: missing)) { Self.assertKind($0, "io", "missing tensor") }
        let image = try Image(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [1])
        XCTAssertThrowsError(try PNG.write(image, path: "/nonexistent-folder/out.png")) { Self.assertKind($0, "io", "write") }
    }

    func testImageValidation() {
        XCTAssertThrowsError(try Image(width: 2, height: 2, channels: 3, bitDepth: 8, samples: [0, 1])) { Self.assertKind($0, "argument", "count") }
        XCTAssertThrowsError(try Image(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [256])) { Self.assertKind($0, "argument", "range") }
        XCTAssertThrowsError(try Image(width: 1, height: 1, channels: 5, bitDepth: 8, samples: [0, 0, 0, 0, 0])) { Self.assertKind($0, "argument", "channels") }
        XCTAssertThrowsError(try Image(width: 1, height: 1, channels: 1, bitDepth: 12, samples: [0])) { Self.assertKind($0, "argument", "depth") }
        XCTAssertThrowsError(try Image(width: 0, height: 1, channels: 1, bitDepth: 8, samples: [])) { Self.assertKind($0, "argument", "empty") }
        XCTAssertNoThrow(try Image(width: 1, height: 1, channels: 1, bitDepth: 16, samples: [65535]))
        var broken = try? Image(width: 1, height: 1, channels: 1, bitDepth: 8, samples: [3])
        broken?.samples = [3, 4]
        if let broken { XCTAssertThrowsError(try PNG.encode(broken)) { Self.assertKind($0, "argument", "mutated") } }
    }

    // MARK: Tensors

    func testImageToTensorChannelsAndScaling() throws {
        let rgba = try Image(width: 2, height: 1, channels: 4, bitDepth: 8, samples: [255, 0, 51, 7, 10, 20, 30, 255])
        let t = try imageToTensor(rgba)
        XCTAssertEqual(t.shape, [3, 1, 2], "alpha dropped")
        let expected: [Float] = [255, 10, 0, 20, 51, 30].map { Float($0) / 255 }
        XCTAssertEqual(t.data, expected)
        let luma = try imageToTensor(rgba, channels: 1)
        for (p, (r, g, b)) in [(255.0, 0.0, 51.0), (10.0, 20.0, 30.0)].enumerated() {
            XCTAssertEqual(Double(luma.data[p]), (0.299 * r + 0.587 * g + 0.114 * b) / 255, accuracy: 1e-6)
        }
        let gray = try Image(width: 1, height: 2, channels: 2, bitDepth: 16, samples: [65535, 9, 13107, 65535])
        XCTAssertEqual(try imageToTensor(gray).data, [1, 0.2])
        XCTAssertEqual(try imageToTensor(gray, channels: 3).data, [1, 0.2, 1, 0.2, 1, 0.2])
        XCTAssertThrowsError(try imageToTensor(gray, channels: 2)) { Self.assertKind($0, "argument", "2 channels") }
        XCTAssertThrowsError(try imageToTensor(gray, channels: 4)) { Self.assertKind($0, "argument", "4 channels") }
    }

    func testTensorToImageClampsRoundsAndRoundTrips() throws {
        let t = try Tensor(shape: [1, 1, 6], data: [-0.5, 0.5, 1.5, .nan, 0.499 / 255, 0.501 / 255])
        XCTAssertEqual(try tensorToImage(t).samples, [0, 128, 255, 0, 0, 1])
        XCTAssertEqual(try tensorToImage(t, bitDepth: 16).samples, [0, 32768, 65535, 0, 128, 129])
        XCTAssertEqual(try tensorToImage(t.reshaped([1, 1, 1, 6])).width, 6, "[1, C, H, W] accepted")
        let rgb = try Tensor(shape: [3, 1, 2], data: [0, 1, 0.2, 0.4, 0.6, 0.8])
        XCTAssertEqual(try tensorToImage(rgb).samples, [0, 51, 153, 255, 102, 204], "HWC interleaving")
        for bad in [[5, 2, 2], [3, 4], [2, 3, 1, 1], [3, 0, 2]] {
            XCTAssertThrowsError(try tensorToImage(Tensor(zeros: bad)), "\(bad)") { Self.assertKind($0, "argument", "\(bad)") }
        }
        XCTAssertThrowsError(try tensorToImage(rgb, bitDepth: 12)) { Self.assertKind($0, "argument", "depth") }

        // Values on the grid of each depth survive save + load exactly.
        for (depth, top) in [(8, 255), (16, 65535)] {
            let data = (0..<(3 * 5 * 4)).map { Float(($0 * 7919) % (top + 1)) / Float(top) }
            let x = try Tensor(shape: [3, 5, 4], data: data)
            let path = temporaryPath("tensor.png")
            defer { unlink(path) }
            try saveImageTensor(x, path: path, bitDepth: depth)
            XCTAssertEqual(try loadImageTensor(path: path), x, "\(depth) bits")
            XCTAssertEqual(try PNG.header(path: path).bitDepth, depth)
        }
    }

    // MARK: PNG building blocks (independent of the code under test)

    private static func assertKind(_ error: Error, _ kind: String, _ what: String) {
        let actual: String
        switch error as? RWCNNError {
        case .argument?: actual = "argument"
        case .io?: actual = "io"
        case .format?: actual = "format"
        case .outOfMemory?: actual = "outOfMemory"
        default: actual = "\(error)"
        }
        XCTAssertEqual(actual, kind, "\(what): \(error)")
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { (shift: UInt32) -> UInt8 in UInt8(truncatingIfNeeded: v >> shift) }
    }

    private static func chunks(_ bytes: [UInt8]) -> [(type: String, offset: Int)] {
        var out: [(String, Int)] = [], at = 8
        while at + 8 <= bytes.count {
            let length = bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            out.append((String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self), at))
            at += 12 + length
        }
        return out
    }

    static func chunkTypes(_ bytes: [UInt8]) -> [String] { chunks(bytes).map { $0.type } }
    static func chunkOffset(_ bytes: [UInt8], _ type: String) -> Int? { chunks(bytes).first { $0.type == type }?.offset }
    static func ihdrBitDepth(_ bytes: [UInt8]) -> UInt8 { bytes[24] }
    static func ihdrColourType(_ bytes: [UInt8]) -> UInt8 { bytes[25] }
}

/// CRC-32 (ISO 3309, as PNG uses), bit by bit.
func pngTestCRC32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        crc ^= UInt32(b)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// A PNG file built by hand: IHDR, `chunks`, one IDAT holding a zlib stream
/// of stored (uncompressed) deflate blocks of the rows (filter byte 0 added),
/// IEND.
func pngTestFile(width: UInt32, height: UInt32, bitDepth: UInt8, colourType: UInt8, rows: [[UInt8]],
                 chunks: [(String, [UInt8])] = []) -> [UInt8] {
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return PNGTests.bigEndian(UInt32(data.count)) + body + PNGTests.bigEndian(pngTestCRC32(body))
    }
    var raw: [UInt8] = []
    for row in rows { raw.append(0); raw.append(contentsOf: row) }
    var zlib: [UInt8] = [0x78, 0x01]
    var at = 0
    repeat {
        let n = min(65535, raw.count - at)
        let final: UInt8 = at + n == raw.count ? 1 : 0
        let length = UInt16(n), complement = ~UInt16(n)
        zlib.append(final)
        zlib += [UInt8(length & 255), UInt8(length >> 8), UInt8(complement & 255), UInt8(complement >> 8)]
        zlib += raw[at..<(at + n)]
        at += n
    } while at < raw.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
    zlib += PNGTests.bigEndian(b << 16 | a)
    let ihdr: [UInt8] = PNGTests.bigEndian(width) + PNGTests.bigEndian(height) + [bitDepth, colourType, 0, 0, 0]
    var file: [UInt8] = PNGChunks.signature + chunk("IHDR", ihdr)
    for (type, data) in chunks { file += chunk(type, data) }
    return file + chunk("IDAT", zlib) + chunk("IEND", [])
}
