import XCTest
@testable import RWCNN

/// JPEG decoding against Pillow's decodes of the same files
/// (Tests/RWCNNTests/Data/jpeg, made by scripts/golden_jpeg.py), format
/// detection, and the rejection table.
final class JPEGTests: XCTestCase {
    static let folder = testsFolder + "Data/jpeg/"
    static let fixtures = ["baseline420", "baseline444", "progressive", "gray", "restarts"]

    /// libjpeg-turbo (here) and Pillow's bundled libjpeg-turbo use the same
    /// accurate integer IDCT and fancy upsampling: the samples agree exactly.
    func testDecodesLikePillow() throws {
        for name in Self.fixtures {
            let jpeg = try readFile(path: Self.folder + name + ".jpg")
            let pillow = try PNG.read(path: Self.folder + name + ".pillow.png")
            let image = try ImageFile.read(path: Self.folder + name + ".jpg")
            XCTAssertEqual(image, pillow, name)
            XCTAssertEqual(try ImageFile.read(bytes: jpeg), pillow, name)
            let header = try jpeg.withUnsafeBytes { try ImageFile.header(bytes: $0) }
            XCTAssertEqual(header, ImageHeader(format: .jpeg, width: pillow.width, height: pillow.height,
                                               channels: pillow.channels, bitDepth: 8), name)
            XCTAssertEqual(try ImageFile.header(path: Self.folder + name + ".jpg"), header, name)
            // The tensor loader takes JPEGs too, gray replicated to RGB.
            let t = try loadImageTensor(path: Self.folder + name + ".jpg")
            XCTAssertEqual(t, try imageToTensor(pillow, channels: 3), name)
        }
    }

    func testFormatComesFromTheBytesNotTheName() throws {
        let jpeg = try readFile(path: Self.folder + "gray.jpg")
        let png = try readFile(path: bundledImages + "/microaneurysms.png")
        let misnamedJPEG = temporaryPath("really-a-jpeg.png"), misnamedPNG = temporaryPath("really-a-png.jpg")
        defer { unlink(misnamedJPEG); unlink(misnamedPNG) }
        try writeFileAtomically(path: misnamedJPEG, bytes: jpeg)
        try writeFileAtomically(path: misnamedPNG, bytes: png)
        XCTAssertEqual(try ImageFile.header(path: misnamedJPEG).format, .jpeg)
        XCTAssertEqual(try ImageFile.read(path: misnamedPNG), try PNG.read(bytes: png))
        XCTAssertEqual(try ImageFile.header(path: misnamedPNG).format, .png)
    }

    func testFolderListingTakesEveryExtensionInAnyCase() throws {
        let dir = temporaryPath("listing")
        XCTAssertEqual(mkdir(dir, 0o755), 0)
        let names = ["a.png", "b.JPG", "c.jpeg", "d.JpEg", "e.PNG", "f.txt", "g.jpgx", "png", ".h.jpg"]
        for name in names { try writeFileAtomically(path: dir + "/" + name, bytes: [0]) }
        defer { for name in names { unlink(dir + "/" + name) }; rmdir(dir) }
        XCTAssertEqual(try listImageFiles(in: dir).map { String($0.dropFirst(dir.count + 1)) },
                       ["a.png", "b.JPG", "c.jpeg", "d.JpEg", "e.PNG"])
    }

    /// Offset of the first SOF marker's height field.
    private static func frameHeaderOffset(_ bytes: [UInt8]) -> Int {
        var at = 2
        while at + 4 < bytes.count {
            let marker = bytes[at + 1], length = Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            if marker == 0xC0 || marker == 0xC1 || marker == 0xC2 { return at + 5 }
            at += 2 + length
        }
        return -1
    }

    func testRejectionTable() throws {
        let file = try readFile(path: Self.folder + "baseline420.jpg")
        let progressive = try readFile(path: Self.folder + "progressive.jpg")
        let sof = Self.frameHeaderOffset(file)
        XCTAssertGreaterThan(sof, 0)
        var huge = file
        huge.replaceSubrange(sof..<(sof + 4), with: [0xFF, 0xDC, 0xFF, 0xDC])  // 65500 x 65500
        var zeroWidth = file
        zeroWidth.replaceSubrange((sof + 2)..<(sof + 4), with: [0, 0])
        var badTable = file
        badTable[5] = 0x01  // the first segment's length runs past its data
        var cmyk = file
        cmyk[sof + 4] = 4  // four components: a CMYK frame the rest of the file does not match
        let cases: [(String, [UInt8], String)] = [
            ("truncated to half", Array(file.prefix(file.count / 2)), "format"),
            ("truncated after the header", Array(file.prefix(sof + 20)), "format"),
            ("progressive truncated", Array(progressive.prefix(progressive.count * 2 / 3)), "format"),
            ("SOI only", [0xFF, 0xD8, 0xFF], "format"),
            ("bad segment length", badTable, "format"),
            ("zero width", zeroWidth, "format"),
            ("four components", cmyk, "format"),
            ("65500 x 65500 header", huge, "outOfMemory"),
            ("neither format", Array("GIF89a........".utf8), "format"),
            ("empty", [], "format"),
        ]
        for (name, bytes, kind) in cases {
            XCTAssertThrowsError(try ImageFile.read(bytes: bytes), name) { Self.assertKind($0, kind, name) }
            let path = temporaryPath("bad.jpg")
            defer { unlink(path) }
            try writeFileAtomically(path: path, bytes: bytes)
            XCTAssertThrowsError(try ImageFile.read(path: path), name) { Self.assertKind($0, kind, name) }
            XCTAssertThrowsError(try loadImageTensor(path: path), name) { Self.assertKind($0, kind, name) }
        }
        XCTAssertThrowsError(try ImageFile.read(bytes: huge)) { error in
            XCTAssertTrue("\(error)".contains("65500x65500 = 4290250000 pixels, over the limit"), "\(error)")
        }
        XCTAssertEqual(try huge.withUnsafeBytes { try ImageFile.header(bytes: $0) },
                       ImageHeader(format: .jpeg, width: 65500, height: 65500, channels: 3, bitDepth: 8))
        XCTAssertThrowsError(try file.withUnsafeBytes { try ImageFile.read(bytes: $0, maxPixels: 67 * 45 - 1) }) {
            Self.assertKind($0, "outOfMemory", "limit")
        }
        XCTAssertNoThrow(try file.withUnsafeBytes { try ImageFile.read(bytes: $0, maxPixels: 67 * 45) })
        XCTAssertThrowsError(try ImageFile.read(bytes: Array("GIF89a".utf8))) { error in
            XCTAssertTrue("\(error)".contains("neither a PNG nor a JPEG"), "\(error)")
        }
        XCTAssertThrowsError(try ImageFile.read(path: "/nonexistent-folder/none.jpg")) { Self.assertKind($0, "io", "missing") }
        XCTAssertThrowsError(try ImageFile.header(path: bundledImages)) { Self.assertKind($0, "io", "folder") }
    }

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
}
