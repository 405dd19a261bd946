// The algorithm each convolution pass of a job takes (`rwcnn info --plan`),
// against the kernels' rules worked out by hand for VGG16 at the paper's
// training size.
import XCTest
@testable import RWCNN

final class PlanAlgorithmsTests: XCTestCase {
    func testTrainStepAtPool2ByHand() throws {
        let vgg = try Architecture(spec: "vgg16")
        let cut = vgg.layers.firstIndex { $0.name == "pool2" }!
        let passes = try WorkingMemory.plannedConvolutions(
            .trainStep, architecture: vgg, cutIndex: cut, batch: 16, height: 64, width: 64,
            settings: WorkingMemorySettings(decoder: .trained, context: ExecutionContext(threads: 2)))
        let table = passes.map { "\($0.pass.rawValue) \($0.layer): \($0.algorithm.rawValue) \($0.tiles)" }
        XCTAssertEqual(table, [
            // The 3-channel first layer stays on im2col; the others use the cached encoder weights.
            "encoder forward conv1_1: im2col + GEMM 4096",
            "encoder forward conv1_2: Winograd F(4x4,3x3), cached weights 4096",
            "encoder forward conv2_1: Winograd F(4x4,3x3), cached weights 1024",
            "encoder forward conv2_2: Winograd F(4x4,3x3), cached weights 1024",
            // Trained decoder weights are transformed in every call.
            "decoder forward conv2_2: Winograd F(4x4,3x3) 1024",
            "decoder forward conv2_1: Winograd F(4x4,3x3) 1024",
            "decoder forward conv1_2: Winograd F(4x4,3x3) 4096",
            "decoder forward conv1_1: Winograd F(4x4,3x3) 4096",
            // Image side first; the 3-channel products stay on GEMM, and
            // no gradient goes below the conv nearest the cut.
            "decoder weight gradient conv1_1: im2col + GEMM 4096",
            "decoder backward data conv1_1: im2col + GEMM 4096",
            "decoder weight gradient conv1_2: Winograd F(4x4,3x3) 4096",
            "decoder backward data conv1_2: Winograd F(4x4,3x3) 4096",
            "decoder weight gradient conv2_1: Winograd F(4x4,3x3) 1024",
            "decoder backward data conv2_1: Winograd F(4x4,3x3) 1024",
            "decoder weight gradient conv2_2: Winograd F(4x4,3x3) 1024",
        ])
    }

    func testEncodeOnlyListsTheEncoder() throws {
        let arch = try Architecture(spec: "8,1k1,M")
        let passes = try WorkingMemory.plannedConvolutions(.encode, architecture: arch, cutIndex: 2, batch: 1,
                                                           height: 8, width: 8)
        XCTAssertEqual(passes.map(\.pass), [.encoderForward, .encoderForward])
        XCTAssertEqual(passes.map(\.algorithm), [.im2col, .pointwise])
    }
}
