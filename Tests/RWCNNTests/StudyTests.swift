import XCTest
@testable import RWCNN

/// The one-layer theory against its formula, the studies' plans and the
/// resolution baseline. (End to end runs and the report: bindings/python/tests/test_study.py.)
final class StudyTests: XCTestCase {
    func testAdjointCosineFollowsTheTheory() throws {
        // n = 27 inputs (a 3x3 RGB patch): measured within 0.03 of (1 + 2n/N)^(-1/2).
        for outputs in [64, 256, 1024] {
            let c = try AdjointCosine.measure(inputs: 27, outputs: outputs, samples: 400, seed: 0)
            let predicted = 1 / (1 + 54 / Double(outputs)).squareRoot()  // by hand
            XCTAssertEqual(c.predicted, predicted, accuracy: 1e-12)
            XCTAssertEqual(c.measured, predicted, accuracy: 0.03, "N = \(outputs)")
            XCTAssertGreaterThan(c.deviation, 0)
        }
        XCTAssertThrowsError(try AdjointCosine.measure(inputs: 0, outputs: 4, samples: 1, seed: 0))
    }

    func testPlansHaveUniqueRunsAndTheRequiredBaselines() {
        let settings = StudySettings(dataFolder: "data/images")
        for study in StudyName.allCases {
            let runs = study.runs(settings)
            XCTAssertFalse(runs.isEmpty, study.rawValue)
            XCTAssertEqual(Set(runs.map(\.id)).count, runs.count, "\(study.rawValue): run ids are unique")
        }
        let layers = StudyName.layers.runs(settings)
        for cut in studyCuts {
            XCTAssertEqual(Set(layers.filter { $0.config.cut == cut }.map(\.method)), [.trained, .random, .bicubic], cut)
        }
        let seeds = Dictionary(grouping: StudyName.distributions.runs(settings), by: { "\($0.x) \($0.method)" }).mapValues { Set($0.map(\.config.seed)) }
        XCTAssertEqual(Set(StudyName.shape.runs(settings).map(\.x)), ["with pools", "no pools", "k1", "k3", "k5", "k7"])
        XCTAssertEqual(Set(StudyName.shape.runs(settings).compactMap(\.config.kernelSize)), [1, 3, 5, 7])
        XCTAssertEqual(seeds.count, 10)
        XCTAssertTrue(seeds.values.allSatisfy { $0.count >= 3 }, "at least 3 seeds per distribution")
    }

    func testResolutionBaseline() throws {
        // A constant image stays constant; at full resolution the image is
        // kept; a linear ramp along x, box-averaged by 2, comes back exactly
        // away from the edges (cubic convolution reproduces linear functions).
        let constant = try Tensor(shape: [1, 3, 16, 16], data: [Float](repeating: 0.3, count: 768))
        for v in try resolutionBaseline(constant, height: 4, width: 4).data { XCTAssertEqual(v, 0.3, accuracy: 1e-6) }
        let image = try resizeAndCenterCrop(loadImageTensor(path: bundledImages + "/coffee.png"), size: 32)
        XCTAssertEqual(try resolutionBaseline(image, height: 32, width: 32).data, image.data)
        var ramp = [Float]()
        for _ in 0..<16 { for x in 0..<16 { ramp.append(Float(0.1 + 0.05 * Double(x))) } }
        let out = try resolutionBaseline(try Tensor(shape: [1, 16, 16], data: ramp), height: 8, width: 8)
        for y in 0..<16 { for x in 3..<13 { XCTAssertEqual(out.data[y * 16 + x], ramp[y * 16 + x], accuracy: 1e-5, "\(x)") } }
        XCTAssertThrowsError(try resolutionBaseline(image, height: 33, width: 2))
    }
}
