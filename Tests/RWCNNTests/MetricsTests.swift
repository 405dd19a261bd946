import XCTest
@testable import RWCNN

/// MSE and PSNR against hand-worked values; SSIM and the colour-invariant
/// SSIM against scikit-image (golden values printed by scripts/golden_ssim.py,
/// whose test images are rebuilt here operation for operation).
final class MetricsTests: XCTestCase {
    // MARK: MSE and PSNR

    func testMSEAndPSNRByHand() throws {
        let a = try Tensor(shape: [1, 2, 2], data: [0, 0.5, 1, 0.25])
        let b = try Tensor(shape: [1, 2, 2], data: [0.5, 0.5, 0.5, 0.25])
        // (0.25 + 0 + 0.25 + 0) / 4 = 0.125; PSNR = 10 log10(8) = 9.0309 dB.
        XCTAssertEqual(try Metrics.mse(a, b), 0.125, accuracy: 1e-12)
        XCTAssertEqual(try Metrics.psnr(a, b), 9.030899869919435, accuracy: 1e-9)
        XCTAssertEqual(try Metrics.psnr(a, a), .infinity)
        XCTAssertEqual(try Metrics.mse(a, a), 0)

        // A batch averages the per-image figures: PSNR 9.03 and 20 dB.
        let c = try Tensor(shape: [1, 2, 2], data: [0.1, 0.6, 1.1, 0.35])  // every difference 0.1 from a
        let batchA = try Tensor.stack([a, a]), batchB = try Tensor.stack([b, c])
        XCTAssertEqual(try Metrics.mse(batchA, batchB), (0.125 + 0.01) / 2, accuracy: 1e-8)
        XCTAssertEqual(try Metrics.psnr(batchA, batchB), (9.030899869919435 + 20) / 2, accuracy: 1e-5)
    }

    func testShapesAreChecked() {
        let a = Tensor(checkedZeros: [3, 12, 12])
        for (x, y) in [(a, Tensor(checkedZeros: [3, 12, 11])), (Tensor(checkedZeros: [12, 12]), Tensor(checkedZeros: [12, 12])),
                       (Tensor(checkedZeros: [0, 3, 12, 12]), Tensor(checkedZeros: [0, 3, 12, 12])), (a, Tensor(checkedZeros: [1, 3, 12, 12]))] {
            for metric in [Metrics.mse, Metrics.psnr, Metrics.ssim] {
                XCTAssertThrowsError(try metric(x, y), "\(x.shape) \(y.shape)") { error in
                    guard case RWCNNError.argument = error else { return XCTFail("\(error)") }
                }
            }
            XCTAssertThrowsError(try Metrics.colourInvariantSSIM(reconstruction: x, original: y))
        }
        let small = Tensor(checkedZeros: [1, 10, 40])
        XCTAssertThrowsError(try Metrics.ssim(small, small)) { XCTAssertTrue("\($0)".contains("11x11"), "\($0)") }
        XCTAssertThrowsError(try Metrics.colourInvariantSSIM(reconstruction: small, original: small))
    }

    // MARK: Test images shared with scripts/golden_ssim.py

    private func pattern(_ c: Int, _ h: Int, _ w: Int, _ phase: Double) -> Tensor {
        var data = [Float]()
        for k in 0..<c { for y in 0..<h { for x in 0..<w {
            let (xd, yd, kd) = (Double(x), Double(y), Double(k))
            data.append(Float(0.5 + 0.35 * sin(0.23 * xd + 0.11 * yd + 1.7 * kd + phase) * cos(0.07 * xd - 0.19 * yd + 0.5 * kd)))
        } } }
        return try! Tensor(shape: [c, h, w], data: data)
    }

    private func hashNoise(_ c: Int, _ h: Int, _ w: Int, _ seed: Int) -> [Double] {
        var out = [Double]()
        for k in 0..<c { for y in 0..<h { for x in 0..<w {
            let v = (UInt64(x * 73 + y * 151 + k * 29 + seed * 1013) &* 2654435761) & 0xFFFF_FFFF
            out.append(Double(v) / 4294967296)
        } } }
        return out
    }

