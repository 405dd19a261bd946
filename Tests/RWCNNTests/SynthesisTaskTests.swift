// The tasks invert, texture and style on whole VGG stacks: the pixel
// gradient of their objective against float64 central differences, the
// end-to-end outcomes the issue asks for, seeding, cancel and bad options.
import XCTest
@testable import RWCNN

final class SynthesisTaskTests: XCTestCase {
    /// A bundled photo resized to side x side, [1, 3, side, side].
    func photo(_ name: String, side: Int) throws -> Tensor {
        let t = try loadImageTensor(path: bundledImages + "/\(name).png")
        return try resizeBilinear(t, height: side, width: side).reshaped([1, 3, side, side])
    }

    func testWholeVGGObjectiveGradientMatchesFiniteDifferences() throws {
        // Feature loss at pool5 and conv3_2, Gram losses at five layers,
        // beta-TV and alpha-norm: through every layer of VGG16 (max and
        // average pools) down to the pixels.
        for arch in ["vgg16", "vgg16-avg"] {
            let m = try Model(config: ModelConfig(arch: arch, cut: "pool5", seed: 3))
            let x = try photo("chelsea", side: 32)
            let other = try photo("coffee", side: 32)
            let targets = try m.encoderForward(other, keep: true)
            var o = SynthesisOptions()
            o.tvWeight = 0.5; o.tvBeta = 2; o.alphaWeight = 0.3; o.alpha = 4
            let idx = { (n: String) in try m.architecture.index(of: n) }
            var terms: [SynthesisTerm] = []
            for (name, w) in [("pool5", 1.0), ("conv3_2", 0.5)] {
                terms.append(SynthesisTerm(layer: try idx(name), name: name, weight: w,
                                           target: .features(targets.outputs[try idx(name)], .relative)))
            }
            for name in ["conv1_1", "pool1", "conv2_2", "conv3_2", "conv4_1"] {
                let g = try gramMatrix(features: targets.outputs[try idx(name)])
                terms.append(SynthesisTerm(layer: try idx(name), name: name, weight: 0.7, target: .gram(g, .scaled)))
            }
            let objective = SynthesisObjective(model: m, terms: terms, options: o)
            let e = try objective.evaluate(x)
            XCTAssertEqual(e.parts.count, terms.count + 2)
            func loss(_ v: [Double]) -> Double {
                try! objective.evaluate(Tensor(shape: x.shape, data: v.map(Float.init))).value
            }
            let base = Check.doubles(x)
            let g = Check.doubles(e.gradient)
            func unit(_ v: [Double]) -> [Double] { let n = Check.dot(v, v).squareRoot(); return v.map { $0 / n } }
            // Along unit directions with a large component along the gradient
            // (the gradient itself, then mixed with random directions), so the
            // derivative is not a cancelling sum; a step of 1e-2 moves each
            // pixel by about 2e-4, too little to cross many ReLU or max-pool
            // kinks, and the central difference's float32 noise stays near
            // 1e-4 relative. Measured error: 0.5 % with max pools, 0.02 % with
        // average pools.
            var rng = KernelTestRNG(seed: 12)
            var directions = [unit(g)]
            for _ in 0..<2 {
                let r = unit((0..<x.count).map { _ in rng.uniform(-1, 1) })
                directions.append(unit(zip(unit(g), r).map { $0 + $1 }))
            }
            for d in directions {
                let h = 1e-2
                let numeric = (loss(zip(base, d).map { $0 + h * $1 }) - loss(zip(base, d).map { $0 - h * $1 })) / (2 * h)
                let analytic = Check.dot(g, d)
                print("\(arch) directional: analytic \(analytic) numeric \(numeric)")
                XCTAssertEqual(analytic, numeric, accuracy: 1e-2 * abs(numeric), "\(arch): along a direction")
            }
            // At the pixels with the largest gradients: a single pixel's
            // derivative is small next to the loss, so float32 rounding and
            // kinks weigh more (measured up to 4.5 % with max pools).
            let top = e.gradient.data.indices.sorted { abs(e.gradient.data[$0]) > abs(e.gradient.data[$1]) }.prefix(6)
            for i in top {
                let h = 1e-2
                var up = base, down = base
                up[i] += h; down[i] -= h
                let numeric = (loss(up) - loss(down)) / (2 * h)
                XCTAssertEqual(Double(e.gradient.data[i]), numeric, accuracy: 6e-2 * abs(numeric), "\(arch): pixel \(i)")
            }
        }
    }

