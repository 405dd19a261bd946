import XCTest
@testable import RWCNN
#if canImport(Glibc)
import Glibc
#endif

/// Hostile input through the Swift API (the C and Python suites have the
/// full list, with resource bounds): each case builds its input here.
final class HostileInputTests: XCTestCase {
    private func folder() -> String {
        var template = Array("/tmp/rwcnn-hostile-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }

    private func kind(_ error: Error) -> String {
        switch error as? RWCNNError {
        case .argument?: return "argument"
        case .io?: return "io"
        case .format?: return "format"
        case .outOfMemory?: return "outOfMemory"
        default: return "\(error)"
        }
    }

    func testNonRegularFilesAreRefusedByName() throws {
        let dir = folder()
        let fifo = dir + "/x.png"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        for (path, name) in [(fifo, "FIFO"), ("/dev/zero", "character device"), (dir, "folder")] {
            XCTAssertThrowsError(try readFile(path: path)) { e in
                XCTAssertEqual(kind(e), "io")
                XCTAssertTrue("\(e)".contains(name), "\(e)")
            }
        }
        XCTAssertThrowsError(try PNG.header(path: fifo)) { XCTAssertEqual(kind($0), "io") }
    }

    func testReadCapAndBudgetOverflow() throws {
        let dir = folder()
        try writeFileAtomically(path: dir + "/f", bytes: [UInt8](repeating: 7, count: 1000))
        XCTAssertEqual(try readFile(path: dir + "/f", maxBytes: 1000).count, 1000)
        XCTAssertThrowsError(try readFile(path: dir + "/f", maxBytes: 999)) { XCTAssertEqual(kind($0), "outOfMemory") }
        XCTAssertThrowsError(try MemoryBudget.check(count: Int.max, size: 2, what: "x")) { XCTAssertEqual(kind($0), "outOfMemory") }
        XCTAssertThrowsError(try MemoryBudget.setLimit(1000)) { XCTAssertEqual(kind($0), "argument") }
    }

    func testPNGChunkPastTheEndAndSkippedText() throws {
        let rows = [[UInt8]](repeating: [UInt8](repeating: 200, count: 12), count: 4)
        let big = [UInt8](repeating: 65, count: 1 << 20)
        let good = pngTestFile(width: 4, height: 4, bitDepth: 8, colourType: 2, rows: rows,
                               chunks: [("tEXt", Array("k".utf8) + [0] + big)])
        let image = try PNG.read(bytes: good)
        XCTAssertEqual(image.samples, [UInt16](repeating: 200, count: 48))
        var cut = Array(good.prefix(33)) + [0x7F, 0xFF, 0xFF, 0xFF] + Array("tEXt".utf8)
        cut += [UInt8](repeating: 0, count: 20)
        XCTAssertThrowsError(try PNG.read(bytes: cut)) { e in
            XCTAssertEqual(kind(e), "format")
            XCTAssertTrue("\(e)".contains("tEXt") && "\(e)".contains("past the end"), "\(e)")
        }
    }

    func testModelFileChecksBeforeAnythingIsDrawn() throws {
        let model = try Model(config: ModelConfig(arch: "4,M,8", cut: "conv2_1", seed: 2))
        var file = try model.fileContents()
        file.tensors.append((name: "encoder.conv7_1.weight", tensor: Tensor(zeros: [2])))
        XCTAssertThrowsError(try Model(file: file)) { e in
            XCTAssertEqual(kind(e), "format"); XCTAssertTrue("\(e)".contains("encoder.conv7_1.weight"))
        }
        file = try model.fileContents(includeEncoder: false)
        XCTAssertNoThrow(try Model(file: file))
        file.metadata["seed"] = "3"
        XCTAssertThrowsError(try Model(file: file)) { e in
            XCTAssertEqual(kind(e), "format"); XCTAssertTrue("\(e)".contains("seed"), "\(e)")
        }
        file.metadata["encoder_fingerprint"] = nil          // an old file: loads
        XCTAssertNoThrow(try Model(file: file))
        file = try model.fileContents()
        file.tensors[0].tensor.data[0] = .nan
        XCTAssertThrowsError(try Model(file: file)) { XCTAssertEqual(kind($0), "format") }
        file = try model.fileContents()
        file.metadata["arch"] = "8192,8192k7"; file.metadata["encoder_fingerprint"] = nil
        XCTAssertThrowsError(try Model(file: file)) { XCTAssertEqual(kind($0), "format") }
    }

    func testAbsurdInitIsAnArgumentError() {
        for w in [WeightInit(scale: .fixed(std: 1e300)), WeightInit(scale: .fixed(std: .nan)), WeightInit(mean: -1e9)] {
            XCTAssertThrowsError(try Model(config: ModelConfig(arch: "4", cut: "conv1_1", weightInit: w))) {
                XCTAssertEqual(kind($0), "argument")
            }
        }
    }

    func testStaleTemporariesOfDeadWritersAreRemoved() throws {
        let dir = folder(), target = dir + "/m.bin"
        let child = fork()
        if child == 0 { _exit(0) }
        var status: Int32 = 0
        waitpid(child, &status, 0)
        let stale = "\(target).tmp-\(child)-ab12", mine = "\(target).tmp-\(getpid())-cd34"
        let live = "\(target).tmp-\(getppid())-ef56"
        for p in [stale, mine, live] { try writeFileAtomically(path: p, bytes: [1]) }
        try writeFileAtomically(path: target, bytes: [2])
        XCTAssertEqual(access(stale, F_OK), -1)
        XCTAssertEqual(access(mine, F_OK), 0)
        XCTAssertEqual(access(live, F_OK), 0)
        XCTAssertEqual(try readFile(path: target), [2])
    }
}