    private func noisy(_ a: Tensor, _ seed: Int, _ amplitude: Double) -> Tensor {
        let n = hashNoise(a.shape[0], a.shape[1], a.shape[2], seed)
        var out = a
        for i in 0..<a.count { out.data[i] = Float(min(1, max(0, Double(a.data[i]) + amplitude * (n[i] - 0.5)))) }
        return out
    }

    private func map(_ a: Tensor, _ f: (Int, Float) -> Float) -> Tensor {
        var out = a
        for i in 0..<a.count { out.data[i] = f(i, a.data[i]) }
        return out
    }

    private func photo() throws -> Tensor {
        try crop(loadImageTensor(path: bundledImages + "/astronaut.png"), top: 100, left: 180, height: 64, width: 64)
    }

    // MARK: SSIM against scikit-image

    func testSSIMMatchesScikitImage() throws {
        let a = pattern(3, 40, 37, 0)
        let shifted = map(a) { i, _ in
            let x = i % 37
            return a.data[i - x + (x + 1) % 37]
        }
        let gray = pattern(1, 23, 29, 0.4)
        let tiny = pattern(2, 11, 11, 1)
        let photo = try photo()
        let cases: [(String, Tensor, Tensor, Double)] = [
            ("patternNoisy", a, noisy(a, 1, 0.2), 0.7822786839),
            ("patternShifted", a, shifted, 0.9601289608),
            ("grayInverted", gray, map(gray) { _, v in Float(1 - Double(v)) }, -0.7352763717),
            ("batchOfTwo", try Tensor.stack([a, a]), try Tensor.stack([noisy(a, 1, 0.2), shifted]), 0.8712038223),
            ("tiny11", tiny, noisy(tiny, 2, 0.3), 0.5880247871),
            ("photoNoisy", photo, noisy(photo, 3, 0.2), 0.5998977457),
        ]
        for (name, x, y, expected) in cases {
            XCTAssertEqual(try Metrics.ssim(x, y), expected, accuracy: 1e-6, name)
            XCTAssertEqual(try Metrics.ssim(y, x), expected, accuracy: 1e-6, "\(name) is symmetric")
        }
        XCTAssertEqual(try Metrics.ssim(photo, photo), 1, accuracy: 1e-12)
    }

