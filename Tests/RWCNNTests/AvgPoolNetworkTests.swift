// Average pooling as an architecture option: spec tokens, presets, the
// typed network's forward/backward, and the decoder's mirror of it.
import XCTest
@testable import RWCNN

final class AvgPoolNetworkTests: XCTestCase {
    func testSpecTokensAndPresets() throws {
        let a = try Architecture(spec: "8,A,16,A3s2,M,a3")
        XCTAssertEqual(a.layers.map(\.name), ["conv1_1", "pool1", "conv2_1", "pool2", "pool3", "pool4"])
        XCTAssertEqual(a.layers.map(\.pooling), [.max, .avg, .max, .avg, .max, .avg])
        XCTAssertEqual(a.layers[3].kind, .pool(kernel: 3, stride: 2))
        XCTAssertEqual(a.layers[5].kind, .pool(kernel: 3, stride: 3))
        XCTAssertThrowsError(try Architecture(spec: "8,A0"))
        XCTAssertThrowsError(try Architecture(spec: "8,A2s0"))
        // Existing specs load unchanged: every pool of vgg16 is a max pool.
        let vgg = try Architecture(spec: "vgg16"), avg = try Architecture(spec: "vgg16-avg")
        XCTAssertTrue(vgg.layers.filter { !$0.isConv }.allSatisfy { $0.pooling == .max })
        XCTAssertEqual(avg.layers.filter { !$0.isConv }.count, 5)
        XCTAssertTrue(avg.layers.filter { !$0.isConv }.allSatisfy { $0.pooling == .avg })
        XCTAssertEqual(avg.layerNames, vgg.layerNames)
        XCTAssertEqual(try avg.shapes(height: 64, width: 48), try vgg.shapes(height: 64, width: 48))
        XCTAssertEqual(try Architecture(spec: "vgg19-avg").layerNames, try Architecture(spec: "vgg19").layerNames)
        // The same seed draws the same weights for a preset and its -avg twin.
        let m = try Model(config: ModelConfig(arch: "vgg16", cut: "conv2_1", seed: 4))
        let n = try Model(config: ModelConfig(arch: "vgg16-avg", cut: "conv2_1", seed: 4))
        XCTAssertEqual(m.parameters, n.parameters)
    }

    func testEncoderAveragesAgainstNaiveFloat64() throws {
        let m = try Model(config: ModelConfig(arch: "4,A3s2,6", cut: "conv2_1", seed: 2, decoder: .tied))
        let x = testImage(n: 2, h: 11, w: 9)
        let pass = try m.encoderForward(x, keep: true)
        let conv = pass.outputs[0], pooled = pass.outputs[1]
        XCTAssertEqual(pooled.shape, [2, 4, 5, 4])
        var worst = 0.0
        for p in 0..<8 {
            for i in 0..<5 {
                for j in 0..<4 {
                    var s = 0.0
                    for di in 0..<3 { for dj in 0..<3 { s += Double(conv.data[p * 99 + (2 * i + di) * 9 + 2 * j + dj]) } }
                    worst = max(worst, abs(s / 9 - Double(pooled.data[p * 20 + i * 4 + j])))
                }
            }
        }
        XCTAssertLessThan(worst, 1e-6)
    }

    func testDecoderMirrorsAnAveragePoolByItsWindow() throws {
        // Under `switches` an average pool (no argmax) is unpooled as
        // `nearest`; a max pool in the same stack keeps its switches.
        for decoder in [DecoderMode.tied, .random] {
            let cfg = { (u: UnpoolMode) in ModelConfig(arch: "4,A,6,M,5", cut: "conv3_1", seed: 5, unpool: u, decoder: decoder) }
            let switches = try Model(config: cfg(.switches)), nearest = try Model(config: cfg(.nearest))
            let x = testImage(n: 1, h: 16, w: 12)
            let net = switches.network.decoder.compactMap { l -> UnpoolMode? in
                if case .unpool(let u) = l { return u.mode } else { return nil }
            }
            XCTAssertEqual(net, [.switches, .nearest])  // decoder order: pool2 (max) first
            let a = try switches.reconstruct(x), b = try nearest.reconstruct(x)
            XCTAssertEqual(a.shape, x.shape)
            XCTAssertNotEqual(a, b)  // pool2 differs: switches vs nearest
        }
        // With only average pools, `switches` decodes features alone.
        let m = try Model(config: ModelConfig(arch: "4,A,6", cut: "conv2_1", seed: 5, unpool: .switches, decoder: .tied))
        let x = testImage(n: 1, h: 8, w: 8)
        XCTAssertEqual(try m.decode(m.encode(x)), try m.reconstruct(x))
    }

    func testInputGradientThroughAveragePools() throws {
        let m = try Model(config: ModelConfig(arch: "4,A,6,A3s2,5", cut: "conv3_1", seed: 9, decoder: .tied))
        let x = testImage(n: 2, h: 12, w: 14)
        let pass = try m.encoderForward(x, keep: true)
        var rng = KernelTestRNG(seed: 31)
        let gFeatures = rng.tensor(pass.features.shape)
        let gx = try m.encoderBackwardData(pass, gradFeatures: gFeatures)
        let weights = Check.doubles(gFeatures)
        let numeric = Check.finiteDifferences(Check.doubles(x), eps: 1e-3) { v in
            let f = try! m.encode(Tensor(shape: x.shape, data: v.map(Float.init)))
            return Check.dot(Check.doubles(f), weights)
        }
        XCTAssertLessThan(relativeError(Check.doubles(gx), numeric), 1e-2)
    }
}
