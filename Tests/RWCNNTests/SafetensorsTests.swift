import Foundation
import XCTest
import RWCNN

final class SafetensorsTests: XCTestCase {
    // MARK: round trips

    private func sampleFile() throws -> SafetensorsFile {
        try SafetensorsFile(
            metadata: ["arch": "vgg16", "quote\"d": "line\nbreak \\ tab\t caf\u{e9} \u{1F600}", "empty": ""],
            tensors: [
                (name: "encoder.conv1_1.weight", tensor: Tensor(shape: [2, 1, 3, 3], data: (0..<18).map { Float($0) * 0.25 - 2 })),
                (name: "scalar", tensor: Tensor(shape: [], data: [-7.5])),
                (name: "empty", tensor: Tensor(shape: [0, 5], data: [])),
                (name: "specials", tensor: Tensor(shape: [5], data: [.infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude])),
                (name: "a", tensor: Tensor(shape: [1], data: [1])),
            ])
    }

    private func assertSameContent(_ a: SafetensorsFile, _ b: SafetensorsFile, line: UInt = #line) {
        XCTAssertEqual(a.metadata, b.metadata, line: line)
        XCTAssertEqual(a.tensors.map(\.name), b.tensors.map(\.name), line: line)
        for (x, y) in zip(a.tensors, b.tensors) {
            XCTAssertEqual(x.tensor.shape, y.tensor.shape, x.name, line: line)
            XCTAssertEqual(x.tensor.data.map(\.bitPattern), y.tensor.data.map(\.bitPattern), x.name, line: line)
        }
    }

    func testRoundTripInMemoryAndThroughAFile() throws {
        let file = try sampleFile()
        let bytes = try file.encode()
        assertSameContent(try SafetensorsFile.decode(bytes: bytes), file)

        let path = temporaryPath("roundtrip.safetensors")
        defer { unlink(path) }
        try file.write(path: path)
        assertSameContent(try SafetensorsFile.read(path: path), file)
        XCTAssertEqual(try readFile(path: path), bytes)
        XCTAssertEqual(try SafetensorsFile.read(path: path).tensor(named: "scalar")?.data, [-7.5])
        XCTAssertNil(try SafetensorsFile.read(path: path).tensor(named: "missing"))
        // Same content, same bytes (metadata keys are sorted).
        XCTAssertEqual(try sampleFile().encode(), bytes)
        XCTAssertEqual(try SafetensorsFile().encode().count, 16)  // "{}" padded to 8
    }

    func testWrittenLayoutIsTheSpecifiedOne() throws {
        let file = try SafetensorsFile(metadata: ["k": "v"], tensors: [
            (name: "b", tensor: Tensor(shape: [2], data: [1, -2])),
            (name: "a", tensor: Tensor(shape: [], data: [0.5])),
        ])
        let bytes = try file.encode()
        let json = #"{"__metadata__":{"k":"v"},"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}"#
        let padded = json + String(repeating: " ", count: (8 - json.utf8.count % 8) % 8)
        var expected: [UInt8] = []
        withUnsafeBytes(of: UInt64(padded.utf8.count).littleEndian) { expected += $0 }
        expected += Array(padded.utf8)
        for v: Float in [1, -2, 0.5] { withUnsafeBytes(of: v.bitPattern.littleEndian) { expected += $0 } }
        XCTAssertEqual(bytes, expected)
        XCTAssertEqual((bytes.count - 12) % 8, 0)
    }

    func testEncodeRejectsBadNames() throws {
        let t = try Tensor(shape: [1], data: [1])
        for names in [["x", "x"], [""], ["__metadata__"]] {
            XCTAssertThrowsError(try SafetensorsFile(tensors: names.map { (name: $0, tensor: t) }).encode()) { e in
                guard case .argument? = e as? RWCNNError else { return XCTFail("\(names): \(e)") }
            }
        }
    }

    // MARK: the numpy-written fixture (scripts/make_safetensors_fixture.py)

