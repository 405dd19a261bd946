import Foundation
import XCTest
import RWCNN

/// What a Swift user meets first: error text through `localizedDescription`
/// and `Sendable` value types (a compile-time check: this file does not
/// build if one of them loses the conformance).
final class SwiftSurfaceTests: XCTestCase {
    private func sendable<T: Sendable>(_: T.Type) {}

    func testValueTypesAndModelAreSendable() {
        sendable(Tensor.self); sendable(Image.self); sendable(ImageHeader.self); sendable(ImageFormat.self)
        sendable(PNGHeader.self); sendable(Layer.self); sendable(Architecture.self); sendable(ModelConfig.self)
        sendable(DecoderMode.self); sendable(UnpoolMode.self); sendable(Distribution.self); sendable(ScaleRule.self)
        sendable(WeightInit.self); sendable(TrainOptions.self); sendable(TrainProgress.self); sendable(TrainResult.self)
        sendable(EvalMetrics.self); sendable(OptimizerKind.self); sendable(RWCNNError.self); sendable(Model.self)
    }

    func testLocalizedDescriptionIsTheMessage() {
        let cases: [RWCNNError] = [.argument("bad cut"), .io("cannot open x"), .format("not a JPEG"),
                                   .outOfMemory("too big"), .cancelled("stopped"), .internal("bug")]
        for e in cases {
            XCTAssertEqual((e as Error).localizedDescription, e.message)
        }
        XCTAssertThrowsError(try Architecture(spec: "vgg16").index(of: "pool9")) { error in
            XCTAssertTrue(error.localizedDescription.hasPrefix("unknown layer \"pool9\""), error.localizedDescription)
        }
    }

    func testConcurrentReadsOfOneModel() throws {
        let model = try Model(config: ModelConfig(arch: "8,M,16", cut: "conv2_1", seed: 2, decoder: .tied))
        let image = try Tensor(shape: [1, 3, 16, 16], data: (0..<768).map { Float($0 % 17) / 17 })
        let want = try model.reconstruct(image)
        let results = UnsafeMutableBufferPointer<Tensor?>.allocate(capacity: 4)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 4) { i in results[i] = try? model.reconstruct(image) }
        for r in results { XCTAssertEqual(r, want) }
    }
}
