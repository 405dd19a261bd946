// Fast style transfer with a random CNN-DeCNN (Training/FastStyle.swift):
// the loss's gradient w.r.t. the decoder weights against float64 central
// differences; a short run that lowers the style loss while the output keeps
// its photo's structure, judged by measures the loss does not optimise (SSIM,
// and Grams under an independently drawn encoder); resume, and bad options.
import XCTest
@testable import RWCNN

/// Photos, a small model and a small style shared by the fast-style tests.
enum FastStyleFixture {
    static func photo(_ name: String, side: Int) throws -> Tensor {
        let t = try loadImageTensor(path: bundledImages + "/\(name).png")
        return try resizeBilinear(t, height: side, width: side)
    }

    static func smallModel(seed: UInt64 = 1) throws -> Model {
        try Model(config: ModelConfig(arch: "6,A,8,M,8", cut: "conv3_1", seed: seed, decoder: .trained))
    }

    static func smallStyle() throws -> FastStyleOptions {
        var s = FastStyleOptions(style: try photo("brick", side: 24), contentLayer: "conv2_1",
                                 styleLayers: ["conv1_1", "pool1", "conv3_1"])
        s.styleWeights = [1, 0.5, 2]
        s.contentWeight = 0.7
        s.tvWeight = 0.05
        return s
    }

}

final class FastStyleTests: XCTestCase {
    func photo(_ name: String, side: Int) throws -> Tensor { try FastStyleFixture.photo(name, side: side) }
    func smallModel(seed: UInt64 = 1) throws -> Model { try FastStyleFixture.smallModel(seed: seed) }
    func smallStyle() throws -> FastStyleOptions { try FastStyleFixture.smallStyle() }

    func testLossGradientMatchesFiniteDifferencesInTheDecoderWeights() throws {
        let m = try smallModel()
        let style = try smallStyle()
        let x = try Tensor.stack([try photo("chelsea", side: 12), try photo("coffee", side: 12)])
        let (_, grads) = try m.fastStyleLossAndGradients(x, style: style)
        let names = grads.keys.sorted()
        XCTAssertEqual(Set(names), Set(m.parameterNames.filter { $0.hasPrefix("decoder.") }))
        let base = m.parameters
        func loss(_ shift: [String: [Double]], _ h: Double) -> Double {
            var p = base
            for (name, d) in shift {
                p[name] = try! Tensor(shape: base[name]!.shape,
                                      data: zip(base[name]!.data, d).map { Float(Double($0) + h * $1) })
            }
            try! m.setParameters(p)
            defer { try! m.setParameters(base) }
            return try! m.fastStyleLossAndGradients(x, style: style).loss
        }
        // Along the gradient (unit length over every decoder parameter) and
        // along it mixed with a random direction.
        let g = names.flatMap { Check.doubles(grads[$0]!) }
        let norm = Check.dot(g, g).squareRoot()
        var rng = KernelTestRNG(seed: 5)
        let random = g.map { _ in rng.uniform(-1, 1) }
        let rnorm = Check.dot(random, random).squareRoot()
        for mix in [0.0, 1.0] {
            var d = zip(g, random).map { $0 / norm + mix * $1 / rnorm }
            let dn = Check.dot(d, d).squareRoot()
            d = d.map { $0 / dn }
            var shift: [String: [Double]] = [:]
            var at = 0
            for name in names {
                let n = grads[name]!.count
                shift[name] = Array(d[at..<(at + n)]); at += n
            }
            let h = 1e-3
            let numeric = (loss(shift, h) - loss(shift, -h)) / (2 * h)
            let analytic = Check.dot(g, d)
            print("fast-style directional derivative: analytic \(analytic) numeric \(numeric)")
            XCTAssertEqual(analytic, numeric, accuracy: 1e-2 * abs(numeric))
        }
        // The largest entries of two tensors, one by one.
        for name in [names.first!, names.last!] {
            let t = grads[name]!
            let top = t.data.indices.sorted { abs(t.data[$0]) > abs(t.data[$1]) }.prefix(3)
            for i in top {
                var one = [Double](repeating: 0, count: t.count)
                one[i] = 1
                let h = 1e-3
                let numeric = (loss([name: one], h) - loss([name: one], -h)) / (2 * h)
                XCTAssertEqual(Double(t.data[i]), numeric, accuracy: 3e-2 * abs(numeric), "\(name)[\(i)]")
            }
        }
    }