    func testInvertPool1BeatsTheNoiseStartAndTheRandomDecoder() throws {
        let x = try photo("astronaut", side: 64)
        let m = try Model(config: ModelConfig(arch: "vgg16", cut: "pool1", seed: 0))
        var o = SynthesisOptions()
        o.steps = 200
        let r = try m.invert(x, layer: "pool1", options: o)
        let noise = try whiteNoiseImage(shape: x.shape, seed: o.seed)
        let psnr = try Metrics.psnr(r.image, x), noisePSNR = try Metrics.psnr(noise, x)
        let randomDecoder = try displayNormalize(m.reconstruct(x))
        let decoderPSNR = try Metrics.psnr(randomDecoder, x)
        print("invert pool1 64x64 200 Adam steps: PSNR \(psnr) dB, noise start \(noisePSNR) dB, random decoder \(decoderPSNR) dB, loss \(r.startLoss) -> \(r.finalLoss)")
        XCTAssertEqual(r.image.shape, x.shape)
        XCTAssertEqual(r.losses.count, 200)
        // Measured (seed 0, 2 threads): 55.4 dB, noise 7.6 dB, random decoder
        // 9.4 dB, relative feature loss 0.87 -> 2.7e-6.
        XCTAssertGreaterThan(psnr, noisePSNR + 30)
        XCTAssertGreaterThan(psnr, decoderPSNR + 30)
        XCTAssertLessThan(r.finalLoss, 1e-4 * r.startLoss)
    }

    func testASynthesisStepOverTheBudgetIsOutOfMemoryBeforeAnyStep() throws {
        // A texture far larger than its source: the source's pass fits, the
        // steps' would not (at 16384x16384 they would take about 300 GB and
        // crash in the allocator); the budget is checked per scale.
        let source = try photo("brick", side: 32)
        let m = try Model(config: ModelConfig(arch: "vgg16-avg", cut: "pool2", seed: 0))
        var c = ExecutionContext()
        c.memoryBudget = 256 << 20
        m.executionContext = c
        var o = SynthesisOptions()
        o.steps = 1
        XCTAssertThrowsError(try m.texture(source, layers: ["conv1_1", "pool2"], height: 16384, width: 16384,
                                           options: o)) { e in
            guard case RWCNNError.outOfMemory(let message) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(message.contains("synthesisStep"), message)
        }
        // The same budget takes a small texture.
        XCTAssertNoThrow(try m.texture(source, layers: ["conv1_1", "pool2"], height: 32, width: 32, options: o))
    }

    func testTextureGramLossesFallAndTheResultIsNoCopy() throws {
        let source = try photo("brick", side: 64)
        let m = try Model(config: ModelConfig(arch: "vgg16-avg", cut: "pool3", seed: 0))
        let layers = ["conv1_1", "pool1", "pool2", "pool3"]
        var o = SynthesisOptions()
        o.steps = 200
        let r = try m.texture(source, layers: layers, height: 64, width: 64, options: o)
        // Each Gram loss of the white-noise start, for the ratio.
        let noise = try whiteNoiseImage(shape: [1, 3, 64, 64], seed: o.seed)
        let startTerms = try layers.map { l -> Double in
            let i = try m.architecture.index(of: l)
            let g = try gramMatrix(features: m.encoderForward(source, keep: true).outputs[i])
            let f = try m.encoderForward(noise, keep: true).outputs[i]
            return try gramLoss(features: f, target: g.reshaped([g.shape[1], g.shape[2]])).value
        }
        let copyMSE = try Metrics.mse(r.image, source)
        let noiseMSE = try Metrics.mse(noise, source)
        print("texture brick 64x64 200 steps: Gram losses \(startTerms) -> \(r.termLosses); pixel MSE to source \(copyMSE) (noise \(noiseMSE))")
        XCTAssertEqual(r.terms, layers.map { "gram:\($0)" })
        // Measured: 0.23 / 0.36 / 0.69 / 0.77 -> 3.0e-5 / 3.2e-5 / 1.5e-5 / 1.6e-5
        // (factors 7 500 to 48 000).
        for (a, b) in zip(startTerms, r.termLosses) { XCTAssertLessThan(b, a / 1000) }
        // Not a copy: for two unrelated images MSE = var(a) + var(b) + (mean
        // difference)^2, for a copy 0. Measured 0.0089 against a variance sum
        // of 0.0090 (ratio 0.99 at 128x128 too).
        func variance(_ t: Tensor) -> Double {
            let m = t.data.reduce(0.0) { $0 + Double($1) } / Double(t.count)
            return t.data.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(t.count)
        }
        print("texture: variance sum \(variance(r.image) + variance(source))")
        XCTAssertGreaterThan(copyMSE, 0.7 * (variance(r.image) + variance(source)))
    }

