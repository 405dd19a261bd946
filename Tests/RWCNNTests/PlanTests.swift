// Plans: a model's workspaces per (job, batch, height, width), reused across
// calls and training steps. The same input gives the same bits however often
// it runs and whatever other size ran between; a planned step allocates no
// buffer; concurrent readers each get their own workspace.
import Dispatch
import XCTest
@testable import RWCNN

final class PlanTests: XCTestCase {
    /// A trained-decoder model small enough for tests, with switch unpooling
    /// (the trace's switches flow from the encoder's plan into the decoder's)
    /// and a context where its 3x3 layers take Winograd at these sizes.
    private func model(decoder: DecoderMode = .trained, unpool: UnpoolMode = .switches) throws -> Model {
        let m = try Model(config: ModelConfig(arch: "8,16,M,16,M", cut: "pool2", seed: 3, unpool: unpool,
                                              decoder: decoder))
        var c = ExecutionContext()
        c.tuning.winogradMinTiles = 1
        c.tuning.winogradMinTilesCached = 1
        m.executionContext = c
        return m
    }

    /// The same pass without any plan (every buffer allocated for the call).
    private func unplannedReconstruction(_ m: Model, _ x: Tensor) throws -> Tensor {
        let pass = try m.encoderForward(x, keep: false, workspace: nil)
        return try m.decodeKeeping(pass.features, trace: pass.trace, keep: false, workspace: nil).output
    }

    private func unplannedGradients(_ m: Model, _ x: Tensor) throws -> (Double, [String: Tensor]) {
        let pass = try m.encoderForward(x, keep: false, workspace: nil)
        let (out, cache) = try m.decodeKeeping(pass.features, trace: pass.trace, keep: true, workspace: nil)
        let loss = try mseForward(prediction: out, target: x)
        return (loss, try m.decoderBackward(cache: cache, trace: pass.trace,
                                            gradOutput: mseBackward(prediction: out, target: x)))
    }

    func testPlanReuseGivesTheSameResultAcrossCallsAndSizes() throws {
        for unpool in [UnpoolMode.switches, .nearest] {
            let m = try model(unpool: unpool)
            let x = testImage(n: 2, h: 32, w: 28), other = testImage(n: 3, h: 20, w: 36)
            let reference = try unplannedReconstruction(m, x)
            let otherReference = try unplannedReconstruction(m, other)
            for i in 0..<4 {
                XCTAssertEqual(try m.reconstruct(x), reference, "call \(i), \(unpool)")
            }
            XCTAssertEqual(try m.reconstruct(other), otherReference, "another size, \(unpool)")
            XCTAssertEqual(try m.reconstruct(x), reference, "after another size was planned, \(unpool)")
            XCTAssertEqual(try m.encode(x), try m.encoderForward(x, keep: false, workspace: nil).features)
            XCTAssertEqual(m.plans.count(m.planKey(.reconstruct, x)), 1)
            XCTAssertEqual(m.plans.count(m.planKey(.reconstruct, other)), 1)
        }
    }

    func testAPlannedCallAllocatesOnlyItsResult() throws {
        let m = try model()
        let x = testImage(n: 2, h: 32, w: 32)
        let key = m.planKey(.reconstruct, x)
        let first = try m.reconstruct(x)
        m.plans.with(key) { $0.resetCounters() }
        let second = try m.reconstruct(x)
        // The result goes to the caller, so only its storage is new.
        XCTAssertEqual(m.plans.with(key) { $0.freshFloats }, second.count)
        XCTAssertEqual(first, second)
    }

    func testPlannedTrainingStepsAllocateNothingAndMatchTheUnplannedPass() throws {
        let m = try model()
        let x = testImage(n: 2, h: 32, w: 32), other = testImage(n: 1, h: 24, w: 24)
        let key = m.planKey(.trainStep, x)
        for step in 0..<3 {
            let (expectedLoss, expected) = try unplannedGradients(m, x)
            let (loss, grads) = try m.plans.with(key) { ws -> (Double, [String: Tensor]) in
                ws.resetCounters()
                let r = try m.lossAndGradients(x, workspace: ws)
                // From the second step on the plan holds every buffer the step needs.
                if step > 0 { XCTAssertEqual(ws.freshFloats, 0, "step \(step)") }
                return r
            }
            XCTAssertEqual(loss, expectedLoss, "step \(step)")
            XCTAssertEqual(grads, expected, "step \(step)")
            // Give the gradients back as the trainer does, after a change of the weights.
            m.plans.with(key) { ws in for g in grads.values { ws.recycle(g) } }
            var w = m.parameters["decoder.conv2_1.weight"]!
            w.data = w.data.map { $0 * 0.9 }
            try m.setParameters(["decoder.conv2_1.weight": w])
            _ = try m.reconstructionLossAndGradients(other)
        }
    }