    /// The relative Gram distance sum_l ||G_l(a) - G_l(b)||^2 / ||G_l(b)||^2
    /// of one image to another under `m`'s encoder at `layers`, in float64.
    func gramDistance(_ a: Tensor, _ b: Tensor, model m: Model, layers: [String]) throws -> Double {
        let pa = try m.encoderForward(a, keep: true), pb = try m.encoderForward(b, keep: true)
        var total = 0.0
        for name in layers {
            let i = try m.architecture.index(of: name)
            func gram(_ f: Tensor) -> [Double] {
                let c = f.shape[1], hw = f.shape[2] * f.shape[3]
                var g = [Double](repeating: 0, count: c * c)
                for p in 0..<c { for q in 0..<c {
                    var acc = 0.0
                    for k in 0..<hw { acc += Double(f.data[p * hw + k]) * Double(f.data[q * hw + k]) }
                    g[p * c + q] = acc / Double(hw)
                } }
                return g
            }
            let ga = gram(pa.outputs[i]), gb = gram(pb.outputs[i])
            total += zip(ga, gb).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / gb.reduce(0) { $0 + $1 * $1 }
        }
        return total
    }

    /// 80 steps on 8 bundled photos (3 s): the held-out fast-style loss
    /// falls tenfold, the outputs' Grams under an independent encoder move
    /// towards the style's, and each output stays closest (SSIM) to its own
    /// photo.
    func testShortRunLowersTheStyleLossAndKeepsTheContent() throws {
        let names = ["astronaut", "camera", "chelsea", "coffee", "horse", "rocket", "coins", "retina"]
        let train = try names.map { try photo($0, side: 48) }
        let held = try ["cell", "clock_motion", "text"].map { try photo($0, side: 32) }
        let brick = try photo("brick", side: 64)
        // Independent judges: Grams under another random encoder (seed 99,
        // full width, layers the loss never saw), and SSIM.
        let judge = try Model(config: ModelConfig(arch: "vgg16-avg", cut: "conv2_2", seed: 99))
        let judgeLayers = ["conv1_2", "conv2_2"]
        func run(centred: Bool, outputLayerScale: Double, learningRate: Double, label: String) throws
            -> (before: Double, after: Double, toStyle: Double, photoToStyle: Double, own: Double, other: Double) {
            var style = FastStyleOptions(style: brick, contentLayer: "conv2_1",
                                         styleLayers: ["conv1_1", "pool1", "conv2_1", "pool2"])
            style.tvWeight = 0
            style.outputLayerScale = outputLayerScale
            let m = try Model(config: ModelConfig(arch: "vgg16-avg", cut: "pool2", width: 0.5, seed: 0, decoder: .trained,
                                                  normalizeInput: centred))
            let heldBatch = try Tensor.stack(held)
            let before = try m.fastStyleLossAndGradients(heldBatch, style: style).loss
            var o = TrainOptions()
            o.steps = 80; o.batchSize = 4; o.crop = 32; o.learningRate = learningRate
            o.evalEvery = 0; o.checkpointEvery = 0; o.seed = 3
            let r = try m.train(style: style, data: .images(train, eval: held), options: o)
            XCTAssertEqual(r.losses.count, 80)
            let after = try m.fastStyleLossAndGradients(heldBatch, style: style).loss
            var toStyle = 0.0, photoToStyle = 0.0, own = 0.0, other = 0.0
            for (k, x) in held.enumerated() {
                let y = try DisplayRule.clamp.apply(m.reconstruct(x)).reshaped([3, 32, 32])
                if k == 0 { try saveImageTensor(y, path: temporaryPath("fast-style-held0-\(label).png")) }
                toStyle += try gramDistance(y, brick, model: judge, layers: judgeLayers) / 3
                photoToStyle += try gramDistance(x, brick, model: judge, layers: judgeLayers) / 3
                own += try Metrics.ssim(y, x) / 3
                other += try Metrics.ssim(y, held[(k + 1) % held.count]) / 3
            }
            print("fast style (\(label)): held-out loss \(before) -> \(after); judge Gram distance to the style \(toStyle) (photos \(photoToStyle)); SSIM to own photo \(own), to another \(other)")
            return (before, after, toStyle, photoToStyle, own, other)
        }
        // Stop 14's setting (uncentred, the He-initialised decoder as it is, lr 3e-3).
        // Measured (seed 0, 80 steps; stop 15): loss 7.42 -> 0.689; judge
        // distance 0.311 against 0.552 for the photos themselves; SSIM 0.49
        // to the own photo against 0.34 to another.
        let old = try run(centred: false, outputLayerScale: 1, learningRate: 3e-3, label: "uncentred")
        XCTAssertLessThan(old.after, old.before * 0.2)
        XCTAssertLessThan(old.toStyle, old.photoToStyle * 0.75)
        XCTAssertGreaterThan(old.own, old.other + 0.1)
        // The defaults (a centred model, the faint start, the trainer's lr
        // 1e-3) carry much more of the style and, at this size, no longer
        // more of the own photo than of another (docs/ENGINE.md, "Fast style").
        // Measured: loss 2.0e5 at the He-initialised decoder -> 4.50; judge
        // distance 0.033; SSIM 0.500 to the own photo, 0.495 to another.
        let now = try run(centred: FastStyleOptions.centredInput, outputLayerScale: FastStyleOptions.defaults.outputLayerScale,
                          learningRate: TrainOptions().learningRate, label: "defaults")
        XCTAssertLessThan(now.after, now.before * 0.5)
        XCTAssertLessThan(now.toStyle, old.toStyle * 0.5)
    }
}