    /// Why the textures of c7112f8 looked like noise, and that the fixed
    /// recipe does not: an uncentred input (random zero-bias filters then
    /// answer mostly the mean colour, so a tiny relative Gram error leaves
    /// the structure free) and Adam, which stops far from the L-BFGS
    /// optimum. Judged by a measure the loss never saw: the relative Gram
    /// distance to the source under an independently drawn encoder (seed 99)
    /// at layers outside the loss set.
    func testTextureRecipeSharesTheSourceStructureUnderAnIndependentJudge() throws {
        let side = 48
        let source = try photo("brick", side: side)
        let layers = ["conv1_1", "pool1", "pool2", "pool3"]
        func model(centred: Bool, seed: UInt64, cut: String) throws -> Model {
            var c = ModelConfig(arch: "vgg16-avg", cut: cut, seed: seed)
            c.normalizeInput = centred
            return try Model(config: c)
        }
        var judgeConfig = ModelConfig(arch: "vgg16-avg", cut: "conv3_2", seed: 99)
        judgeConfig.normalizeInput = true
        let judge = try Model(config: judgeConfig)
        func distance(_ x: Tensor) throws -> Double {
            let a = try judge.encoderForward(x, keep: true), b = try judge.encoderForward(source, keep: true)
            return try ["conv1_2", "conv2_1", "conv3_2"].reduce(0.0) { total, name in
                let i = try judge.architecture.index(of: name)
                let g = try gramMatrix(features: b.outputs[i])
                return total + (try gramLoss(features: a.outputs[i], target: g.reshaped([g.shape[1], g.shape[2]])).value)
            }
        }
        var old = SynthesisOptions()
        old.steps = 100
        var new = old
        new.optimizer = .lbfgs
        let before = try model(centred: false, seed: 0, cut: "pool3").texture(source, layers: layers, height: side,
                                                                                width: side, options: old)
        let after = try model(centred: true, seed: 0, cut: "pool3").texture(source, layers: layers, height: side,
                                                                              width: side, options: new)
        let noise = try whiteNoiseImage(shape: [1, 3, side, side], seed: 0)
        let dOld = try distance(before.image), dNew = try distance(after.image), dNoise = try distance(noise)
        let other = try distance(photo("gravel", side: side))
        print("texture judge (seed 99, conv1_2+conv2_1+conv3_2): Adam uncentred \(dOld), L-BFGS centred \(dNew), noise \(dNoise), gravel photo \(other)")
        // Measured (100 steps): Adam uncentred 0.46, L-BFGS centred 0.0039,
        // the noise start 422, the gravel photo 4.7.
        XCTAssertLessThan(dNew, 0.1 * dOld)
        XCTAssertLessThan(dNew, 0.01 * other)
    }

    func testStyleLBFGSMultiScaleAndSeeding() throws {
        let content = try photo("astronaut", side: 32)
        let style = try photo("gravel", side: 48)
        let m = try Model(config: ModelConfig(arch: "vgg16-avg", cut: "conv3_1", seed: 1))
        var o = SynthesisOptions()
        o.steps = 15
        o.optimizer = .lbfgs
        o.scales = 2
        o.tvWeight = 0.1
        let run = { try m.style(content: content, style: style, contentLayer: "conv2_2",
                                styleLayers: ["conv1_1", "pool1", "conv3_1"], contentWeight: 1,
                                styleWeights: [1, 1, 0.5], options: o) }
        let a = try run(), b = try run()
        XCTAssertEqual(a.image.shape, [1, 3, 32, 32])
        XCTAssertEqual(a.image, b.image)  // same options, same image
        XCTAssertEqual(a.terms, ["feature:conv2_2", "gram:conv1_1", "gram:pool1", "gram:conv3_1", "tv"])
        XCTAssertLessThan(a.finalLoss, 0.5 * a.startLoss)
        XCTAssertTrue(a.image.data.allSatisfy { $0 >= 0 && $0 <= 1 })
        o.seed = 2
        XCTAssertNotEqual(try run().image, a.image)
        // From the content image, Adam, unclamped.
        o.optimizer = .adam; o.start = .content; o.clamp = false; o.scales = 1
        let c = try run()
        XCTAssertLessThan(c.finalLoss, c.startLoss)
    }