    func testReadsTheCommittedNumpyWrittenFixture() throws {
        let f = try SafetensorsFile.read(path: testsFolder + "Data/numpy_written.safetensors")
        XCTAssertEqual(f.metadata, ["producer": "numpy+safetensors", "note": "caf\u{e9} \"quoted\"\n\u{2713}"])
        XCTAssertEqual(Set(f.tensors.map(\.name)), ["f32", "f64", "f16", "bf16", "scalar", "empty"])
        func check(_ name: String, _ shape: [Int], _ values: [Float]) {
            guard let t = f.tensor(named: name) else { return XCTFail("no tensor \(name)") }
            XCTAssertEqual(t.shape, shape, name)
            XCTAssertEqual(t.data.map(\.bitPattern), values.map(\.bitPattern), "\(name): \(t.data)")
        }
        check("f32", [2, 3], [0, 1, -2.5, 3.25, 1e-3, -65504])
        check("f64", [4], [Float(0.1 as Double), -1e10, 3, 0])  // 1e-300 underflows to +0
        check("f16", [3, 2], [1, -0.5, 65504, 0x1p-24, .infinity, -0.0])
        check("bf16", [6], [1, -2, 0.15625, 3.140625, 0x1p100, -0.0])
        check("scalar", [], [7.5])
        check("empty", [0, 4], [])
    }

    // MARK: the reference Python package, when it is installed

    private func runPython(_ code: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", code] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func requirePythonSafetensors() throws {
        guard let r = try? runPython("import safetensors, numpy", []), r.status == 0 else {
            throw XCTSkip("python3 with safetensors and numpy is not available")
        }
    }

    func testReadsAFileWrittenByPythonSafetensors() throws {
        try requirePythonSafetensors()
        let path = temporaryPath("from-python.safetensors")
        defer { unlink(path) }
        let code = """
        import sys, numpy as np
        from safetensors.numpy import save_file
        save_file({
            "w": np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8 - 1,
            "d": np.array([[0.5, -1e-3], [1e5, 2.0]], dtype=np.float64),
            "h": np.array([0.25, -3.0, 1024.0], dtype=np.float16),
            "s": np.array(3.5, dtype=np.float32),
        }, sys.argv[1], metadata={"who": "python"})
        """
        let r = try runPython(code, [path])
        XCTAssertEqual(r.status, 0, r.output)
        let f = try SafetensorsFile.read(path: path)
        XCTAssertEqual(f.metadata, ["who": "python"])
        XCTAssertEqual(f.tensor(named: "w")?.shape, [2, 3, 4])
        XCTAssertEqual(f.tensor(named: "w")?.data, (0..<24).map { Float($0) / 8 - 1 })
        XCTAssertEqual(f.tensor(named: "d")?.data, [0.5, Float(-1e-3 as Double), 1e5, 2])
        XCTAssertEqual(f.tensor(named: "h")?.data, [0.25, -3, 1024])
        XCTAssertEqual(f.tensor(named: "s")?.shape, [])
        XCTAssertEqual(f.tensor(named: "s")?.data, [3.5])
    }