    func testPlannedSynthesisStepsAllocateOnlyTheirGradientAndMatchTheUnplannedPass() throws {
        // Feature loss at the cut, Gram losses at a conv and a pool (two terms
        // at one layer), both priors: every buffer of the objective's pass.
        for arch in ["8,16,M,16,M", "8,16,A,16,A"] {
            let m = try Model(config: ModelConfig(arch: arch, cut: "pool2", seed: 3))
            var c = ExecutionContext()
            c.tuning.winogradMinTiles = 1
            c.tuning.winogradMinTilesCached = 1
            m.executionContext = c
            let x = testImage(n: 1, h: 32, w: 32)
            let source = try Tensor(shape: x.shape, data: x.data.reversed())
            let kept = try m.encoderForward(source, keep: true, workspace: nil)
            let terms = [
                SynthesisTerm(layer: 4, name: "pool2", weight: 1, target: .features(kept.outputs[4], .relative)),
                SynthesisTerm(layer: 1, name: "conv1_2", weight: 0.5, target: .gram(try gramMatrix(features: kept.outputs[1]), .scaled)),
                SynthesisTerm(layer: 4, name: "pool2 gram", weight: 0.25, target: .gram(try gramMatrix(features: kept.outputs[4]), .gatys)),
            ]
            var o = SynthesisOptions()
            o.tvWeight = 0.1; o.tvBeta = 2; o.alphaWeight = 0.05; o.alpha = 4
            let objective = SynthesisObjective(model: m, terms: terms, options: o)

            // The unplanned reference: the public losses and a chain without a workspace.
            let pass = try m.encoderForward(x, keep: true, workspace: nil)
            let feature = try featureLoss(features: pass.outputs[4], target: kept.outputs[4], normalization: .relative)
            let gram1 = try gramLoss(features: pass.outputs[1], target: try gramMatrix(features: kept.outputs[1]),
                                     weight: 0.5)
            let gram4 = try gramLoss(features: pass.outputs[4], target: try gramMatrix(features: kept.outputs[4]),
                                     weight: 0.25, normalization: .gatys)
            var top = feature.gradient
            addInPlace(&top, gram4.gradient)
            var expected = try m.encoderBackwardData(pass, gradFeatures: top, gradAt: [1: gram1.gradient])
            let tv = try totalVariationLoss(image: x, beta: 2, weight: 0.1)
            let alpha = try alphaNormLoss(image: x, alpha: 4, center: 0.5, weight: 0.05)
            addInPlace(&expected, tv.gradient)
            addInPlace(&expected, alpha.gradient)
            let expectedParts = [feature.value, gram1.value, gram4.value, tv.value, alpha.value]

            let key = m.planKey(.synthesisStep, x)
            for step in 0..<3 {
                let e = try m.plans.with(key) { ws in
                    ws.resetCounters()
                    let e = try objective.evaluate(x, workspace: ws)
                    // From the second step on the plan holds every buffer but the returned gradient.
                    if step > 0 { XCTAssertEqual(ws.freshFloats, x.count, "\(arch) step \(step)") }
                    return e
                }
                XCTAssertEqual(e.parts, expectedParts, "\(arch) step \(step)")
                XCTAssertEqual(e.gradient, expected, "\(arch) step \(step)")
            }
        }
    }