    func testColourInvariantSSIMMatchesScikitImageAndUndoesAffineColourChanges() throws {
        let photo = try photo()
        let plane = 64 * 64
        let (gains, offsets) = ([0.5, -0.8, 2.0], [0.2, 0.9, -0.5])
        let noise = hashNoise(3, 64, 64, 4)
        let affine = map(photo) { i, v in
            let k = i / plane
            return Float(gains[k] * Double(v) + offsets[k] + 0.02 * (noise[i] - 0.5))
        }
        let permuted = map(photo) { i, _ in photo.data[[1, 2, 0][i / plane] * plane + i % plane] }
        // Channels mixed by a full 3 x 3 matrix, shifted, with a little noise.
        let (mixing, shifts) = ([[0.2, 0.7, -0.3], [-0.6, 0.1, 0.5], [0.4, -0.2, 0.9]], [0.3, 0.4, -0.1])
        let mixNoise = hashNoise(3, 64, 64, 6)
        let mixed = map(photo) { i, _ in
            let (k, p) = (i / plane, i % plane), m = mixing[k]
            let (r, g, b) = (Double(photo.data[p]), Double(photo.data[plane + p]), Double(photo.data[2 * plane + p]))
            return Float(m[0] * r + m[1] * g + m[2] * b + shifts[k] + 0.02 * (mixNoise[i] - 0.5))
        }
        let grayTimesThree = map(photo) { i, _ in
            let p = i % plane
            return Float((Double(photo.data[p]) + Double(photo.data[plane + p]) + Double(photo.data[2 * plane + p])) / 3)
        }
        let allFlat = map(photo) { _, _ in 0.5 }
        let a = pattern(3, 40, 37, 0)
        let flat = map(a) { i, v in i / (40 * 37) == 1 ? 0.3 : v }
        let gray = pattern(1, 23, 29, 0.4)
        let grayInverted = map(gray) { _, v in Float(1 - Double(v)) }
        // Strong independent noise (unclipped): weakly correlated with the photo.
        let strongNoise = hashNoise(3, 64, 64, 8)
        let veryNoisy = map(photo) { i, v in Float(Double(v) + 1.5 * (strongNoise[i] - 0.5)) }
        func colour(_ r: Tensor, _ o: Tensor) throws -> Double { try Metrics.colourInvariantSSIM(reconstruction: r, original: o) }

        XCTAssertEqual(try Metrics.ssim(affine, photo), 0.4182882686, accuracy: 1e-6)
        XCTAssertEqual(try colour(affine, photo), 0.9853109484, accuracy: 1e-6)
        XCTAssertGreaterThan(try colour(affine, photo), 0.97, "rescaled, shifted and inverted channels are undone")

        XCTAssertEqual(try Metrics.ssim(permuted, photo), 0.8966894765, accuracy: 1e-6)
        XCTAssertEqual(try colour(permuted, photo), 1.0, accuracy: 1e-6)
        XCTAssertGreaterThan(try colour(permuted, photo), 0.97, "permuted channels are undone")

        XCTAssertEqual(try Metrics.ssim(mixed, photo), 0.7469849789, accuracy: 1e-6)
        XCTAssertEqual(try colour(mixed, photo), 0.9865913424, accuracy: 1e-6)
        XCTAssertGreaterThan(try colour(mixed, photo), 0.97, "channels mixed by a matrix are undone")

        // A weakly correlated reconstruction: the least-squares fit shrinks it
        // towards the mean, and moment matching restores the contrast, so the
        // colour fit does not cost structure against plain SSIM.
        let veryNoisyPlain = try Metrics.ssim(veryNoisy, photo), veryNoisyColour = try colour(veryNoisy, photo)
        XCTAssertEqual(veryNoisyPlain, 0.0444178113, accuracy: 1e-6)
        XCTAssertEqual(veryNoisyColour, 0.1419520382, accuracy: 1e-6)
        XCTAssertGreaterThanOrEqual(veryNoisyColour, veryNoisyPlain - 0.02, "the colour fit scores at least plain SSIM")

        // Degenerate fits: three identical channels (a singular system), every
        // channel constant, one channel constant.
        XCTAssertEqual(try colour(grayTimesThree, photo), 0.9755224477, accuracy: 1e-6)
        XCTAssertEqual(try colour(allFlat, photo), 0.3518115484, accuracy: 1e-6, "a constant image is fitted by the original's means")
        XCTAssertEqual(try colour(flat, a), 0.7278141639, accuracy: 1e-6)
        XCTAssertEqual(try colour(grayInverted, gray), 1.0, accuracy: 1e-6, "one channel: gain and offset")
        XCTAssertEqual(try colour(photo, photo), 1, accuracy: 1e-9)

        // Per image in a batch: the second item's fit does not leak into the first.
        let batch = try colour(Tensor.stack([affine, permuted]), Tensor.stack([photo, photo]))
        XCTAssertEqual(batch, 0.9926554742, accuracy: 1e-6)
        XCTAssertEqual(batch, (0.9853109484 + 1) / 2, accuracy: 1e-6)
    }

