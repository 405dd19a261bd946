import XCTest
@testable import RWCNN

/// The working-memory estimate against sizes worked out by hand from the
/// kernels' allocations, and the guard that uses it. (Its agreement with the
/// real peak is measured by `rwcnn benchmark`: docs/ENGINE.md, "Working memory".)
final class WorkingMemoryTests: XCTestCase {
    func testEncodeOfOneConvAndPoolByHand() throws {
        // "8,M" at 16x16, batch 1, one thread, on a plan's workspace. conv1_1
        // (3 -> 8, im2col: the 3-channel layer never takes Winograd) makes
        // its output, 8*16*16 = 2048 floats, and the column slot, one tile of
        // 27 rows x 16 rows x 16 columns = 6912 floats. The pool makes 512
        // floats and 512 Int32 switches; conv1_1's output goes back to the
        // workspace, which keeps it, as it keeps the slot: 9984 floats.
        let arch = try Architecture(spec: "8,M")
        let settings = WorkingMemorySettings(context: ExecutionContext(threads: 1))
        XCTAssertEqual(try WorkingMemory.estimate(.encode, architecture: arch, cutIndex: 1, batch: 1, height: 16,
                                                  width: 16, settings: settings), 4 * (2048 + 6912 + 512 + 512))
        // Twice the batch: two of each, still one tile (im2col runs image by image).
        XCTAssertEqual(try WorkingMemory.estimate(.encode, architecture: arch, cutIndex: 1, batch: 2, height: 16,
                                                  width: 16, settings: settings), 4 * (2 * 3072 + 6912))
        // Without a plan (synthesis keeps every output): the tile lives only
        // while conv1_1 runs, so the peak is then, 2048 + 6912 floats.
        XCTAssertEqual(try WorkingMemory.estimate(.encodeKeeping, architecture: arch, cutIndex: 1, batch: 1,
                                                  height: 16, width: 16, settings: settings), 4 * (2048 + 6912))
    }

    func testSynthesisStepEstimateIsWhatThePlanHolds() throws {
        // A Gram loss at every layer and both priors, the walk's worst case:
        // every buffer of the first pass stays in the plan, so the estimate
        // is exactly the workspace's bytes after it, plus the gradient it
        // returns and the transformed weights it cached.
        for (arch, normalize) in [("8,16,M,16", false), ("8,16,A,16", true)] {
            for winograd in [false, true] {
                let m = try Model(config: ModelConfig(arch: arch, cut: "conv2_1", seed: 3, normalizeInput: normalize))
                var c = ExecutionContext(threads: 2)
                c.tuning.winograd = winograd
                c.tuning.winogradMinTiles = 1
                c.tuning.winogradMinTilesCached = 1
                m.executionContext = c
                let x = testImage(n: 2, h: 16, w: 20)
                // The targets' pass caches the encoder's transforms; the estimate counts what is still to come.
                let kept = try m.encoderForward(x, keep: true, workspace: nil)
                let cachedBefore = m.transforms.state.floats
                let estimate = try m.workingMemoryEstimate(.synthesisStep, batch: 2, height: 16, width: 20,
                                                           optimizer: .adam, context: c)
                let terms = try (0..<4).map { i in
                    SynthesisTerm(layer: i, name: "\(i)", weight: 1, target: .gram(try gramMatrix(features: kept.outputs[i]), .scaled))
                }
                var o = SynthesisOptions()
                o.tvWeight = 0.1; o.alphaWeight = 0.1
                let objective = SynthesisObjective(model: m, terms: terms, options: o)
                let ws = Workspace()
                let e = try objective.evaluate(x, workspace: ws)
                let cached = m.transforms.state.floats - cachedBefore
                // (Up to 4 bytes apart: a scratch slot below the first used
                // one holds a 1-float placeholder, which the walk leaves out.)
                XCTAssertEqual(Double(estimate), Double(ws.bytes + 4 * (e.gradient.count + cached)), accuracy: 4,
                               "\(arch) winograd \(winograd)")
                if winograd { XCTAssertGreaterThan(cached, 0, "\(arch): the flipped weights are cached") }
            }
        }
    }

