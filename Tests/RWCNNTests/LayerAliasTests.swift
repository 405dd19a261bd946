import XCTest
@testable import RWCNN

/// Layer names in every convention map to the same layer. The torchvision
/// indices are written out from torchvision's `features` Sequential of
/// VGG16 / VGG19 (conv, ReLU, ..., MaxPool modules counted from 0).
final class LayerAliasTests: XCTestCase {
    /// (rwcnn name, Caffe/Gatys, Keras, torchvision conv module, torchvision ReLU or pool module)
    static let vgg16: [(String, String?, String, Int?, Int)] = [
        ("conv1_1", "relu1_1", "block1_conv1", 0, 1), ("conv1_2", "relu1_2", "block1_conv2", 2, 3),
        ("pool1", nil, "block1_pool", nil, 4),
        ("conv2_1", "relu2_1", "block2_conv1", 5, 6), ("conv2_2", "relu2_2", "block2_conv2", 7, 8),
        ("pool2", nil, "block2_pool", nil, 9),
        ("conv3_1", "relu3_1", "block3_conv1", 10, 11), ("conv3_3", "relu3_3", "block3_conv3", 14, 15),
        ("pool3", nil, "block3_pool", nil, 16),
        ("conv4_2", "relu4_2", "block4_conv2", 19, 20), ("pool4", nil, "block4_pool", nil, 23),
        ("conv5_3", "relu5_3", "block5_conv3", 28, 29), ("pool5", nil, "block5_pool", nil, 30),
    ]
    static let vgg19: [(String, String?, String, Int?, Int)] = [
        ("conv1_1", "relu1_1", "block1_conv1", 0, 1), ("pool2", nil, "block2_pool", nil, 9),
        ("conv3_4", "relu3_4", "block3_conv4", 16, 17), ("pool3", nil, "block3_pool", nil, 18),
        ("conv4_1", "relu4_1", "block4_conv1", 19, 20), ("conv4_2", "relu4_2", "block4_conv2", 21, 22),
        ("conv5_1", "relu5_1", "block5_conv1", 28, 29), ("conv5_4", "relu5_4", "block5_conv4", 34, 35),
        ("pool5", nil, "block5_pool", nil, 36),
    ]

    func testEveryConventionNamesTheSameLayer() throws {
        for (spec, table) in [("vgg16", Self.vgg16), ("vgg19", Self.vgg19)] {
            let arch = try Architecture(spec: spec)
            for (name, caffe, keras, convModule, outputModule) in table {
                let want = try XCTUnwrap(arch.layerNames.firstIndex(of: name), name)
                var names = [name, keras, "features.\(outputModule)"]
                if let caffe { names.append(caffe) }
                if let convModule { names.append("features.\(convModule)") }
                for alias in names {
                    XCTAssertEqual(try arch.index(of: alias), want, "\(spec) \(alias)")
                    XCTAssertEqual(try arch.canonicalName(of: alias), name, "\(spec) \(alias)")
                }
            }
        }
    }

    func testAModelBuiltFromAnAliasIsTheSameModel() throws {
        let plain = try Model(config: ModelConfig(arch: "vgg19", cut: "conv4_2", width: 0.0625, seed: 5))
        for alias in ["relu4_2", "block4_conv2", "features.22", "features.21"] {
            let m = try Model(config: ModelConfig(arch: "vgg19", cut: alias, width: 0.0625, seed: 5))
            XCTAssertEqual(m.config, plain.config, alias)  // the cut is stored as conv4_2
            XCTAssertEqual(m.parameters, plain.parameters, alias)
        }
    }

    func testUnknownNamesListEveryConvention() throws {
        let arch = try Architecture(spec: "vgg16")
        for bad in ["relu3_4", "block6_pool", "features.31", "features.-1", "conv", "Pool2", ""] {
            XCTAssertThrowsError(try arch.index(of: bad), bad) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("unknown layer \"\(bad)\""), text)
                XCTAssertTrue(text.contains("conv4_2 = relu4_2 = block4_conv2 = features.20 = features.19"), text)
                XCTAssertTrue(text.contains("pool5 = block5_pool = features.30"), text)
            }
        }
    }

    func testCustomSpecsGetAliasesToo() throws {
        let arch = try Architecture(spec: "8,M3s2,16k5,16")
        XCTAssertEqual(arch.layers.map(\.aliases), [
            ["relu1_1", "block1_conv1", "features.1", "features.0"],
            ["block1_pool", "features.2"],
            ["relu2_1", "block2_conv1", "features.4", "features.3"],
            ["relu2_2", "block2_conv2", "features.6", "features.5"],
        ])
    }
}
