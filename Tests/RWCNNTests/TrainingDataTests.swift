import Foundation
import XCTest
import RWCNN

/// Training from memory (`TrainingData`) against folder training, resume
/// refusals, bad sources; and the encoder trace handed from encode to decode.
final class TrainingDataTests: XCTestCase {
    private func smallModel(seed: UInt64 = 1) throws -> Model {
        try Model(config: ModelConfig(arch: "16,M,32", cut: "pool1", seed: seed, decoder: .trained))
    }

    private func options(steps: Int) -> TrainOptions {
        var o = TrainOptions()
        o.steps = steps
        o.batchSize = 4
        o.crop = 32
        o.shortSide = 64
        o.learningRate = 3e-3
        o.evalEvery = 2
        o.checkpointEvery = 0
        o.dataSeed = 7
        return o
    }

    /// The bundled photos loaded as a folder run loads them (sorted paths, RGB).
    private func photos() throws -> [Tensor] {
        try listImageFiles(in: bundledImages).map { try loadImageTensor(path: $0, channels: 3) }
    }

    private func curve(_ model: Model, _ data: TrainingData?, _ o: TrainOptions) throws -> (steps: [Double], evals: [Double], result: TrainResult) {
        var steps: [Double] = [], evals: [Double] = []
        let report: (TrainProgress) -> TrainControl = { p in
            if p.kind == .step { steps.append(p.loss) }
            if p.kind == .evaluation { evals.append(p.eval!.mse) }
            return .proceed
        }
        let r = try data.map { try model.train(data: $0, options: o, progress: report) }
            ?? model.train(options: o, progress: report)
        return (steps, evals, r)
    }

