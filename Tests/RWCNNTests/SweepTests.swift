import XCTest
import RWCNN

/// `Sweep`: grid files, run numbering (nested loops, the last key fastest), errors.
final class SweepTests: XCTestCase {
    private func sweep(_ text: String) throws -> Sweep { try Sweep(json: Array(text.utf8)) }

    func testRunsAreTheGridsCombinationsLastKeyFastest() throws {
        let s = try sweep("""
        {"data": "photos", "base": {"steps": 7, "crop": 32, "cut": "pool1"},
         "grid": {"cut": ["pool1", "pool2"], "width": [0.25, 0.5, 1], "init": ["normal", "laplace"], "seed": [0, 1]}}
        """)
        XCTAssertEqual(s.count, 24)
        var expected: [(String, Double, Distribution, UInt64)] = []
        for cut in ["pool1", "pool2"] {
            for width in [0.25, 0.5, 1] {
                for dist in [Distribution.normal, .laplace] {
                    for seed: UInt64 in [0, 1] { expected.append((cut, width, dist, seed)) }
                }
            }
        }
        for (i, e) in expected.enumerated() {
            let r = try s.run(i)
            XCTAssertEqual(r.index, i)
            XCTAssertEqual(r.model.cut, e.0)
            XCTAssertEqual(r.model.width, e.1)
            XCTAssertEqual(r.model.weightInit.distribution, e.2)
            XCTAssertEqual(r.model.seed, e.3)
            XCTAssertEqual(r.model.decoder, .trained)
            XCTAssertEqual(r.train.steps, 7)
            XCTAssertEqual(r.train.crop, 32)
            XCTAssertEqual(r.train.dataFolder, "photos")
            // Settings in the documented key order, the grid's value replacing the base's.
            // "init" is the old name of "distribution", read as it.
            XCTAssertEqual(r.settings.map(\.0), ["cut", "width", "distribution", "seed", "steps", "crop"])
        }
        XCTAssertThrowsError(try s.run(24))
        XCTAssertThrowsError(try s.run(-1))
        XCTAssertEqual(try sweep(#"{"data": "d"}"#).count, 1)
    }

    func testBadGridsAreClearErrors() {
        func refused(_ text: String, _ word: String) {
            XCTAssertThrowsError(try sweep(text), word) { e in
                guard let r = e as? RWCNNError else { return XCTFail("\(e)") }
                XCTAssertTrue(r.message.contains(word), r.message)
            }
        }
        refused(#"{"base": {}}"#, "\"data\"")
        refused(#"[1, 2]"#, "JSON object")
        refused(#"{"data": "d", "grid": {"colour": [1]}}"#, "unknown setting \"colour\"")
        refused(#"{"data": "d", "grid": {"cut": "pool1"}}"#, "non-empty list")
        refused(#"{"data": "d", "grid": {"cut": []}}"#, "non-empty list")
        refused(#"{"data": "d", "base": {"steps": 1.5}}"#, "steps must be an integer")
        refused(#"{"data": "d", "base": {"init": "cauchy"}}"#, "one of normal")
        refused(#"{"data": "d", "grid": {"cut": ["pool1", "pool9"]}}"#, "run 1")
        refused(#"{"data": "d", "base": {"crop": 8}, "grid": {"cut": ["pool1"]}}"#, "crop")
        refused(#"{"data": "d", "extra": 1}"#, "unexpected \"extra\"")
        refused(#"{"data": "d", "grid": {"seed": [0, 1"#, "unterminated")
    }
}
