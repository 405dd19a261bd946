import XCTest
@testable import RWCNN

/// Resize against naive float64 references, crops and flips against index
/// arithmetic, display normalisation and grids against hand-worked values.
final class TransformTests: XCTestCase {
    /// Deterministic values in [0, 1).
    private func values(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        let data = (0..<shape.reduce(1, *)).map { _ -> Float in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 24)
        }
        return try! Tensor(shape: shape, data: data)
    }

    /// The documented definition, all input pixels visited: weight of input
    /// pixel j for output o is max(0, 1 - |j + 0.5 - (o + 0.5) s| / max(s, 1))
    /// with s = in / out, normalised; separable.
    private func naiveResize(_ t: Tensor, _ oh: Int, _ ow: Int) -> [Double] {
        let (h, w) = (t.shape[t.rank - 2], t.shape[t.rank - 1])
        let planes = t.count / (h * w)
        func weights(_ n: Int, _ m: Int, _ o: Int) -> [Double] {
            let s = Double(n) / Double(m), support = max(s, 1), centre = (Double(o) + 0.5) * s
            let raw = (0..<n).map { max(0, 1 - abs(Double($0) + 0.5 - centre) / support) }
            let sum = raw.reduce(0, +)
            return raw.map { $0 / sum }
        }
        var out = [Double]()
        for p in 0..<planes {
            for y in 0..<oh {
                let wy = weights(h, oh, y)
                for x in 0..<ow {
                    let wx = weights(w, ow, x)
                    var acc = 0.0
                    for j in 0..<h { for i in 0..<w { acc += wy[j] * wx[i] * Double(t.data[(p * h + j) * w + i]) } }
                    out.append(acc)
                }
            }
        }
        return out
    }

    func testResizeMatchesTheNaiveDefinition() throws {
        let cases: [([Int], Int, Int)] = [
            ([3, 7, 5], 13, 11),      // up
            ([2, 17, 23], 5, 7),      // down by ~3.4
            ([1, 12, 9], 4, 3),       // down by exactly 3
            ([3, 10, 31], 16, 8),     // up in one axis, down by ~3.9 in the other
            ([2, 2, 9, 14], 6, 7),    // batch, mixed
            ([1, 1, 1], 4, 3),        // a single pixel
            ([1, 6, 6], 1, 1),        // to a single pixel
            ([3, 8, 8], 8, 8),        // same size
        ]
        for (i, (shape, oh, ow)) in cases.enumerated() {
            let t = values(shape, seed: UInt64(i))
            let out = try resizeBilinear(t, height: oh, width: ow)
            XCTAssertEqual(out.shape, Array(shape.dropLast(2)) + [oh, ow])
            let expected = naiveResize(t, oh, ow)
            for k in 0..<out.count {
                XCTAssertEqual(Double(out.data[k]), expected[k], accuracy: 1e-5, "\(shape) -> \(oh)x\(ow) at \(k)")
            }
        }
    }

    func testUpscaleIsClassicalBilinearWithHalfPixelCentres() throws {
        // PyTorch's align_corners=False formula, as written in its docs.
        let t = values([2, 5, 4], seed: 9)
        let (oh, ow) = (12, 9)
        let out = try resizeBilinear(t, height: oh, width: ow)
        func source(_ o: Int, _ n: Int, _ m: Int) -> (Int, Int, Double) {
            let s = max(0, (Double(o) + 0.5) * Double(n) / Double(m) - 0.5)
            let i0 = min(Int(s), n - 1)
            return (i0, min(i0 + 1, n - 1), s - Double(i0))
        }
        for c in 0..<2 {
            for y in 0..<oh {
                let (y0, y1, ly) = source(y, 5, oh)
                for x in 0..<ow {
                    let (x0, x1, lx) = source(x, 4, ow)
                    func at(_ j: Int, _ i: Int) -> Double { Double(t.data[(c * 5 + j) * 4 + i]) }
                    let v = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1))
                    XCTAssertEqual(Double(out.data[(c * oh + y) * ow + x]), v, accuracy: 1e-5)
                }
            }
        }
    }

    func testResizeKeepsConstantsAndAveragesAreas() throws {
        let flat = try Tensor(shape: [1, 9, 12], data: [Float](repeating: 0.25, count: 108))
        XCTAssertTrue(try resizeBilinear(flat, height: 2, width: 5).data.allSatisfy { abs($0 - 0.25) < 1e-6 })
        // A one-pixel-wide stripe pattern shrunk 4x becomes (nearly) uniform grey, not aliased.
        let stripes = try Tensor(shape: [1, 8, 64], data: (0..<512).map { Float($0 % 2) })
        let small = try resizeBilinear(stripes, height: 8, width: 16)
        XCTAssertTrue(small.data.allSatisfy { abs($0 - 0.5) < 0.07 }, "\(small.data)")
    }

    func testResizeRejectsBadArguments() {
        let t = values([3, 4, 4], seed: 1)
        for (h, w) in [(0, 4), (4, -1)] {
            XCTAssertThrowsError(try resizeBilinear(t, height: h, width: w)) { XCTAssertTrue($0 is RWCNNError) }
        }
        for shape in [[4, 4], [1, 0, 4], [1, 1, 1, 1, 1]] {
            XCTAssertThrowsError(try resizeBilinear(Tensor(zeros: shape), height: 2, width: 2), "\(shape)")
        }
    }

    func testCropsTakeTheRightWindow() throws {
        let t = values([2, 3, 7, 9], seed: 3)
        let c = try crop(t, top: 2, left: 3, height: 4, width: 5)
        XCTAssertEqual(c.shape, [2, 3, 4, 5])
        for p in 0..<6 { for y in 0..<4 { for x in 0..<5 {
            XCTAssertEqual(c.data[(p * 4 + y) * 5 + x], t.data[(p * 7 + y + 2) * 9 + x + 3])
        } } }
        XCTAssertEqual(try crop(t, top: 0, left: 0, height: 7, width: 9), t)
        for (top, left, h, w) in [(-1, 0, 2, 2), (0, 0, 8, 2), (6, 0, 2, 2), (0, 8, 1, 2), (0, 0, 0, 1), (Int.max, 0, 2, 2)] {
            XCTAssertThrowsError(try crop(t, top: top, left: left, height: h, width: w), "\(top) \(left) \(h) \(w)")
        }
        let image = values([3, 7, 10], seed: 4)
        XCTAssertEqual(try centerCrop(image, height: 4, width: 5), try crop(image, top: 1, left: 2, height: 4, width: 5))
        XCTAssertEqual(try centerCrop(image, height: 7, width: 10), image)
        XCTAssertThrowsError(try centerCrop(image, height: 8, width: 5))
    }

    func testFlipMirrorsEachRow() throws {
        let t = try Tensor(shape: [2, 2, 3], data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        XCTAssertEqual(flipHorizontal(t).data, [3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10])
        let even = values([3, 5, 8], seed: 5)
        XCTAssertEqual(flipHorizontal(flipHorizontal(even)), even)
        XCTAssertEqual(flipHorizontal(even).data[8 * 2 + 7], even.data[8 * 2])
    }

    func testResizeAndCenterCrop() throws {
        let wide = values([3, 20, 50], seed: 6)
        let out = try resizeAndCenterCrop(wide, size: 8)
        XCTAssertEqual(out.shape, [3, 8, 8])
        XCTAssertEqual(out, try centerCrop(resizeBilinear(wide, height: 8, width: 20), height: 8, width: 8))
        let tall = values([1, 31, 10], seed: 7)
        XCTAssertEqual(try resizeAndCenterCrop(tall, size: 5),
                       try centerCrop(resizeBilinear(tall, height: 16, width: 5), height: 5, width: 5), "31 * 5 / 10 = 15.5 rounds to 16")
        XCTAssertThrowsError(try resizeAndCenterCrop(tall, size: 0))
    }

    func testDisplayNormalizePerImage() throws {
        let t = try Tensor(shape: [2, 1, 1, 3], data: [2, 4, 6, -1, -1, -1])
        XCTAssertEqual(displayNormalize(t).data, [0, 0.5, 1, 0.5, 0.5, 0.5])
        let single = try Tensor(shape: [2, 1, 2], data: [10, 20, 30, 50])
        XCTAssertEqual(displayNormalize(single).data, [0, 0.25, 0.5, 1], "min and max over all channels")
        let odd = try Tensor(shape: [1, 1, 5], data: [.nan, 1, .infinity, 3, -.infinity])
        XCTAssertEqual(displayNormalize(odd).data, [0, 0, 1, 1, 0])
        let extreme = try Tensor(shape: [1, 1, 2], data: [-Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude])
        XCTAssertEqual(displayNormalize(extreme).data, [0, 1])
    }

    func testGridLayout() throws {
        let tiles = (0..<3).map { i in try! Tensor(shape: [3, 2, 3], data: [Float](repeating: Float(i) / 10, count: 18)) }
        let grid = try makeGrid(tiles, columns: 2, padding: 1, background: 0.9)
        XCTAssertEqual(grid.shape, [3, 2 * 3 + 1, 2 * 4 + 1])
        func at(_ c: Int, _ y: Int, _ x: Int) -> Float { grid.data[(c * 7 + y) * 9 + x] }
        for c in 0..<3 {
            XCTAssertEqual(at(c, 0, 0), 0.9)
            XCTAssertEqual(at(c, 1, 1), 0.0)    // tile 0
            XCTAssertEqual(at(c, 2, 3), 0.0)
            XCTAssertEqual(at(c, 1, 4), 0.9)    // padding between tiles
            XCTAssertEqual(at(c, 1, 5), 0.1)    // tile 1
            XCTAssertEqual(at(c, 4, 1), 0.2)    // tile 2, second row
            XCTAssertEqual(at(c, 5, 7), 0.9)    // the empty cell
        }
        // Gray tiles among RGB ones are replicated; smaller tiles are centred.
        let gray = try Tensor(shape: [1, 1, 1], data: [0.5])
        let rgb = try Tensor(shape: [3, 3, 3], data: [Float](repeating: 0, count: 27))
        let mixed = try makeGrid([gray, rgb], columns: 5, padding: 0, background: 1)
        XCTAssertEqual(mixed.shape, [3, 3, 6])
        for c in 0..<3 {
            XCTAssertEqual(mixed.data[(c * 3 + 1) * 6 + 1], 0.5)
            XCTAssertEqual(mixed.data[(c * 3 + 0) * 6 + 0], 1)
        }
        XCTAssertThrowsError(try makeGrid([], columns: 1))
        XCTAssertThrowsError(try makeGrid(tiles, columns: 0))
        XCTAssertThrowsError(try makeGrid(tiles, columns: 1, padding: -1))
        XCTAssertThrowsError(try makeGrid([gray, Tensor(zeros: [2, 1, 1])], columns: 1))
        XCTAssertThrowsError(try makeGrid([Tensor(zeros: [1, 3, 3, 3])], columns: 1))
    }
}

extension TransformTests {
    func testClampedToUnit() throws {
        let t = try Tensor(shape: [1, 2, 3], data: [-0.5, 0, 0.25, 1, 1.5, .nan])
        XCTAssertEqual(clampedToUnit(t).data, [0, 0, 0.25, 1, 1, 0])
        XCTAssertEqual(clampedToUnit(t).shape, t.shape)
    }
}