final class FastStyleRunTests: XCTestCase {
    let helper = FastStyleFixture.self

    func options(steps: Int) -> TrainOptions {
        var o = TrainOptions()
        o.steps = steps; o.batchSize = 2; o.crop = 16; o.learningRate = 3e-3
        o.evalEvery = 0; o.checkpointEvery = 0; o.seed = 4
        return o
    }

    func data() throws -> TrainingData {
        .images(try ["astronaut", "camera", "coffee"].map { try helper.photo($0, side: 24) },
                eval: [try helper.photo("horse", side: 16)])
    }

    func testResumedRunEqualsUninterruptedRunAndOtherStylesAreRefused() throws {
        Threads.set(1)
        defer { Threads.set(2) }
        let style = try helper.smallStyle()
        let full = try helper.smallModel().train(style: style, data: data(), options: options(steps: 6)).losses
        XCTAssertEqual(full.count, 6)
        let checkpoint = temporaryPath("fast-style-ckpt.safetensors")
        var first = options(steps: 3)
        first.checkpointPath = checkpoint
        var resumed = try helper.smallModel().train(style: style, data: data(), options: first).losses
        var second = options(steps: 6)
        second.checkpointPath = checkpoint
        second.resume = true
        let m = try helper.smallModel()
        resumed += try m.train(style: style, data: data(), options: second).losses
        XCTAssertEqual(resumed, full)
        // Another style weight, another image, plain training: each refused, naming it.
        var other = style
        other.styleWeights = [1, 1, 1]
        for (label, run) in [
            ("weights", { try self.helper.smallModel().train(style: other, data: self.data(), options: second) }),
            ("plain", { try self.helper.smallModel().train(data: self.data(), options: second) }),
        ] as [(String, () throws -> TrainResult)] {
            XCTAssertThrowsError(try run(), label) { e in
                guard case RWCNNError.argument(let m) = e else { return XCTFail("\(label): \(e)") }
                XCTAssertTrue(m.contains("style"), "\(label): \(m)")
            }
        }
        // A plain checkpoint does not resume as fast style either.
        var plain = options(steps: 2)
        plain.checkpointPath = temporaryPath("plain-ckpt.safetensors")
        try helper.smallModel().train(data: data(), options: plain)
        plain.resume = true; plain.steps = 4
        XCTAssertThrowsError(try helper.smallModel().train(style: style, data: data(), options: plain))
    }

