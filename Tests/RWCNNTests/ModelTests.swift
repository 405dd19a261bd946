import Foundation
import XCTest
import RWCNN

/// Folder of this test file, to find the repository's data.
let testsFolder = String(#filePath.dropLast("ModelTests.swift".count))
let repositoryRoot = testsFolder + "../../"
let bundledImages = repositoryRoot + "data/images"

final class ModelTests: XCTestCase {
    func testSameSeedSameWeightsOtherSeedOthers() throws {
        let a = try Model(config: ModelConfig(arch: "8,M,16", cut: "conv2_1", seed: 3, decoder: .random))
        let b = try Model(config: ModelConfig(arch: "8,M,16", cut: "conv2_1", seed: 3, decoder: .random))
        let c = try Model(config: ModelConfig(arch: "8,M,16", cut: "conv2_1", seed: 4, decoder: .random))
        XCTAssertEqual(a.parameters, b.parameters)
        XCTAssertNotEqual(a.parameters["encoder.conv1_1.weight"], c.parameters["encoder.conv1_1.weight"])
        XCTAssertNotEqual(a.parameters["encoder.conv1_1.weight"], a.parameters["decoder.conv1_1.weight"])
        XCTAssertEqual(a.parameterNames, ["encoder.conv1_1.weight", "encoder.conv1_1.bias", "encoder.conv2_1.weight",
                                          "encoder.conv2_1.bias", "decoder.conv1_1.weight", "decoder.conv1_1.bias",
                                          "decoder.conv2_1.weight", "decoder.conv2_1.bias"])
        // A layer's weights do not depend on where the model is cut.
        let longer = try Model(config: ModelConfig(arch: "8,M,16,16", cut: "conv2_2", seed: 3, decoder: .tied))
        XCTAssertEqual(longer.parameters["encoder.conv2_1.weight"], a.parameters["encoder.conv2_1.weight"])
        XCTAssertNil(longer.parameters["decoder.conv2_1.weight"])
    }

    func testWeightsAreBitIdenticalAndOutputsAgreeAcrossThreadCounts() throws {
        defer { Threads.set(2) }
        let x = testImage(n: 2, h: 37, w: 30)
        var outputs: [Tensor] = []
        var models: [Model] = []
        for t in [1, 2] {
            Threads.set(t)
            let m = try Model(config: ModelConfig(arch: "8,8,M,16,M", cut: "pool2", seed: 11, decoder: .random))
            models.append(m)
            outputs.append(try m.encode(x))
            outputs.append(try m.reconstruct(x))
        }
        // Weights are the same bits; outputs agree to float rounding (the
        // BLAS may split its sums by thread: OpenBLAS's AVX2 kernels do).
        XCTAssertEqual(models[0].parameters, models[1].parameters)
        for (a, b) in [(outputs[0], outputs[2]), (outputs[1], outputs[3])] {
            let scale = a.data.map { abs($0) }.max() ?? 0
            XCTAssertEqual(a.shape, b.shape)
            XCTAssertLessThanOrEqual(zip(a.data, b.data).map { abs($0 - $1) }.max() ?? 0, 1e-5 * scale)
        }
    }

    func testShapesThroughEncoderAndDecoder() throws {
        for unpool in UnpoolMode.allCases {
            let m = try Model(config: ModelConfig(arch: "4,M,8,M3s2", cut: "pool2", unpool: unpool, decoder: .random))
            let x = testImage(n: 3, h: 23, w: 17)
            let f = try m.encode(x)
            XCTAssertEqual(f.shape, [3] + (try m.featureShape(height: 23, width: 17)))
            XCTAssertEqual(f.shape, [3, 8, 5, 3])
            XCTAssertEqual(try m.reconstruct(x).shape, x.shape)
            XCTAssertEqual(try m.encode(x.item(0)).shape, [1, 8, 5, 3])
            if unpool == .switches {
                XCTAssertThrowsError(try m.decode(f))
            } else {
                XCTAssertEqual(try m.decodedShape(featureHeight: 5, featureWidth: 3), [3, 22, 14])
                XCTAssertEqual(try m.decode(f).shape, [3, 3, 22, 14])
            }
        }
    }

    func testBadInputsAreErrors() throws {
        let m = try Model(config: ModelConfig(arch: "4,M", cut: "pool1"))
        XCTAssertThrowsError(try m.encode(Tensor(zeros: [1, 1, 8, 8])))      // wrong channels
        XCTAssertThrowsError(try m.encode(Tensor(zeros: [3, 8])))            // wrong rank
        XCTAssertThrowsError(try m.encode(Tensor(zeros: [1, 3, 1, 1])))      // smaller than the pool
        XCTAssertThrowsError(try Model(config: ModelConfig(arch: "4,M", cut: "conv9_9"))) { e in
            XCTAssertTrue("\(e)".contains("conv1_1, pool1"), "\(e)")
        }
    }

    func testSaveAndLoadRoundTrip() throws {
        let path = temporaryPath("model.safetensors")
        let cfg = ModelConfig(arch: "8,M,16k5", cut: "conv2_1", width: 0.5, kernelSize: nil,
                              weightInit: WeightInit(distribution: .laplace, scale: .fixed(std: 0.05), mean: 0.01),
                              seed: 99, unpool: .nearest, decoder: .random, normalizeInput: true)
        let m = try Model(config: cfg)
        try m.save(path: path)
        let back = try Model.load(path: path)
        XCTAssertEqual(back.config, cfg)
        XCTAssertEqual(back.parameters, m.parameters)
        let x = testImage(n: 1, h: 12, w: 12)
        XCTAssertEqual(try back.reconstruct(x), try m.reconstruct(x))

        // Not a model file, and a model file with a wrong tensor shape.
        try SafetensorsFile(metadata: ["format": "something"], tensors: []).write(path: path)
        XCTAssertThrowsError(try Model.load(path: path)) { e in
            guard case RWCNNError.format = e else { return XCTFail("\(e)") }
        }
        var file = try m.fileContents()
        file.tensors[0].tensor = try Tensor(zeros: [1])
        try file.write(path: path)
        XCTAssertThrowsError(try Model.load(path: path)) { e in
            guard case RWCNNError.format(let msg) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(msg.contains("encoder.conv1_1.weight"), msg)
        }
    }

    func testDecoderOnlyFilesRedrawTheEncoderFromTheSeed() throws {
        let path = temporaryPath("decoder.safetensors")
        let m = try Model(config: ModelConfig(arch: "8,M,16", cut: "conv2_1", seed: 4, decoder: .trained))
        try m.save(path: path, includeEncoder: false)
        let file = try SafetensorsFile.read(path: path)
        XCTAssertEqual(file.metadata["encoder_weights"], "seed")
        XCTAssertTrue(file.tensors.allSatisfy { $0.name.hasPrefix("decoder.") })
        let back = try Model.load(path: path)
        XCTAssertEqual(back.parameters, m.parameters)
        XCTAssertTrue(back.encoderIsSeeded)

        // An encoder that is not the seed's draw must be stored.
        var w = m.parameters["encoder.conv1_1.weight"]!
        w.data[0] += 1
        try m.setParameters(["encoder.conv1_1.weight": w])
        XCTAssertFalse(m.encoderIsSeeded)
        XCTAssertThrowsError(try m.save(path: path, includeEncoder: false)) { e in
            guard case RWCNNError.argument = e else { return XCTFail("\(e)") }
        }
        // A full file of a seeded model loads as seeded; a bad marker is a format error.
        let seeded = try Model(config: ModelConfig(arch: "8,M,16", cut: "conv2_1", seed: 4, decoder: .trained))
        try seeded.save(path: path)
        XCTAssertTrue(try Model.load(path: path).encoderIsSeeded)
        var bad = try seeded.fileContents(includeEncoder: false)
        bad.metadata["encoder_weights"] = "maybe"
        try bad.write(path: path)
        XCTAssertThrowsError(try Model.load(path: path)) { e in
            guard case RWCNNError.format(let msg) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(msg.contains("encoder_weights"), msg)
        }
    }

    /// Decoder gradients of the whole stack (conv, ReLU, pool, unpool in
    /// every mode, transposed conv) against central finite differences.
    func testDecoderGradientsMatchFiniteDifferences() throws {
        for unpool in UnpoolMode.allCases {
            let m = try Model(config: ModelConfig(arch: "4,M,6", cut: "conv2_1", seed: 5, unpool: unpool, decoder: .trained))
            let x = testImage(n: 2, h: 8, w: 10)
            // Biases start at zero, which puts every pre-activation fed only by
            // zero features exactly on ReLU's kink; move them off it.
            for name in m.parameterNames where name.hasPrefix("decoder.") && name.hasSuffix(".bias") {
                var b = m.parameters[name]!
                for i in b.data.indices { b.data[i] = 0.05 + 0.01 * Float(i % 3) }
                try m.setParameters([name: b])
            }
            let (_, grads) = try m.reconstructionLossAndGradients(x)
            XCTAssertEqual(Set(grads.keys), Set(m.parameterNames.filter { $0.hasPrefix("decoder.") }))
            for name in grads.keys.sorted() {
                let g = grads[name]!
                // The entries with the largest gradients, where the check is meaningful.
                let idx = g.data.indices.sorted { abs(g.data[$0]) > abs(g.data[$1]) }.prefix(4)
                for i in idx {
                    let h: Float = 1e-3
                    var plus = m.parameters[name]!, minus = plus
                    plus.data[i] += h; minus.data[i] -= h
                    try m.setParameters([name: plus])
                    let lp = try m.reconstructionLossAndGradients(x).loss
                    try m.setParameters([name: minus])
                    let lm = try m.reconstructionLossAndGradients(x).loss
                    var orig = plus; orig.data[i] -= h
                    try m.setParameters([name: orig])
                    let numeric = (lp - lm) / (2 * Double(h))
                    let analytic = Double(g.data[i])
                    let rel = abs(numeric - analytic) / max(1e-4, abs(analytic))
                    XCTAssertLessThan(rel, 2e-2, "\(unpool) \(name)[\(i)]: analytic \(analytic) numeric \(numeric)")
                }
            }
        }
    }

    /// The theory (DESIGN.md, point 5): W^T relu(W x) stays close to a
    /// multiple of x, so the tied decoder keeps colour, an independent one
    /// scrambles it. Both keep positions at low layers.
    func testRandomReconstructionOnAPhoto() throws {
        let photo = try resizeAndCenterCrop(loadImageTensor(path: bundledImages + "/astronaut.png"), size: 96)
        var report: [String] = []
        var scores: [String: [DecoderMode: (psnr: Double, ssim: Double, colour: Double)]] = [:]
        for cut in ["conv1_2", "pool1", "pool2", "pool3"] {
            for mode in [DecoderMode.tied, .random] {
                let m = try Model(config: ModelConfig(cut: cut, seed: 0, decoder: mode))
                let y = displayNormalize(try m.reconstruct(photo).item(0))
                let s = (try Metrics.psnr(y, photo), try Metrics.ssim(y, photo),
                         try Metrics.colourInvariantSSIM(reconstruction: y, original: photo))
                scores[cut, default: [:]][mode] = s
                report.append("\(cut) \(mode.rawValue): PSNR \(s.0) SSIM \(s.1) colour-invariant \(s.2)")
            }
        }
        print(report.joined(separator: "\n"))
        let low = scores["conv1_2"]!
        XCTAssertGreaterThan(low[.tied]!.psnr, low[.random]!.psnr, "tied keeps colour better at conv1_2")
        XCTAssertGreaterThan(low[.tied]!.colour, 0.5, "tied keeps positions at conv1_2")
    }

    func testTorchvisionNamesLoadIntoTheEncoder() throws {
        let m = try Model(config: ModelConfig(arch: "vgg16", cut: "conv2_1", decoder: .tied, normalizeInput: true))
        var tensors: [(name: String, tensor: Tensor)] = []
        for (index, layer) in [(0, "conv1_1"), (2, "conv1_2"), (5, "conv2_1")] {
            let w = m.parameters["encoder.\(layer).weight"]!
            tensors.append((name: "features.\(index).weight", tensor: try Tensor(shape: w.shape, data: w.data.map { $0 * 2 })))
            tensors.append((name: "features.\(index).bias", tensor: try Tensor(shape: [w.shape[0]], data: (0..<w.shape[0]).map { Float($0) })))
        }
        try m.loadTorchvisionEncoder(file: SafetensorsFile(tensors: tensors), source: "test")
        XCTAssertEqual(m.parameters["encoder.conv1_2.bias"]!.data[3], 3)
        XCTAssertEqual(m.parameters["encoder.conv2_1.weight"], tensors[4].tensor)

        var wrong = tensors
        wrong[2].tensor = try Tensor(zeros: [64, 3, 3, 3])
        XCTAssertThrowsError(try m.loadTorchvisionEncoder(file: SafetensorsFile(tensors: wrong), source: "test")) { e in
            guard case RWCNNError.format(let msg) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(msg.contains("features.2.weight"), msg)
        }
        XCTAssertThrowsError(try m.loadTorchvisionEncoder(file: SafetensorsFile(tensors: Array(tensors.prefix(4))), source: "test")) { e in
            XCTAssertTrue("\(e)".contains("features.5.weight"), "\(e)")
        }
    }
}

/// A deterministic test batch [n, 3, h, w] in [0, 1].
func testImage(n: Int, h: Int, w: Int) -> Tensor {
    let count = n * 3 * h * w
    let data = (0..<count).map { i -> Float in
        let x = Double(i % w), y = Double((i / w) % h), c = Double((i / (w * h)) % 3)
        return Float(0.5 + 0.4 * sin(0.7 * x + 1.3 * y + 2.1 * c + Double(i / (3 * w * h))))
    }
    return try! Tensor(shape: [n, 3, h, w], data: data)
}

/// A fresh path in the temporary folder.
func temporaryPath(_ name: String) -> String {
    "/tmp/rwcnn-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(name)"
}