    func testFourConcurrentReadersGetTheSingleThreadResult() throws {
        let m = try model()
        let sizes = [testImage(n: 2, h: 32, w: 32), testImage(n: 1, h: 24, w: 40)]
        let single = m.executionContext!.withThreads(1)
        m.executionContext = single
        let expected = try sizes.map { try unplannedReconstruction(m, $0) }
        let expectedFeatures = try sizes.map { try m.encoderForward($0, keep: false, workspace: nil).features }
        // 4 threads, each alternating sizes and jobs, so plans are taken, made and shared back concurrently.
        var failures = [String]()
        let lock = DispatchQueue(label: "failures")
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for i in 0..<6 {
                let s = (t + i) % 2
                let ok = i % 3 == 2 ? (try? m.encode(sizes[s])) == expectedFeatures[s]
                                    : (try? m.reconstruct(sizes[s])) == expected[s]
                if !ok { lock.sync { failures.append("thread \(t) call \(i)") } }
            }
        }
        XCTAssertEqual(failures, [])
    }

    func testOptimizerUpdatesTheFlatBlockByTheFormula() throws {
        // Two steps of Adam and of SGD on a model's block against the
        // formulas in Double, every decoder parameter, one flat range; the
        // encoder's part of the block is not touched; 1 and 2 threads agree
        // bit for bit (the update is elementwise; the 512-channel layer's
        // 36 864 weights split into two chunks).
        let x = try Tensor(shape: [2, 3, 12, 12], data: (0..<864).map { Float(($0 * 37) % 101) / 101 })
        for kind in [OptimizerKind.adam, .sgd] {
            var results: [[Float]] = []
            for threads in [1, 2] {
                let model = try Model(config: ModelConfig(arch: "8,M,512", cut: "conv2_1", seed: 3, decoder: .trained))
                let block = model.parameterBlock, layout = block.layout
                let before = Array(block.values)
                var o = Optimizer(kind: kind, learningRate: 0.01, momentum: 0.9, beta1: 0.9, beta2: 0.999,
                                  epsilon: 1e-8, weightDecay: 0.001)
                var w = before.map(Double.init), m = [Double](repeating: 0, count: before.count), v = m
                for t in 1...2 {
                    let g = try model.reconstructionLossAndGradients(x).gradients
                    XCTAssertEqual(Set(g.keys), Set(layout.decoderSlots.map(\.name)))
                    try o.step(block, gradients: g, threads: threads)
                    for slot in layout.decoderSlots {
                        for i in 0..<slot.count {
                            let j = slot.offset + i
                            let gi = Double(g[slot.name]!.data[i]) + 0.001 * w[j]
                            if kind == .adam {
                                m[j] = 0.9 * m[j] + 0.1 * gi
                                v[j] = 0.999 * v[j] + 0.001 * gi * gi
                                w[j] -= 0.01 * (m[j] / (1 - pow(0.9, Double(t))))
                                    / ((v[j] / (1 - pow(0.999, Double(t)))).squareRoot() + 1e-8)
                            } else {
                                m[j] = 0.9 * m[j] + gi
                                w[j] -= 0.01 * m[j]
                            }
                        }
                    }
                }
                let after = Array(block.values)
                var worst = 0.0
                for j in layout.decoderRange { worst = max(worst, abs(Double(after[j]) - w[j])) }
                XCTAssertLessThan(worst, 1e-5, "\(kind)")
                XCTAssertEqual(Array(after[..<layout.decoderRange.lowerBound]),
                               Array(before[..<layout.decoderRange.lowerBound]))
                XCTAssertEqual(o.state.updates, 2)
                XCTAssertEqual(o.state.first.count, layout.decoderRange.count)
                XCTAssertEqual(o.state.second.count, kind == .adam ? layout.decoderRange.count : 0)
                results.append(after)
            }
            XCTAssertEqual(results[0], results[1], "\(kind): 1 and 2 threads")
        }
    }

    func testParametersLiveInOneBlockInNameOrder() throws {
        // Encoder then decoder, by layer, weight before bias, end to end;
        // the dictionary view, setParameters and the block agree.
        let model = try Model(config: ModelConfig(arch: "8,M,16,M", cut: "pool2", seed: 2, decoder: .random))
        let layout = model.parameterBlock.layout
        XCTAssertEqual(layout.slots.map(\.name), [
            "encoder.conv1_1.weight", "encoder.conv1_1.bias", "encoder.conv2_1.weight", "encoder.conv2_1.bias",
            "decoder.conv1_1.weight", "decoder.conv1_1.bias", "decoder.conv2_1.weight", "decoder.conv2_1.bias"])
        XCTAssertEqual(model.parameterNames, layout.slots.map(\.name))
        var offset = 0
        for slot in layout.slots {
            XCTAssertEqual(slot.offset, offset)
            XCTAssertEqual(slot.count, slot.shape.reduce(1, *))
            offset += slot.count
        }
        XCTAssertEqual(layout.count, offset)
        XCTAssertEqual(layout.decoderRange, layout.slot("decoder.conv1_1.weight")!.offset..<offset)
        XCTAssertEqual(model.parameters.count, 8)
        let w = try Tensor(shape: [16, 8, 3, 3], data: (0..<1152).map { Float($0) / 1152 })
        try model.setParameters(["decoder.conv2_1.weight": w])
        XCTAssertEqual(model.parameters["decoder.conv2_1.weight"], w)
        let slot = layout.slot("decoder.conv2_1.weight")!
        XCTAssertEqual(Array(model.parameterBlock.values[slot.range]), w.data)
        // A tied decoder has no parameters of its own; its layers read the encoder's slots.
        let tied = try Model(config: ModelConfig(arch: "8,M,16,M", cut: "pool2", seed: 2, decoder: .tied))
        XCTAssertEqual(tied.parameterBlock.layout.decoderRange.count, 0)
        XCTAssertEqual(tied.parameterNames.count, 4)
    }
}