    func testProgressReportsEveryStepAndCancels() throws {
        let m = try Model(config: ModelConfig(arch: "8,M,8", cut: "conv2_1", seed: 1))
        let x = testImage(n: 2, h: 8, w: 8)
        var o = SynthesisOptions()
        o.steps = 5; o.scales = 2
        var seen: [(Int, Int, [Int])] = []
        let r = try m.invert(x, layer: "conv2_1", options: o) { p in
            seen.append((p.step, p.scale, p.image.shape)); return true
        }
        XCTAssertEqual(seen.map { $0.0 }, Array(1...10))
        XCTAssertEqual(seen.map { $0.1 }, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2])
        XCTAssertEqual(seen.first?.2, [2, 3, 4, 4])
        XCTAssertEqual(seen.last?.2, [2, 3, 8, 8])
        XCTAssertEqual(r.losses.count, 10)
        XCTAssertThrowsError(try m.invert(x, layer: "conv2_1", options: o) { $0.step < 3 }) { e in
            guard case RWCNNError.cancelled = e else { return XCTFail("\(e)") }
        }
        o.optimizer = .lbfgs
        XCTAssertThrowsError(try m.invert(x, layer: "conv2_1", options: o) { $0.step < 2 }) { e in
            guard case RWCNNError.cancelled = e else { return XCTFail("\(e)") }
        }
    }

    func testBadOptionsAreClearErrors() throws {
        let m = try Model(config: ModelConfig(arch: "vgg16", cut: "pool2", seed: 0))
        let x = testImage(n: 1, h: 16, w: 16)
        var o = SynthesisOptions()
        o.steps = 1
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch let e as RWCNNError { return e.message } catch { return "\(error)" }
        }
        XCTAssertTrue(message { try m.texture(x, layers: [], height: 16, width: 16, options: o) }.contains("no layers given"))
        XCTAssertTrue(message { try m.invert(x, layer: "conv9_9", options: o) }.contains("unknown layer"))
        XCTAssertTrue(message { try m.invert(x, layer: "conv3_1", options: o) }.contains("past the model's cut"))
        XCTAssertTrue(message { try m.texture(x, layers: ["pool1"], weights: [-1], height: 16, width: 16, options: o) }
            .contains("must be finite and at least 0"))
        XCTAssertTrue(message { try m.texture(x, layers: ["pool1", "pool2"], weights: [1], height: 16, width: 16, options: o) }
            .contains("give one per layer"))
        XCTAssertTrue(message { try m.invert(x, layer: "pool1", weight: -2, options: o) }.contains("at least 0"))
        XCTAssertTrue(message { try m.style(content: x, style: x, contentLayer: "pool1", styleLayers: ["pool1"],
                                            styleWeights: [.nan], options: o) }.contains("finite"))
        var zero = o; zero.steps = 0
        XCTAssertTrue(message { try m.invert(x, layer: "pool1", options: zero) }.contains("steps must be"))
        XCTAssertTrue(message { try m.texture(x, layers: ["pool2"], height: 3, width: 16, options: o) }.contains("too small"))
        XCTAssertTrue(message { try m.invert(testImage(n: 1, h: 3, w: 3), layer: "pool2", options: o) }.contains("too small"))
        var scales = o; scales.scales = 4
        XCTAssertTrue(message { try m.invert(x, layer: "pool2", options: scales) }.contains("scale"))
        var lr = o; lr.learningRate = 0
        XCTAssertTrue(message { try m.invert(x, layer: "pool1", options: lr) }.contains("learning rate"))
        var tv = o; tv.tvWeight = -1
        XCTAssertTrue(message { try m.invert(x, layer: "pool1", options: tv) }.contains("tv weight"))
        var start = o; start.start = .content
        XCTAssertTrue(message { try m.invert(x, layer: "pool1", options: start) }.contains("start must be noise"))
        var bad = x; bad.data[3] = .nan
        XCTAssertTrue(message { try m.invert(bad, layer: "pool1", options: o) }.contains("non-finite"))
        XCTAssertTrue(message { try m.invert(testImage(n: 1, h: 8, w: 8).reshaped([1, 1, 24, 8]), layer: "pool1", options: o) }
            .contains("channels"))
        XCTAssertEqual(try m.architecture.deepestLayer(of: ["relu2_1", "pool1", "conv1_2"]), "conv2_1")
    }
}