    func testWorkspaceReusesBuffersOfOneSize() throws {
        // "8,8,8" at 16x16, batch 1, one thread, im2col throughout (Winograd
        // switched off). conv1_1 makes A (2048
        // floats); conv1_2 makes B (A still its input), A goes back;
        // conv1_3 takes A again, B goes back: two activations, not three,
        // plus the column slot at its largest tile (8 * 9 rows for the 8-channel convs).
        let arch = try Architecture(spec: "8,8,8")
        var settings = WorkingMemorySettings(context: ExecutionContext(threads: 1))
        settings.tuning.winograd = false
        let g = ConvGeometry(channels: 8, height: 16, width: 16, kernelH: 3, kernelW: 3, stride: 1, padding: 1,
                             outHeight: 16, outWidth: 16, tuning: settings.tuning)
        XCTAssertEqual(try WorkingMemory.estimate(.encode, architecture: arch, cutIndex: 2, batch: 1, height: 16,
                                                  width: 16, settings: settings), 4 * (2 * 2048 + g.tileSize))
    }

    func testWinogradScratchCountsThePlanePadding() {
        // 64 channels, 4 tile rows of 16 tiles: 64 * 64 = 4096 floats per
        // plane, a multiple of 4 KiB, padded to an odd number of 64-byte lines.
        let shape = WinogradShape(batch: 1, cin: 64, cout: 64, height: 16, width: 64, padding: 1)
        let w = WinogradScratch(shape, transformed: true, tuning: KernelTuning(), threads: 1)
        let b = WinogradBlocking(shape, transformed: true, tuning: KernelTuning(), threads: 1)
        let tiles = b.rowsPerBlock * shape.tilesAcross
        XCTAssertEqual(w.v, 36 * winogradPlaneStride(64 * tiles))
        XCTAssertGreaterThan(w.v, b.vFloats)
        XCTAssertEqual(winogradPlaneStride(4096), 4112)
    }

    func testTrainStepBySGDByHand() throws {
        // "8" (one conv) at 16x16, batch 2, SGD, one thread. State: the
        // decoder's 8*3*9 weights + 3 biases = 219 floats; the batch 2*3*256 =
        // 1536. Encoder: conv output 2*8*256 = 4096, tile 6912. Decoder (kept):
        // output 1536 plus its tile (adjoint geometry: 27 rows x 256 columns =
        // 6912). Backward: MSE gradient 1536, weight gradient 219, tile 6912,
        // no input gradient (the cut's mirror).
        // Winograd off: the decoder's 32 tiles would take it at the default threshold.
        let arch = try Architecture(spec: "8")
        var context = ExecutionContext(threads: 1)
        context.tuning.winograd = false
        let settings = WorkingMemorySettings(optimizer: .sgd, context: context)
        let live = 219.0 + 1536 + 4096 + 1536 + 1536 + 219
        XCTAssertEqual(try WorkingMemory.estimate(.trainStep, architecture: arch, cutIndex: 0, batch: 2, height: 16,
                                                  width: 16, settings: settings), Int(4 * (live + 6912)))
    }

    func testGuardUsesTheEstimate() throws {
        let model = try Model(config: ModelConfig(arch: "16,M,32", cut: "conv2_1", seed: 1, decoder: .tied))
        model.executionContext = ExecutionContext(threads: 1)
        let need = try model.workingMemoryEstimate(.reconstruct, batch: 2, height: 40, width: 40)
        let images = try Tensor(shape: [2, 3, 40, 40], data: (0..<9600).map { Float($0 % 97) / 97 })
        model.executionContext = ExecutionContext(threads: 1, memoryBudget: need - 1)
        XCTAssertThrowsError(try model.reconstruct(images)) { error in
            guard case RWCNNError.outOfMemory(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("working memory (reconstruct)"), message)
        }
        model.executionContext = ExecutionContext(threads: 1, memoryBudget: need)
        XCTAssertEqual(try model.reconstruct(images).shape, [2, 3, 40, 40])
        // Cached transforms count once: a second estimate adds none of them.
        XCTAssertLessThanOrEqual(try model.workingMemoryEstimate(.reconstruct, batch: 2, height: 40, width: 40), need)
    }