    func testAFreshRunStartsTheImageLayerFaintOnTheMeanColour() throws {
        let m = try helper.smallModel()
        let name = m.encoderLayers.first(where: \.isConv)!.name
        let w0 = try m.parameter("decoder.\(name).weight"), others = m.parameters.filter { !$0.key.contains(".\(name).") }
        try m.startFastStyleDecoder(scale: 1)
        XCTAssertEqual(try m.parameter("decoder.\(name).weight"), w0)
        try m.startFastStyleDecoder(scale: 0.1)
        let w = try m.parameter("decoder.\(name).weight"), b = try m.parameter("decoder.\(name).bias")
        for i in 0..<w.count { XCTAssertEqual(Double(w.data[i]), 0.1 * Double(w0.data[i]), accuracy: 1e-7 * abs(Double(w0.data[i]))) }
        XCTAssertEqual(b.data.map(Double.init), [0.485, 0.456, 0.406].map { Double(Float($0)) })
        XCTAssertEqual(m.parameters.filter { !$0.key.contains(".\(name).") }, others)
        // Out-of-range scales are argument errors.
        for bad in [-0.1, 1.5, .nan] {
            var s = try helper.smallStyle()
            s.outputLayerScale = bad
            XCTAssertThrowsError(try m.train(style: s, data: data(), options: options(steps: 1))) { e in
                guard case RWCNNError.argument(let msg) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(msg.contains("output layer scale"), msg)
            }
        }
    }

    func testCancelKeepsTheCheckpointAndBadOptionsAreClearErrors() throws {
        var o = options(steps: 20)
        o.checkpointPath = temporaryPath("fast-style-cancel.safetensors")
        let m = try helper.smallModel()
        XCTAssertThrowsError(try m.train(style: helper.smallStyle(), data: data(), options: o) { p in
            p.step >= 2 ? TrainControl.cancel : .proceed
        }) { e in
            guard case RWCNNError.cancelled = e else { return XCTFail("\(e)") }
        }
        XCTAssertEqual(try Model.load(path: o.checkpointPath!).parameters, m.parameters)
        let base = try helper.smallStyle()
        func bad(_ label: String, _ change: (inout FastStyleOptions) -> Void) {
            var s = base
            change(&s)
            Check.argumentError(label) { try self.helper.smallModel().train(style: s, data: self.data(), options: self.options(steps: 1)) }
        }
        bad("no style layers") { $0.styleLayers = []; $0.styleWeights = nil }
        bad("unknown layer") { $0.styleLayers = ["conv1_1", "conv9_9", "pool1"] }
        let short = try Model(config: ModelConfig(arch: "6,A,8,M,8", cut: "pool2", decoder: .trained))
        Check.argumentError("past the cut") { try short.train(style: base, data: self.data(), options: self.options(steps: 1)) }
        bad("negative weight") { $0.styleWeights = [1, -1, 1] }
        bad("weight count") { $0.styleWeights = [1] }
        bad("negative content weight") { $0.contentWeight = -1 }
        bad("tv beta") { $0.tvBeta = 0.5 }
        bad("style too small") { $0.style = try! self.helper.photo("brick", side: 1) }
        bad("two style images") { $0.style = try! Tensor.stack([$0.style, $0.style]) }
        bad("0..255 style") { $0.style = try! Tensor(shape: $0.style.shape, data: $0.style.data.map { $0 * 255 }) }
        let tied = try Model(config: ModelConfig(arch: "6,A,8,M,8", cut: "conv3_1", decoder: .tied))
        Check.argumentError("tied") { try tied.train(style: base, data: self.data(), options: self.options(steps: 1)) }
    }
}
