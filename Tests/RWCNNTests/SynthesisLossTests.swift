// Synthesis losses: feature loss, Gram matrices and Gram loss, beta-TV and
// the alpha-norm. Values against naive float64 implementations written here
// from the definitions (docs/ENGINE.md, "Synthesis"), gradients against
// central finite differences of those, plus the scale invariance that the
// default Gram weighting promises, thread-count independence and bad
// arguments.
import XCTest
@testable import RWCNN

/// Naive float64 definitions, independent of the code under test.
private enum Reference {
    /// G[n][i][j] = sum_p F[n,i,p] F[n,j,p] / M, flattened [N,C,C].
    static func gram(_ f: [Double], n: Int, c: Int, m: Int) -> [Double] {
        var g = [Double](repeating: 0, count: n * c * c)
        for b in 0..<n { for i in 0..<c { for j in 0..<c {
            var acc = 0.0
            for p in 0..<m { acc += f[(b * c + i) * m + p] * f[(b * c + j) * m + p] }
            g[(b * c + i) * c + j] = acc / Double(m)
        } } }
        return g
    }

    /// The Gram loss of the file comment in GramLoss.swift, target [N,C,C] or [C,C].
    static func gramLoss(_ f: [Double], n: Int, c: Int, m: Int, target: [Double], weight: Double,
                         normalization: GramNormalization) -> Double {
        let g = gram(f, n: n, c: c, m: m)
        var error = 0.0, energy = 0.0
        for b in 0..<n { for e in 0..<(c * c) {
            let a = target.count == c * c ? target[e] : target[b * c * c + e]
            error += (g[b * c * c + e] - a) * (g[b * c * c + e] - a)
            energy += a * a
        } }
        switch normalization {
        case .scaled: return weight * error / energy
        case .gatys: return weight * error / (4 * Double(c * c))
        }
    }

    static func featureLoss(_ f: [Double], _ t: [Double], weight: Double, normalization: FeatureLossNormalization) -> Double {
        let error = zip(f, t).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        switch normalization {
        case .mean: return weight * error / Double(f.count)
        case .relative: return weight * error / t.reduce(0) { $0 + $1 * $1 }
        }
    }

    /// beta-TV with zero differences past the last row and column, mean over elements.
    static func totalVariation(_ x: [Double], _ shape: [Int], beta: Double, weight: Double) -> Double {
        let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
        var sum = 0.0
        for p in 0..<planes { for i in 0..<h { for j in 0..<w {
            let v = x[(p * h + i) * w + j]
            let dh = j + 1 < w ? x[(p * h + i) * w + j + 1] - v : 0
            let dv = i + 1 < h ? x[(p * h + i + 1) * w + j] - v : 0
            sum += pow(dh * dh + dv * dv, beta / 2)
        } } }
        return weight * sum / Double(x.count)
    }

    static func alphaNorm(_ x: [Double], alpha: Double, center: Double, weight: Double) -> Double {
        weight * x.reduce(0) { $0 + pow(abs($1 - center), alpha) } / Double(x.count)
    }
}

final class SynthesisLossTests: XCTestCase {
    // MARK: feature loss

    func testFeatureLossMatchesReferenceAndFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 31)
        for normalization in FeatureLossNormalization.allCases {
            for (shape, weight) in [([1, 1, 1, 1], 1.0), ([2, 3, 5, 7], 0.3), ([1, 4, 3, 2], 2.5)] {
                let f = rng.tensor(shape), t = rng.tensor(shape)
                let (fd, td) = (Check.doubles(f), Check.doubles(t))
                let loss = try featureLoss(features: f, target: t, weight: weight, normalization: normalization)
                let ref = Reference.featureLoss(fd, td, weight: weight, normalization: normalization)
                XCTAssertEqual(loss.value, ref, accuracy: 1e-12 * max(1, abs(ref)), "\(normalization) \(shape)")
                XCTAssertEqual(loss.gradient.shape, shape)
                let numeric = Check.finiteDifferences(fd) { Reference.featureLoss($0, td, weight: weight, normalization: normalization) }
                XCTAssertLessThan(relativeError(Check.doubles(loss.gradient), numeric), 1e-5, "\(normalization) \(shape)")
            }
        }
        // Zero at the target itself.
        let t = rng.tensor([1, 2, 3, 3])
        XCTAssertEqual(try featureLoss(features: t, target: t, normalization: .relative).value, 0)
    }

    // MARK: Gram

    func testGramMatrixMatchesReference() throws {
        var rng = KernelTestRNG(seed: 32)
        for shape in [[1, 1, 1, 1], [2, 3, 5, 7], [1, 17, 9, 11], [3, 8, 1, 13]] {
            let f = rng.tensor(shape)
            let g = try gramMatrix(features: f)
            XCTAssertEqual(g.shape, [shape[0], shape[1], shape[1]])
            let ref = Reference.gram(Check.doubles(f), n: shape[0], c: shape[1], m: shape[2] * shape[3])
            // Float sums of up to 143 products of size 1 (BLAS): relative 1e-5.
            XCTAssertLessThan(relativeError(Check.doubles(g), ref), 1e-5, "\(shape)")
        }
    }

    func testGramLossMatchesReferenceAndFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 33)
        for normalization in GramNormalization.allCases {
            for (shape, weight, sharedTarget) in [([1, 2, 3, 3], 1.0, false), ([2, 3, 4, 5], 0.7, false), ([2, 4, 3, 2], 3.0, true)] {
                let (n, c, m) = (shape[0], shape[1], shape[2] * shape[3])
                let f = rng.tensor(shape)
                // Targets from other features, so the loss is well away from zero.
                let source = rng.tensor(sharedTarget ? [1, c, 6, 7] : [n, c, 5, 3])
                var target = try gramMatrix(features: source)
                if sharedTarget { target = try target.reshaped([c, c]) }
                let loss = try gramLoss(features: f, target: target, weight: weight, normalization: normalization)
                let fd = Check.doubles(f), td = Check.doubles(target)
                let ref = Reference.gramLoss(fd, n: n, c: c, m: m, target: td, weight: weight, normalization: normalization)
                XCTAssertEqual(loss.value, ref, accuracy: 1e-5 * abs(ref), "\(normalization) \(shape)")
                XCTAssertEqual(loss.gradient.shape, shape)
                let numeric = Check.finiteDifferences(fd) {
                    Reference.gramLoss($0, n: n, c: c, m: m, target: td, weight: weight, normalization: normalization)
                }
                XCTAssertLessThan(relativeError(Check.doubles(loss.gradient), numeric), 1e-4, "\(normalization) \(shape)")
            }
        }
    }

    /// The scaled rule's promise: scaling a layer's features by s leaves the
    /// loss unchanged and scales dE/dF by 1/s (so dE/dimage is unchanged);
    /// the gatys rule's loss scales by s^4.
    func testScaledGramLossIsInvariantToFeatureScale() throws {
        var rng = KernelTestRNG(seed: 34)
        let f = rng.tensor([2, 5, 6, 7]), source = rng.tensor([1, 5, 8, 8])
        let target = try gramMatrix(features: source).reshaped([5, 5])
        for s: Float in [0.01, 3, 250] {
            let fs = try Tensor(shape: f.shape, data: f.data.map { $0 * s })
            let ts = try Tensor(shape: target.shape, data: target.data.map { $0 * s * s })
            let base = try gramLoss(features: f, target: target)
            let scaled = try gramLoss(features: fs, target: ts)
            XCTAssertEqual(scaled.value, base.value, accuracy: 1e-4 * base.value, "s = \(s)")
            XCTAssertLessThan(relativeError(Check.doubles(scaled.gradient).map { $0 * Double(s) }, Check.doubles(base.gradient)), 1e-4)
            let gatysBase = try gramLoss(features: f, target: target, normalization: .gatys)
            let gatysScaled = try gramLoss(features: fs, target: ts, normalization: .gatys)
            let s4 = pow(Double(s), 4)
            XCTAssertEqual(gatysScaled.value, gatysBase.value * s4, accuracy: 1e-4 * gatysBase.value * s4, "s = \(s)")
        }
        // A black image (zero features) scores exactly the weight under the scaled rule.
        XCTAssertEqual(try gramLoss(features: Tensor(zeros: [1, 5, 3, 3]), target: target, weight: 0.25).value, 0.25, accuracy: 1e-12)
    }

    // MARK: total variation

    func testTotalVariationMatchesReferenceAndFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 35)
        for beta in [1.0, 1.5, 2.0, 3.0] {
            for (shape, weight) in [([1, 1, 1, 1], 1.0), ([1, 1, 1, 6], 2.0), ([2, 3, 5, 4], 0.5), ([1, 2, 7, 1], 1.0)] {
                let x = rng.tensor(shape)
                let loss = try totalVariationLoss(image: x, beta: beta, weight: weight)
                let xd = Check.doubles(x)
                let ref = Reference.totalVariation(xd, shape, beta: beta, weight: weight)
                XCTAssertEqual(loss.value, ref, accuracy: 1e-12 * max(1, ref), "beta \(beta) \(shape)")
                let numeric = Check.finiteDifferences(xd, eps: 1e-6) { Reference.totalVariation($0, shape, beta: beta, weight: weight) }
                XCTAssertLessThan(relativeError(Check.doubles(loss.gradient), numeric), 1e-5, "beta \(beta) \(shape)")
            }
        }
        // A constant image: no variation and, even at beta = 1, a zero gradient.
        let flat = try Tensor(shape: [1, 3, 4, 4], data: [Float](repeating: 0.3, count: 48))
        for beta in [1.0, 2.0] {
            let loss = try totalVariationLoss(image: flat, beta: beta)
            XCTAssertEqual(loss.value, 0)
            XCTAssertEqual(loss.gradient, Tensor(checkedZeros: [1, 3, 4, 4]))
        }
    }

    // MARK: alpha-norm

    func testAlphaNormMatchesReferenceAndFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 36)
        for alpha in [1.0, 2.0, 2.5, 6.0] {
            for (shape, center, weight) in [([1, 1, 1, 1], 0.0, 1.0), ([2, 3, 4, 5], 0.5, 0.2), ([7], -0.25, 3.0)] {
                let x = rng.tensor(shape)
                let loss = try alphaNormLoss(image: x, alpha: alpha, center: center, weight: weight)
                let xd = Check.doubles(x)
                let ref = Reference.alphaNorm(xd, alpha: alpha, center: center, weight: weight)
                XCTAssertEqual(loss.value, ref, accuracy: 1e-12 * max(1, ref), "alpha \(alpha) \(shape)")
                let numeric = Check.finiteDifferences(xd, eps: 1e-6) { Reference.alphaNorm($0, alpha: alpha, center: center, weight: weight) }
                XCTAssertLessThan(relativeError(Check.doubles(loss.gradient), numeric), 1e-5, "alpha \(alpha) \(shape)")
            }
        }
    }

    // MARK: determinism and arguments

    func testLossesDoNotDependOnThreadCount() throws {
        var rng = KernelTestRNG(seed: 37)
        let saved = Threads.count
        defer { Threads.set(saved) }
        let x = rng.tensor([2, 3, 131, 67]), t = rng.tensor([2, 3, 131, 67])
        func run() throws -> [LossAndGradient] {
            [try featureLoss(features: x, target: t), try totalVariationLoss(image: x, beta: 1.5),
             try alphaNormLoss(image: x, alpha: 3, center: 0.5)]
        }
        Threads.set(1)
        let one = try run()
        Threads.set(3)
        let three = try run()
        for (a, b) in zip(one, three) {
            XCTAssertEqual(a.value, b.value)
            XCTAssertEqual(a.gradient, b.gradient)
        }
    }

    func testBadArgumentsThrowArgumentErrors() {
        let f = Tensor(checkedZeros: [2, 3, 4, 4]), gram = Tensor(checkedZeros: [3, 3])
        let target = (try? Tensor(shape: [3, 3], data: [Float](repeating: 1, count: 9))) ?? gram
        let cases: [(String, () throws -> Any)] = [
            ("feature shape mismatch", { try featureLoss(features: f, target: Tensor(zeros: [2, 3, 4, 5])) }),
            ("feature empty", { try featureLoss(features: Tensor(zeros: [0]), target: Tensor(zeros: [0])) }),
            ("feature negative weight", { try featureLoss(features: f, target: f, weight: -1) }),
            ("feature NaN weight", { try featureLoss(features: f, target: f, weight: .nan) }),
            ("feature relative zero target", { try featureLoss(features: f, target: f, normalization: .relative) }),
            ("gram rank 3", { try gramMatrix(features: Tensor(zeros: [3, 4, 4])) }),
            ("gram loss target shape", { try gramLoss(features: f, target: Tensor(zeros: [2, 3, 4])) }),
            ("gram loss target channels", { try gramLoss(features: f, target: Tensor(zeros: [4, 4])) }),
            ("gram loss target batch", { try gramLoss(features: f, target: Tensor(zeros: [3, 3, 3])) }),
            ("gram loss negative weight", { try gramLoss(features: f, target: target, weight: -0.5) }),
            ("gram loss infinite weight", { try gramLoss(features: f, target: target, weight: .infinity) }),
            ("gram loss zero target, scaled", { try gramLoss(features: f, target: gram) }),
            ("gram loss NaN target", { try gramLoss(features: f, target: Tensor(shape: [3, 3], data: [Float](repeating: .nan, count: 9))) }),
            ("tv rank 2", { try totalVariationLoss(image: Tensor(zeros: [4, 4])) }),
            ("tv beta below 1", { try totalVariationLoss(image: f, beta: 0.5) }),
            ("tv beta NaN", { try totalVariationLoss(image: f, beta: .nan) }),
            ("tv negative weight", { try totalVariationLoss(image: f, weight: -1) }),
            ("alpha below 1", { try alphaNormLoss(image: f, alpha: 0.9) }),
            ("alpha infinite", { try alphaNormLoss(image: f, alpha: .infinity) }),
            ("alpha NaN center", { try alphaNormLoss(image: f, center: .nan) }),
            ("alpha empty", { try alphaNormLoss(image: Tensor(zeros: [0])) }),
            ("alpha negative weight", { try alphaNormLoss(image: f, weight: -2) }),
        ]
        for (label, body) in cases { Check.argumentError(label, body) }
        // The gatys rule accepts a zero target.
        XCTAssertNoThrow(try gramLoss(features: f, target: gram, normalization: .gatys))
    }
}
