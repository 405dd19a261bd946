// Winograd F(4x4, 3x3) weight gradients (conv2d and convTranspose2d): against
// naive float64 references on odd sizes and channel counts, against the
// im2col + GEMM path, and across block sizes and thread counts.
import XCTest
@testable import RWCNN

final class WinogradGradientTests: XCTestCase {
    /// dW[co][ci][ki][kj] = sum over n, i, j of dy[n,co,i,j] x[n,ci,i+ki-p,j+kj-p], in float64.
    private func convReference(x: Tensor, dy: Tensor, cout: Int, pad: Int) -> [Double] {
        let (n, cin, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (ho, wo) = (dy.shape[2], dy.shape[3])
        var g = [Double](repeating: 0, count: cout * cin * 9)
        for b in 0..<n {
            for co in 0..<cout {
                for ci in 0..<cin {
                    for ki in 0..<3 {
                        for kj in 0..<3 {
                            var s = 0.0
                            for i in 0..<ho {
                                let yy = i + ki - pad
                                if yy < 0 || yy >= h { continue }
                                for j in 0..<wo {
                                    let xx = j + kj - pad
                                    if xx < 0 || xx >= w { continue }
                                    s += Double(dy.data[((b * cout + co) * ho + i) * wo + j])
                                        * Double(x.data[((b * cin + ci) * h + yy) * w + xx])
                                }
                            }
                            g[((co * cin + ci) * 3 + ki) * 3 + kj] += s
                        }
                    }
                }
            }
        }
        return g
    }

    /// The transposed convolution's dW[ci][co][ki][kj] = sum over n, iy, ix of
    /// x[n,ci,iy,ix] dy[n,co,iy-p+ki,ix-p+kj], in float64: the same sum as
    /// `convReference` with the roles of x and dy exchanged (dy is the
    /// image read at the shifted positions, x's channels index the filters).
    private func transposedReference(x: Tensor, dy: Tensor, cout: Int, pad: Int) -> [Double] {
        convReference(x: dy, dy: x, cout: x.shape[1], pad: pad)
    }

    /// The bound of a Winograd weight gradient against float64: normwise
    /// error under 2e-6, elementwise under 5e-6 of the largest value.
    private func assertWithinBound(_ y: [Float], _ ref: [Double], _ label: String,
                                   file: StaticString = #filePath, line: UInt = #line) {
        let e = normwiseAndMaxErrors(y, ref)
        XCTAssertLessThan(e.norm, 2e-6, "\(label): normwise \(e.norm)", file: file, line: line)
        XCTAssertLessThan(e.max, 5e-6, "\(label): elementwise \(e.max)", file: file, line: line)
    }

    /// Every weight gradient Winograd can take, takes it (no tile threshold).
    private func context(winograd enabled: Bool, threads: Int = 2) -> ExecutionContext {
        var c = ExecutionContext(threads: threads)
        c.tuning.winograd = enabled
        c.tuning.winogradMinTiles = 1
        c.tuning.winogradGradientMinTiles = 1
        return c
    }

    /// Post-ReLU-like activations in [0, 1) and gradients in [-1, 1).
    private func activations(_ rng: inout KernelTestRNG, _ shape: [Int]) -> Tensor {
        (try? Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(rng.uniform(0, 1)) }))!
    }

    /// (batch, channels in, channels out, height, width, padding) of the
    /// convolution: odd sizes and channel counts, sizes not a multiple of 4.
    private let cases: [(Int, Int, Int, Int, Int, Int)] = [
        (1, 9, 8, 13, 7, 1), (2, 16, 11, 9, 17, 1), (3, 8, 13, 10, 9, 1), (1, 13, 8, 6, 11, 0),
        (2, 8, 9, 5, 6, 0), (1, 24, 16, 16, 16, 1),
    ]

    func testConvWeightGradientMatchesFloat64Reference() throws {
        var rng = KernelTestRNG(seed: 61)
        for (n, cin, cout, h, w, p) in cases {
            let x = activations(&rng, [n, cin, h, w])
            let wt = rng.tensor([cout, cin, 3, 3])
            let dy = rng.tensor([n, cout, h + 2 * p - 2, w + 2 * p - 2])
            let call = try convCall(op: "test", input: x.shape, weight: wt.shape, stride: 1, padding: p,
                                    tuning: context(winograd: true).tuning)
            XCTAssertTrue(WinogradShape(conv: call).gradientPays(context(winograd: true).tuning))
            let g = try conv2dBackward(input: x, weight: wt, gradOutput: dy, stride: 1, padding: p,
                                       context: context(winograd: true))
            assertWithinBound(g.weight.data, convReference(x: x, dy: dy, cout: cout, pad: p), "\((n, cin, cout, h, w, p))")
            // The input and bias gradients do not depend on the weight gradient's path.
            let plain = try conv2dBackward(input: x, weight: wt, gradOutput: dy, stride: 1, padding: p,
                                           context: context(winograd: false))
            XCTAssertEqual(g.bias, plain.bias)
            XCTAssertLessThan(normwiseAndMaxErrors(g.weight.data, plain.weight.data.map(Double.init)).norm, 1e-5)
        }
    }

    func testTransposedWeightGradientMatchesFloat64Reference() throws {
        var rng = KernelTestRNG(seed: 62)
        for (n, cin, cout, h, w, p) in cases + [(2, 12, 9, 5, 5, 2)] {
            // Transposed conv [N, cin, h, w] -> [N, cout, h + 2 - 2p, w + 2 - 2p].
            let x = activations(&rng, [n, cin, h, w])
            let wt = rng.tensor([cin, cout, 3, 3])
            let dy = rng.tensor([n, cout, h + 2 - 2 * p, w + 2 - 2 * p])
            let g = try convTranspose2dBackward(input: x, weight: wt, gradOutput: dy, stride: 1, padding: p,
                                                context: context(winograd: true))
            assertWithinBound(g.weight.data, transposedReference(x: x, dy: dy, cout: cout, pad: p), "\((n, cin, cout, h, w, p))")
            let plain = try convTranspose2dBackward(input: x, weight: wt, gradOutput: dy, stride: 1, padding: p,
                                                    context: context(winograd: false))
            XCTAssertEqual(g.bias, plain.bias)
            XCTAssertLessThan(normwiseAndMaxErrors(g.input!.data, plain.input!.data.map(Double.init)).norm, 2e-5)
        }
    }

    func testBlocksAndThreadsGiveTheSameResult() throws {
        // One tile row per block (across image boundaries) against one block;
        // at a fixed block size every thread count gives the same bits.
        var rng = KernelTestRNG(seed: 63)
        let x = activations(&rng, [3, 10, 10, 9]), wt = rng.tensor([10, 12, 3, 3]), dy = rng.tensor([3, 12, 10, 9])
        let whole = try convTranspose2dBackward(input: x, weight: wt, gradOutput: dy, stride: 1, padding: 1,
                                                needInputGradient: false, context: context(winograd: true)).weight
        var previous: Tensor?
        for threads in [1, 2, 3] {
            var small = context(winograd: true, threads: threads)
            (small.tuning.winogradGradientBlockFloats, small.tuning.winogradGradientMinBlockTiles) = (1, 1)
            let split = try convTranspose2dBackward(input: x, weight: wt, gradOutput: dy, stride: 1, padding: 1,
                                                    needInputGradient: false, context: small).weight
            XCTAssertLessThan(normwiseAndMaxErrors(split.data, whole.data.map(Double.init)).norm, 1e-6, "\(threads) threads")
            if let previous { XCTAssertEqual(split, previous, "\(threads) threads: the same bits") }
            previous = split
        }
    }

    func testPlannedWorkspaceGivesTheSameResult() throws {
        var rng = KernelTestRNG(seed: 64)
        let x = activations(&rng, [2, 16, 12, 12]), wt = rng.tensor([16, 8, 3, 3]), dy = rng.tensor([2, 8, 12, 12])
        let c = context(winograd: true)
        let plain = try convTranspose2dBackward(input: x, weight: wt, gradOutput: dy, stride: 1, padding: 1,
                                                needInputGradient: true, context: c)
        let ws = Workspace()
        for _ in 0..<3 {
            let planned = try convTranspose2dBackward(input: x, weight: wt, gradOutput: dy, stride: 1, padding: 1,
                                                      needInputGradient: true, context: c, workspace: ws)
            XCTAssertEqual(planned.weight, plain.weight)
            XCTAssertEqual(planned.input, plain.input)
            ws.recycle(planned.weight)
            if let i = planned.input { ws.recycle(i) }
        }
    }

    // MARK: in training

    /// A trained-decoder model whose mirror of conv1_2 (16 -> 16 at 32x32,
    /// batch 4: 256 tiles) takes the Winograd weight gradient, or not.
    private func trainingModel(winogradGradients: Bool) throws -> Model {
        let m = try Model(config: ModelConfig(arch: "16,16,M", cut: "pool1", seed: 3, unpool: .nearest,
                                              decoder: .trained))
        var c = ExecutionContext(threads: 1)
        if !winogradGradients { c.tuning.winogradGradientMinTiles = Int.max }
        m.executionContext = c
        return m
    }

    func testTrainingStepGradientsMatchTheGEMMPath() throws {
        // One step's gradients by both weight-gradient paths: the same up to
        // the two algorithms' rounding (the bias gradients are the same sums).
        var rng = KernelTestRNG(seed: 65)
        let x = activations(&rng, [4, 3, 32, 32])
        let (fastLoss, fast) = try trainingModel(winogradGradients: true).reconstructionLossAndGradients(x)
        let (plainLoss, plain) = try trainingModel(winogradGradients: false).reconstructionLossAndGradients(x)
        XCTAssertEqual(fastLoss, plainLoss, "the forward pass is the same")
        XCTAssertEqual(Set(fast.keys), Set(plain.keys))
        for (name, g) in plain {
            let e = normwiseAndMaxErrors(fast[name]!.data, g.data.map(Double.init))
            XCTAssertLessThan(e.norm, 1e-5, "\(name): normwise \(e.norm)")
        }
        XCTAssertEqual(fast["decoder.conv1_1.weight"], plain["decoder.conv1_1.weight"],
                       "the 3-channel mirror stays on GEMM")
    }

    func testTrainingLossesMatchTheGEMMPathWithinRounding() throws {
        // Six Adam steps at one thread by both paths. Adam's first updates
        // (near lr * sign(g)) amplify rounding in small gradient components,
        // so the curves drift apart slowly; measured well under 1e-3 relative.
        let fast = try sixStepLosses(trainingModel(winogradGradients: true))
        let plain = try sixStepLosses(trainingModel(winogradGradients: false))
        XCTAssertEqual(fast.count, 6)
        XCTAssertEqual(fast.first ?? .nan, plain.first ?? .nan, "the first loss is the initial weights' forward pass")
        for (a, b) in zip(fast, plain) { XCTAssertEqual(a, b, accuracy: 1e-3 * b, "losses \(fast) against \(plain)") }
    }
}
