import XCTest
@testable import RWCNN

/// MSE and PSNR against hand-worked values; SSIM against scikit-image
/// (golden values printed by scripts/golden_ssim.py, whose test images are
/// rebuilt here operation for operation). The colour fits: ColourFitTests.
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
        let a = Tensor(zeros: [3, 12, 12])
        for (x, y) in [(a, Tensor(zeros: [3, 12, 11])), (Tensor(zeros: [12, 12]), Tensor(zeros: [12, 12])),
                       (Tensor(zeros: [0, 3, 12, 12]), Tensor(zeros: [0, 3, 12, 12])), (a, Tensor(zeros: [1, 3, 12, 12]))] {
            for metric in [Metrics.mse, Metrics.psnr, Metrics.ssim] {
                XCTAssertThrowsError(try metric(x, y), "\(x.shape) \(y.shape)") { error in
                    guard case RWCNNError.argument = error else { return XCTFail("\(error)") }
                }
            }
            XCTAssertThrowsError(try Metrics.colourInvariantSSIM(reconstruction: x, original: y))
        }
        let small = Tensor(zeros: [1, 10, 40])
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

    func testColourInvariantSSIMRefusesAbsurdChannelCounts() {
        let many = Tensor(zeros: [513, 11, 11])
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
