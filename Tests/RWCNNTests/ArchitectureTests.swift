import XCTest
import RWCNN

final class ArchitectureTests: XCTestCase {
    func testVGG16ShapesAt224() throws {
        let a = try Architecture(spec: "vgg16")
        let expected: [(String, [Int])] = [
            ("conv1_1", [64, 224, 224]), ("conv1_2", [64, 224, 224]), ("pool1", [64, 112, 112]),
            ("conv2_1", [128, 112, 112]), ("conv2_2", [128, 112, 112]), ("pool2", [128, 56, 56]),
            ("conv3_1", [256, 56, 56]), ("conv3_2", [256, 56, 56]), ("conv3_3", [256, 56, 56]), ("pool3", [256, 28, 28]),
            ("conv4_1", [512, 28, 28]), ("conv4_2", [512, 28, 28]), ("conv4_3", [512, 28, 28]), ("pool4", [512, 14, 14]),
            ("conv5_1", [512, 14, 14]), ("conv5_2", [512, 14, 14]), ("conv5_3", [512, 14, 14]), ("pool5", [512, 7, 7]),
        ]
        XCTAssertEqual(a.layerNames, expected.map(\.0))
        for (name, shape) in expected {
            XCTAssertEqual(try a.featureShape(at: name, height: 224, width: 224), shape, name)
        }
        // torchvision's features indices: conv, ReLU and pool are separate modules.
        XCTAssertEqual(a.layers.filter(\.isConv).map(\.torchIndex),
                       [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28])
        // 14,714,688 parameters in VGG16's convolutional part.
        XCTAssertEqual(a.layers.map(\.parameterCount).reduce(0, +), 14_714_688)
    }

    func testVGG19Shapes() throws {
        let a = try Architecture(spec: "vgg19")
        XCTAssertEqual(a.layers.filter(\.isConv).count, 16)
        XCTAssertEqual(a.layerNames.filter { $0.hasPrefix("conv3_") }, ["conv3_1", "conv3_2", "conv3_3", "conv3_4"])
        XCTAssertEqual(try a.featureShape(at: "conv5_4", height: 224, width: 224), [512, 14, 14])
        XCTAssertEqual(try a.featureShape(at: "pool5", height: 224, width: 224), [512, 7, 7])
        XCTAssertEqual(a.layers.map(\.parameterCount).reduce(0, +), 20_024_384)
        XCTAssertEqual(try a.featureShape(at: "pool5", height: 230, width: 100), [512, 7, 3])
    }

    func testWidthAndKernelOverride() throws {
        let a = try Architecture(spec: "vgg16", width: 0.25, kernelSize: 5)
        XCTAssertEqual(a.layers[0].outChannels, 16)
        XCTAssertEqual(a.layers[0].kernel, 5)
        XCTAssertEqual(a.layers[0].padding, 2)
        XCTAssertEqual(try a.featureShape(at: "pool5", height: 224, width: 224), [128, 7, 7])
        let tiny = try Architecture(spec: "4,M,8", width: 0.01)
        XCTAssertEqual(tiny.layers.map(\.outChannels), [1, 1, 1])
    }

    func testSpecParserAcceptTable() throws {
        let accepted: [(String, [String], [Int])] = [
            ("64", ["conv1_1"], [64]),
            ("64,M", ["conv1_1", "pool1"], [64, 64]),
            ("8 8 M 16k5 M", ["conv1_1", "conv1_2", "pool1", "conv2_1", "pool2"], [8, 8, 8, 16, 16]),
            ("M,4", ["pool1", "conv2_1"], [3, 4]),
            ("4,M3s2,4k1", ["conv1_1", "pool1", "conv2_1"], [4, 4, 4]),
            ("4,m,4,P", ["conv1_1", "pool1", "conv2_1", "pool2"], [4, 4, 4, 4]),
        ]
        for (spec, names, channels) in accepted {
            let a = try Architecture(spec: spec)
            XCTAssertEqual(a.layerNames, names, spec)
            XCTAssertEqual(a.layers.map(\.outChannels), channels, spec)
        }
        XCTAssertEqual(try Architecture(spec: "VGG16").layers, try Architecture(spec: "vgg16").layers)
        let pool = try Architecture(spec: "4,M3s2").layers[1]
        XCTAssertEqual(pool.kind, .pool(kernel: 3, stride: 2))
        XCTAssertEqual(try Architecture(spec: "4,M3s2").featureShape(at: "pool1", height: 9, width: 10), [4, 4, 4])
    }

    func testSpecParserRejectTable() {
        let rejected: [(String, String)] = [
            ("", "empty"), ("  , ", "empty"), ("64,x", "bad spec token"), ("64k4", "odd"), ("64k", "kernel"),
            ("0", "channels"), ("-3", "bad spec token"), ("64,M0", "pool"), ("64,Ms", "pool"),
            ("64,M2s0", "stride"), ("99999", "channels"), ("vgg17", "bad spec token"), ("64k33", "odd"),
        ]
        for (spec, fragment) in rejected {
            XCTAssertThrowsError(try Architecture(spec: spec), spec) { error in
                guard case RWCNNError.argument(let m) = error else { return XCTFail("\(spec): \(error)") }
                XCTAssertTrue(m.lowercased().contains(fragment.lowercased()), "\(spec): \(m)")
            }
        }
        XCTAssertThrowsError(try Architecture(spec: "vgg16", width: 0))
        XCTAssertThrowsError(try Architecture(spec: "vgg16", width: .nan))
        XCTAssertThrowsError(try Architecture(spec: "vgg16", kernelSize: 4))
    }

    func testUnknownLayerListsValidNames() throws {
        let a = try Architecture(spec: "8,M,16")
        XCTAssertThrowsError(try a.index(of: "pool9")) { error in
            guard case RWCNNError.argument(let m) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(m.contains("pool9") && m.contains("conv1_1, pool1, conv2_1"), m)
        }
    }

    func testTooSmallInputIsAnError() throws {
        let a = try Architecture(spec: "vgg16")
        XCTAssertThrowsError(try a.shapes(height: 16, width: 16))
        XCTAssertThrowsError(try a.shapes(height: 0, width: 16))
        XCTAssertNoThrow(try a.shapes(height: 32, width: 32))
        // Only the layers up to a cut constrain the input.
        XCTAssertEqual(try Architecture(spec: "vgg16").featureShape(at: "conv1_1", height: 12, width: 12), [64, 12, 12])
        XCTAssertThrowsError(try Architecture(spec: "vgg16").featureShape(at: "pool4", height: 12, width: 12))
    }
}