    func testPythonSafetensorsReadsOurFiles() throws {
        try requirePythonSafetensors()
        let path = temporaryPath("to-python.safetensors")
        defer { unlink(path) }
        try sampleFile().write(path: path)
        let code = """
        import sys, numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="np") as f:
            meta = f.metadata()
        assert meta == {"arch": "vgg16", "quote\\"d": "line\\nbreak \\\\ tab\\t caf\\u00e9 \\U0001F600", "empty": ""}, meta
        assert sorted(t) == ["a", "empty", "encoder.conv1_1.weight", "scalar", "specials"], sorted(t)
        w = t["encoder.conv1_1.weight"]
        assert w.dtype == np.float32 and w.shape == (2, 1, 3, 3), (w.dtype, w.shape)
        assert np.array_equal(w.ravel(), np.arange(18, dtype=np.float32) * 0.25 - 2), w
        assert t["scalar"].shape == () and t["scalar"] == -7.5, t["scalar"]
        assert t["empty"].shape == (0, 5), t["empty"].shape
        s = t["specials"]
        big = np.finfo(np.float32)
        assert np.array_equal(s, np.array([np.inf, -np.inf, -0.0, big.smallest_subnormal, big.max], dtype=np.float32)), s
        assert np.signbit(s[2]), s
        assert np.array_equal(t["a"], [1.0])
        print("ok")
        """
        let r = try runPython(code, [path])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("ok"), r.output)
    }

    // MARK: bad input

    /// A file made of a JSON header (padded to 8 like the writer) and `data` bytes.
    private func rawFile(_ header: String, data: Int) -> [UInt8] {
        var h = Array(header.utf8)
        h += repeatElement(UInt8(ascii: " "), count: (8 - h.count % 8) % 8)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(h.count).littleEndian) { out += $0 }
        return out + h + [UInt8](repeating: 0, count: data)
    }

    private func withLength(_ n: UInt64, _ rest: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: n.littleEndian) { out += $0 }
        return out + rest
    }

    func testBadInputsAreFormatErrors() throws {
        let good = rawFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: 8)
        XCTAssertEqual(try SafetensorsFile.decode(bytes: good).tensor(named: "a")?.data, [0, 0])
        let entry = { (dtype: String, shape: String, offsets: String) in
            #"{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
        }
        let cases: [(String, [UInt8], String)] = [
            ("empty file", [], "too short"),
            ("5 bytes", [1, 0, 0, 0, 0], "too short"),
            ("truncated header", Array(good.prefix(30)), "beyond the end"),
            ("truncated data", Array(good.dropLast(3)), "out of range"),
            ("trailing data", good + [0, 0, 0, 0], "after the last tensor"),
            ("huge header length", withLength(1 << 40, Array(good.dropFirst(8))), "limit"),
            ("all-ones header length", withLength(.max, Array(good.dropFirst(8))), "limit"),
            ("header just above the limit", withLength(100_000_001, []), "limit"),
            ("bad JSON", rawFile(#"{"a": {"dtype": "F32", "shape": [2], "#, data: 8), "JSON"),
            ("trailing garbage in JSON", rawFile(#"{} x"#, data: 0), "JSON"),
            ("invalid UTF-8 in header", rawFile("{\"\u{FF}\":1}", data: 0).enumerated().map { $0.offset == 10 ? 0xFF : $0.element }, "JSON"),
            ("header not an object", rawFile("[1, 2]", data: 0), "not a JSON object"),
            ("entry not an object", rawFile(#"{"a":3}"#, data: 0), "not an object"),
            ("bad dtype", rawFile(#"{"a":\#(entry("I64", "[1]", "[0,8]"))}"#, data: 8), "I64"),
            ("missing dtype", rawFile(#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, data: 8), "dtype"),
            ("missing shape", rawFile(#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, data: 8), "shape"),
            ("missing offsets", rawFile(#"{"a":{"dtype":"F32","shape":[2]}}"#, data: 8), "data_offsets"),
            ("three offsets", rawFile(#"{"a":\#(entry("F32", "[2]", "[0,8,8]"))}"#, data: 8), "data_offsets"),
            ("negative dimension", rawFile(#"{"a":\#(entry("F32", "[-2]", "[0,8]"))}"#, data: 8), "shape"),
            ("fractional dimension", rawFile(#"{"a":\#(entry("F32", "[1.5]", "[0,8]"))}"#, data: 8), "shape"),
            ("string dimension", rawFile(#"{"a":\#(entry("F32", "[\"2\"]", "[0,8]"))}"#, data: 8), "shape"),
            ("shape product overflow", rawFile(#"{"a":\#(entry("F32", "[4294967296,4294967296,4]", "[0,8]"))}"#, data: 8), "too many"),
            ("offsets out of range", rawFile(#"{"a":\#(entry("F32", "[100]", "[0,400]"))}"#, data: 8), "out of range"),
            ("offsets reversed", rawFile(#"{"a":\#(entry("F32", "[0]", "[8,0]"))}"#, data: 8), "out of range"),
            ("size mismatch", rawFile(#"{"a":\#(entry("F32", "[2]", "[0,4]"))}"#, data: 4), "needs 8 bytes"),
            ("overlap", rawFile(#"{"a":\#(entry("F32", "[2]", "[0,8]")),"b":\#(entry("F32", "[2]", "[4,12]"))}"#, data: 12), "overlaps"),
            ("hole", rawFile(#"{"a":\#(entry("F32", "[1]", "[0,4]")),"b":\#(entry("F32", "[1]", "[8,12]"))}"#, data: 12), "gap"),
            ("duplicate names", rawFile(#"{"a":\#(entry("F32", "[1]", "[0,4]")),"a":\#(entry("F32", "[1]", "[4,8]"))}"#, data: 8), "duplicate"),
            ("metadata not an object", rawFile(#"{"__metadata__":[1]}"#, data: 0), "__metadata__"),
            ("metadata value not a string", rawFile(#"{"__metadata__":{"k":1}}"#, data: 0), "__metadata__"),
        ]
        for (what, bytes, fragment) in cases {
            XCTAssertThrowsError(try SafetensorsFile.decode(bytes: bytes), what) { e in
                guard case .format(let m)? = e as? RWCNNError else { return XCTFail("\(what): \(e)") }
                XCTAssertTrue(m.contains(fragment), "\(what): message \"\(m)\" lacks \"\(fragment)\"")
            }
        }
    }

    func testReadNamesThePathAndMissingFilesAreIOErrors() throws {
        let path = temporaryPath("bad.safetensors")
        defer { unlink(path) }
        try writeFileAtomically(path: path, bytes: [1, 2, 3])
        XCTAssertThrowsError(try SafetensorsFile.read(path: path)) { e in
            guard case .format(let m)? = e as? RWCNNError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains(path), m)
        }
        XCTAssertThrowsError(try SafetensorsFile.read(path: path + ".missing")) { e in
            guard case .io? = e as? RWCNNError else { return XCTFail("\(e)") }
        }
    }

    // MARK: files

    func testAtomicWriteReplacesAndLeavesNoTemporaryFiles() throws {
        let folder = temporaryPath("folder")
        XCTAssertEqual(mkdir(folder, 0o755), 0)
        defer { rmdir(folder) }
        let path = folder + "/out.bin"
        defer { unlink(path) }
        try writeFileAtomically(path: path, bytes: Array("first version".utf8))
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        try writeFileAtomically(path: path, bytes: big)
        XCTAssertEqual(try readFile(path: path), big)
        try writeFileAtomically(path: path, bytes: [])
        XCTAssertEqual(try readFile(path: path), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out.bin"])
    }

    func testFileErrorsAreIOErrorsWithTheSystemReason() throws {
        let missingFolder = temporaryPath("no-such-folder")
        XCTAssertThrowsError(try readFile(path: missingFolder + "/x")) { e in
            guard case .io(let m)? = e as? RWCNNError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("No such file"), m)
        }
        XCTAssertThrowsError(try writeFileAtomically(path: missingFolder + "/x", bytes: [1])) { e in
            guard case .io(let m)? = e as? RWCNNError else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("No such file"), m)
        }
        XCTAssertThrowsError(try readFile(path: "/tmp")) { e in
            guard case .io? = e as? RWCNNError else { return XCTFail("\(e)") }
        }
        // Renaming over a folder fails; the temporary file is removed.
        let folder = temporaryPath("target-folder")
        XCTAssertEqual(mkdir(folder, 0o755), 0)
        defer { rmdir(folder) }
        XCTAssertThrowsError(try writeFileAtomically(path: folder, bytes: [1])) { e in
            guard case .io? = e as? RWCNNError else { return XCTFail("\(e)") }
        }
        let parent = String(folder[..<(folder.lastIndex(of: "/") ?? folder.startIndex)])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: parent)
            .filter { $0.hasPrefix(String(folder.split(separator: "/").last ?? "")) }
        XCTAssertEqual(leftovers.count, 1, "\(leftovers)")
    }
}