    func testImagesInMemoryGiveTheFolderRunsLossCurve() throws {
        Threads.set(1)
        defer { Threads.set(2) }
        // Seeded split: the folder splits its sorted files, the images their order.
        var folder = options(steps: 5)
        folder.dataFolder = bundledImages
        let a = try curve(smallModel(), nil, folder)
        let b = try curve(smallModel(), .images(photos()), options(steps: 5))
        XCTAssertEqual(a.steps.count, 5)
        XCTAssertEqual(b.steps, a.steps)
        XCTAssertEqual(b.evals, a.evals)
        XCTAssertEqual(b.result.trainImages, a.result.trainImages)
        XCTAssertEqual(b.result.evalImages, a.result.evalImages)

        // An explicit held-out set: a folder of two photos / the same two in memory.
        let held = temporaryPath("held-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: held, withIntermediateDirectories: true)
        for name in ["coffee.png", "camera.png"] {
            try FileManager.default.copyItem(atPath: bundledImages + "/" + name, toPath: held + "/" + name)
        }
        folder.evalFolder = held
        let c = try curve(smallModel(), nil, folder)
        let heldImages = try listImageFiles(in: held).map { try loadImageTensor(path: $0, channels: 3) }
        let d = try curve(smallModel(), .images(photos(), eval: heldImages), options(steps: 5))
        XCTAssertEqual(d.steps, c.steps)
        XCTAssertEqual(d.evals, c.evals)
        XCTAssertEqual(d.result.evalImages, 2)
        XCTAssertNotEqual(c.steps, a.steps)  // the split mattered: the comparison could fail
    }

    func testBatchSourceIsAskedForEveryStepAndTrainedAsGiven() throws {
        let crops = try Tensor.stack(photos().prefix(4).map { try centerCrop($0, height: 32, width: 32) })
        let eval = Array(try photos().suffix(2))
        var asked: [BatchRequest] = []
        let data = TrainingData.batches(eval: eval) { r in asked.append(r); return crops }
        let run = try curve(smallModel(), data, options(steps: 3))
        XCTAssertEqual(asked.map(\.step), [0, 1, 2])
        XCTAssertEqual(asked[0].shape, [4, 3, 32, 32])
        // The first step's loss is the fresh model's loss on that batch.
        XCTAssertEqual(run.steps[0], try smallModel().reconstructionLossAndGradients(crops).loss)
        XCTAssertEqual(run.result.trainImages, 0)
        XCTAssertEqual(run.result.evalImages, 2)

        // A resumed run asks from the step after its checkpoint.
        var o = options(steps: 2)
        o.checkpointPath = temporaryPath("batches-\(UUID().uuidString).ckpt")
        _ = try curve(smallModel(), data, o)
        asked = []
        o.steps = 4
        o.resume = true
        _ = try curve(smallModel(), data, o)
        XCTAssertEqual(asked.map(\.step), [2, 3])
    }

    func testResumeWithOtherOptionsOrDataIsRefusedNamingThem() throws {
        let images = try photos()
        var o = options(steps: 2)
        o.checkpointPath = temporaryPath("resume-\(UUID().uuidString).ckpt")
        _ = try curve(smallModel(), .images(images), o)
        o.steps = 3
        o.resume = true
        func refused(_ data: TrainingData?, _ change: (inout TrainOptions) -> Void, naming word: String) {
            var changed = o
            change(&changed)
            XCTAssertThrowsError(try curve(smallModel(), data, changed), word) { e in
                guard case RWCNNError.argument(let m) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(m.contains(word), m)
            }
        }
        refused(.images(images), { $0.crop = 24 }, naming: "crop")
        refused(.images(images), { $0.learningRate = 1e-2 }, naming: "learning_rate")
        refused(.images(images), { $0.dataSeed = 8 }, naming: "data_seed")
        refused(.images(images), { $0.flip = false }, naming: "flip")
        refused(.images(images), { $0.batchSize = 2 }, naming: "batch")
        refused(.images(Array(images.dropFirst())), { _ in }, naming: "data source")
        refused(nil, { $0.dataFolder = bundledImages }, naming: "data source")
        refused(.images(images), { $0.evalFraction = 0.5 }, naming: "held-out data")
        // Steps and the evaluation/checkpoint cadence may change.
        var same = o
        same.evalEvery = 1
        let r = try curve(smallModel(), .images(images), same)
        XCTAssertEqual(r.steps.count, 1)
    }

    func testBadSourcesAreClearErrors() throws {
        let images = try photos()
        func argument(_ data: TrainingData, _ word: String, _ o: TrainOptions? = nil) {
            XCTAssertThrowsError(try smallModel().train(data: data, options: o ?? options(steps: 1)), word) { e in
                guard case RWCNNError.argument(let m) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(m.contains(word), m)
            }
        }
        argument(.images([]), "no training image")
        argument(.images([try Tensor(zeros: [1, 40, 40]), images[0]]), "[3, H, W]")
        argument(.images([try Tensor(shape: [3, 40, 40], data: [Float](repeating: .nan, count: 4800)), images[0]]), "non-finite")
        argument(.images([images[0]]), "split needs at least 2")
        var noResize = options(steps: 1)
        noResize.shortSide = 0
        argument(.images(images, eval: [try Tensor(zeros: [3, 20, 20])]), "smaller than the 32-pixel crop", noResize)
        XCTAssertThrowsError(try TrainingData.images(Tensor(zeros: [3, 40, 40]))) { e in
            XCTAssertTrue("\(e)".contains("[N, 3, H, W]"), "\(e)")
        }
        argument(.batches(eval: []) { _ in try Tensor(zeros: [4, 3, 32, 32]) }, "needs held-out images")
        argument(.batches(eval: images) { _ in try Tensor(zeros: [4, 3, 16, 16]) }, "every batch must be [4, 3, 32, 32]")
        argument(.batches(eval: images) { r in try Tensor(shape: r.shape, data: [Float](repeating: .infinity, count: 4 * 3 * 32 * 32)) }, "non-finite")
        var withFolder = options(steps: 1)
        withFolder.dataFolder = bundledImages
        argument(.images(images), "give one source", withFolder)

        // A failing source stops the run; the checkpoint keeps the steps done.
        struct SourceFailed: Error {}
        var o = options(steps: 5)
        o.checkpointPath = temporaryPath("failing-\(UUID().uuidString).ckpt")
        let model = try smallModel()
        XCTAssertThrowsError(try model.train(data: .batches(eval: images) { r in
            guard r.step < 2 else { throw SourceFailed() }
            return try Tensor(zeros: r.shape)
        }, options: o)) { e in XCTAssertTrue(e is SourceFailed, "\(e)") }
        let back = try Model.load(path: o.checkpointPath!)
        XCTAssertEqual(back.parameters, model.parameters)
    }

    // MARK: the encoder trace

    func testTraceFromEncodeDecodesLikeReconstruct() throws {
        let image = try centerCrop(photos()[0], height: 37, width: 45)  // odd sizes: pools floor
        for unpool in UnpoolMode.allCases {
            let model = try Model(config: ModelConfig(arch: "vgg16", cut: "pool2", width: 0.125, seed: 3, unpool: unpool, decoder: .random))
            let (features, trace) = try model.encodeWithTrace(image)
            let later = try model.decode(features, trace: trace)
            XCTAssertEqual(later, try model.reconstruct(image), "\(unpool)")
            XCTAssertEqual(later.shape, [1, 3, 37, 45])
        }
    }

    func testForeignOrEditedTracesAreArgumentErrors() throws {
        let image = try centerCrop(photos()[0], height: 32, width: 32)
        let model = try Model(config: ModelConfig(arch: "vgg16", cut: "pool2", width: 0.125, seed: 3, decoder: .random))
        let (features, trace) = try model.encodeWithTrace(image)
        func refused(_ t: EncoderTrace, _ word: String, _ f: Tensor? = nil) {
            XCTAssertThrowsError(try model.decode(f ?? features, trace: t), word) { e in
                guard case RWCNNError.argument(let m) = e else { return XCTFail("\(e)") }
                XCTAssertTrue(m.contains(word), m)
            }
        }
        let other = try Model(config: ModelConfig(arch: "vgg16", cut: "pool1", width: 0.125, seed: 3))
        refused(try other.encodeWithTrace(image).trace, "layers")
        var t = trace
        t.inputShapes[3] = [1, 8, 31, 32]
        refused(t, "input of")
        t = trace
        t.inputShapes[0] = [1, 3]
        refused(t, "starts with")
        t = trace
        t.switches[2] = nil
        refused(t, "no switches")
        t = trace
        t.switches[2]![5] = 100_000
        refused(t, "outside")
        t = trace
        t.switches[2]!.removeLast()
        refused(t, "switches")
        t = trace
        t.inputShapes = []
        refused(t, "layers")
        refused(trace, "the trace is of features", try Tensor(zeros: [1, 16, 7, 8]))
        refused(trace, "the trace is of features", try Tensor(zeros: [2] + Array(features.shape.dropFirst())))
    }
}