    func testTrainingRunBudgetCountsTheEvaluationPlans() throws {
        // Batch 2 and 3 held-out crops: the evaluation reconstructs a chunk
        // of 2 and one of 1, each on a plan the model keeps beside the
        // step's. (Winograd off: no cached transforms, so the walks add up.)
        let model = try Model(config: ModelConfig(arch: "8,M,16", cut: "conv2_1", seed: 1, decoder: .trained))
        var context = ExecutionContext(threads: 1)
        context.tuning.winograd = false
        model.executionContext = context
        func image(_ i: Int) throws -> Tensor {
            try Tensor(shape: [3, 20, 20], data: (0..<1200).map { Float(($0 * 7 + i * 13) % 101) / 101 })
        }
        let data = TrainingData.images(try (0..<4).map(image), eval: try (4..<7).map(image))
        var o = TrainOptions()
        o.steps = 1; o.batchSize = 2; o.crop = 16; o.evalEvery = 0; o.checkpointEvery = 0
        let step = try model.workingMemoryEstimate(.trainStep, batch: 2, height: 16, width: 16)
        let run = try model.trainingRunEstimate(batch: 2, crop: 16, evalImages: 3, optimizer: .adam, context: context)
        // The step, the 3 held-out crops kept for the run, the two reconstruct plans.
        XCTAssertEqual(run, try step + 4 * 3 * 3 * 16 * 16
                            + model.workingMemoryEstimate(.reconstruct, batch: 2, height: 16, width: 16)
                            + model.workingMemoryEstimate(.reconstruct, batch: 1, height: 16, width: 16))
        XCTAssertEqual(try model.trainingWorkingMemoryEstimate(batch: 2, crop: 16, evalImages: 3), run)
        // One byte short: the step alone fits, the run with its evaluation does not.
        context.memoryBudget = run - 1
        model.executionContext = context
        XCTAssertLessThan(step, run - 1)
        XCTAssertThrowsError(try model.train(data: data, options: o)) { error in
            guard case RWCNNError.outOfMemory(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("held-out evaluation") && message.contains("3 held-out crop"), message)
        }
        context.memoryBudget = run
        model.executionContext = context
        XCTAssertEqual(try model.train(data: data, options: o).stepsDone, 1)
    }

    func testFastStyleRunBudgetCountsItsLossNetwork() throws {
        // The small fast-style model (cut conv3_1) with content at conv2_1:
        // besides the plain run, the loss network's step plan (through
        // conv3_1, the deepest style layer) and the content layer's encoder
        // pass. (Winograd off: no cached transforms, so the walks add up.)
        let model = try FastStyleFixture.smallModel()
        var context = ExecutionContext(threads: 1)
        context.tuning.winograd = false
        model.executionContext = context
        let style = try FastStyleFixture.smallStyle()
        let objective = try model.fastStyleObjective(style)
        let photo = try FastStyleFixture.photo("astronaut", side: 20)
        let data = TrainingData.images([photo, photo], eval: [photo])
        var o = TrainOptions()
        o.steps = 1; o.batchSize = 2; o.crop = 16; o.evalEvery = 0; o.checkpointEvery = 0
        let plain = try model.trainingRunEstimate(batch: 2, crop: 16, evalImages: 1, optimizer: .adam, context: context)
        let run = try model.trainingRunEstimate(batch: 2, crop: 16, evalImages: 1, optimizer: .adam,
                                                style: objective, context: context)
        XCTAssertEqual(run, try plain
                            + model.workingMemoryEstimate(.synthesisStep, batch: 2, height: 16, width: 16,
                                                          optimizer: .adam, through: 4, context: context)
                            + model.workingMemoryEstimate(.encode, batch: 2, height: 16, width: 16,
                                                          optimizer: .adam, through: 2, context: context))
        context.memoryBudget = run - 1
        model.executionContext = context
        XCTAssertLessThan(plain, run - 1)
        XCTAssertThrowsError(try model.train(style: style, data: data, options: o)) { error in
            guard case RWCNNError.outOfMemory(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("fast-style loss"), message)
        }
        context.memoryBudget = run
        model.executionContext = context
        XCTAssertEqual(try model.train(style: style, data: data, options: o).stepsDone, 1)
    }

    func testSizesTheNetworkCannotTakeAreArgumentErrors() throws {
        let arch = try Architecture(spec: "vgg16")
        XCTAssertThrowsError(try WorkingMemory.estimate(.encode, architecture: arch, cutIndex: 17, batch: 1,
                                                        height: 8, width: 8))
        XCTAssertThrowsError(try WorkingMemory.estimate(.encode, architecture: arch, cutIndex: 99, batch: 1,
                                                        height: 64, width: 64))
        XCTAssertThrowsError(try WorkingMemory.estimate(.encode, architecture: arch, cutIndex: 3, batch: 0,
                                                        height: 64, width: 64))
        // Absurd but valid sizes: a finite figure far over any budget, no trap.
        let huge = try WorkingMemory.estimate(.trainStep, architecture: arch, cutIndex: 17, batch: 1 << 24,
                                              height: 65536, width: 65536)
        XCTAssertGreaterThan(huge, 1 << 50)
    }
}