    func testColourFitRecoversAKnownColourMap() throws {
        // r from hash noise; o = A r + b in float64, rounded once to float32.
        let (c, h, w) = (3, 12, 13), plane = h * w
        let r = hashNoise(c, h, w, 7).map { Float($0) }
        let matrix = [0.3, -1.2, 0.5, 0.9, 0.2, -0.4, -0.1, 0.6, 1.1], offset = [0.25, -0.5, 1.5]
        var o = [Float](repeating: 0, count: c * plane)
        for l in 0..<c { for p in 0..<plane {
            var v = offset[l]
            for j in 0..<c { v += matrix[l * c + j] * Double(r[j * plane + p]) }
            o[l * plane + p] = Float(v)
        } }
        let fit = Metrics.fitColourMap(r, o, channels: c, planeSize: plane)
        for k in 0..<c * c { XCTAssertEqual(fit.matrix[k], matrix[k], accuracy: 1e-5, "A[\(k / c)][\(k % c)]") }
        for l in 0..<c { XCTAssertEqual(fit.offset[l], offset[l], accuracy: 1e-5, "b[\(l)]") }

        // Two identical channels share the weight of the channel they copy;
        // a constant channel gets none; nothing is NaN.
        var degenerate = r
        for p in 0..<plane { degenerate[plane + p] = r[p]; degenerate[2 * plane + p] = 0.7 }
        let target = (0..<c * plane).map { Float(0.1 + 0.8 * Double(r[$0 % plane])) }
        let shared = Metrics.fitColourMap(degenerate, target, channels: c, planeSize: plane)
        for l in 0..<c {
            XCTAssertEqual(shared.matrix[l * c], 0.4, accuracy: 1e-6)
            XCTAssertEqual(shared.matrix[l * c + 1], 0.4, accuracy: 1e-6)
            XCTAssertEqual(shared.matrix[l * c + 2], 0)
            XCTAssertEqual(shared.offset[l], 0.1, accuracy: 1e-6)
        }
    }

    func testMomentMatchingRestoresTheTargetsMeanAndDeviation() {
        // Naive float64 moments of the target against the rescaled plane.
        let m = 11 * 13
        let target = hashNoise(1, 11, 13, 9).map { Float(0.2 + 0.6 * $0) }
        let faint = hashNoise(1, 11, 13, 10).map { 0.4 + 0.01 * $0 }  // weak contrast, another mean
        func moments(_ x: [Double]) -> (mean: Double, deviation: Double) {
            let mean = x.reduce(0, +) / Double(x.count)
            return (mean, (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)).squareRoot())
        }
        let expected = moments(target.map(Double.init)), before = moments(faint)
        var plane = faint
        target.withUnsafeBufferPointer { t in
            plane.withUnsafeMutableBufferPointer { Metrics.matchMoments($0.baseAddress!, to: t.baseAddress!, m) }
        }
        let after = moments(plane)
        XCTAssertEqual(after.mean, expected.mean, accuracy: 1e-12)
        XCTAssertEqual(after.deviation, expected.deviation, accuracy: 1e-12)
        // An affine map of the input: the same positions, a positive gain.
        let gain = expected.deviation / before.deviation
        for i in 0..<m { XCTAssertEqual(plane[i], expected.mean + (faint[i] - before.mean) * gain, accuracy: 1e-12) }

        // A constant fitted plane has no contrast to restore: the target's mean.
        var constant = [Double](repeating: 0.7, count: m)
        target.withUnsafeBufferPointer { t in
            constant.withUnsafeMutableBufferPointer { Metrics.matchMoments($0.baseAddress!, to: t.baseAddress!, m) }
        }
        for v in constant { XCTAssertEqual(v, expected.mean, accuracy: 1e-12) }
    }

    func testColourInvariantSSIMRefusesAbsurdChannelCounts() {
        let many = Tensor(checkedZeros: [513, 11, 11])
        XCTAssertThrowsError(try Metrics.colourInvariantSSIM(reconstruction: many, original: many)) { error in
            guard case RWCNNError.argument = error else { return XCTFail("\(error)") }
            XCTAssertTrue("\(error)".contains("512"), "\(error)")
        }
    }

    func testSSIMOfALargeImageIsFinite() throws {
        // 224 x 224 x 3, the paper's size; also exercises the parallel planes.
        let x = try resizeAndCenterCrop(loadImageTensor(path: bundledImages + "/chelsea.png"), size: 224)
        let y = noisy(x, 5, 0.1)
        let s = try Metrics.ssim(try Tensor.stack([x, y, x]), try Tensor.stack([y, x, x]))
        XCTAssertEqual(s, (2 * (try Metrics.ssim(x, y)) + 1) / 3, accuracy: 1e-12)
        XCTAssertTrue(s > 0 && s < 1)
    }
}
