import XCTest
@testable import RWCNN

/// What the front ends (CLI, C, Python) now take from the core: the display
/// rule, FLOP counts, the label font and labelled grid, the input-value
/// checks, and the version the header carries.
final class FrontEndTests: XCTestCase {
    // MARK: display rule

    func testDisplayRuleNormalisesRandomAndTiedAndClampsTrained() throws {
        XCTAssertEqual(DisplayRule(decoder: .random), .normalize)
        XCTAssertEqual(DisplayRule(decoder: .tied), .normalize)
        XCTAssertEqual(DisplayRule(decoder: .trained), .clamp)
        let raw = try Tensor(shape: [1, 1, 1, 4], data: [-2, 0.5, 1, 3])
        // Naive references: min-max over the image, and clamping.
        XCTAssertEqual(DisplayRule.normalize.apply(raw).data, [0, 0.5, 0.6, 1])
        XCTAssertEqual(DisplayRule.clamp.apply(raw).data, [0, 0.5, 1, 1])
        let tied = try Model(config: ModelConfig(arch: "4,M", cut: "pool1", decoder: .tied))
        let trained = try Model(config: ModelConfig(arch: "4,M", cut: "pool1", decoder: .trained))
        XCTAssertEqual(tied.forDisplay(raw).data, [0, 0.5, 0.6, 1])
        XCTAssertEqual(trained.forDisplay(raw).data, [0, 0.5, 1, 1])
    }

    func testEvaluateUsesTheModelsRule() throws {
        let model = try Model(config: ModelConfig(arch: "4,M", cut: "pool1", seed: 2, decoder: .tied))
        let images = try Tensor(shape: [2, 3, 16, 16], data: (0..<(2 * 768)).map { Float(($0 * 37) % 101) / 100 })
        let byDefault = try model.evaluate(images)
        let normalised = try model.evaluate(images, rule: .normalize)
        let clamped = try model.evaluate(images, rule: .clamp)
        XCTAssertEqual(byDefault.mse, normalised.mse)
        XCTAssertNotEqual(byDefault.mse, clamped.mse)
    }

    // MARK: FLOPs

    func testFLOPsCountTheDirectConvolutions() throws {
        // VGG16 at 224: conv1_1 = 2 * 64 * 3 * 9 * 224^2, conv1_2 = 2 * 64 * 64 * 9 * 224^2 (by hand).
        let a = try Architecture(spec: "vgg16")
        let conv11 = 2.0 * 64 * 3 * 9 * 224 * 224, conv12 = 2.0 * 64 * 64 * 9 * 224 * 224
        let pool1 = try a.index(of: "pool1")
        XCTAssertEqual(try a.encoderFLOPs(cut: pool1, height: 224, width: 224), conv11 + conv12)
        XCTAssertEqual(try a.trainStepFLOPs(cut: pool1, height: 224, width: 224), 4 * (conv11 + conv12) - conv12)
        // The whole VGG16 feature stack at 224: 15.35 G multiply-adds (summed by hand over the 13 convs).
        let full = try a.encoderFLOPs(cut: try a.index(of: "pool5"), height: 224, width: 224)
        XCTAssertEqual(full / 1e9, 30.69, accuracy: 0.01)
        XCTAssertThrowsError(try a.encoderFLOPs(cut: 99, height: 224, width: 224))
    }

    // MARK: label font

    private func inkRows(_ ch: Character) -> Set<Int> {
        Set(LabelFont.glyph(ch)!.enumerated().filter { $0.element.contains("#") }.map(\.offset))
    }

    func testGlyphsAreFiveByNine() {
        for ch in LabelFont.characters {
            let g = LabelFont.glyph(ch)!
            XCTAssertEqual(g.count, LabelFont.cellHeight, "\(ch)")
            XCTAssertTrue(g.allSatisfy { $0.count == LabelFont.cellWidth && $0.allSatisfy { $0 == "#" || $0 == " " } }, "\(ch)")
        }
        for ch in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-." {
            XCTAssertNotNil(LabelFont.glyph(ch), "missing \(ch)")
        }
    }

    func testDescendersGoBelowTheBaselineAndOnlyThere() {
        let baseline = LabelFont.ascent  // rows 0..<7 are above it
        for ch in "gjpqy" {
            XCTAssertTrue(inkRows(ch).contains(where: { $0 >= baseline }), "\(ch) must descend below the baseline")
            XCTAssertTrue(inkRows(ch).contains(baseline - 1) || ch == "j", "\(ch) must reach the baseline")
        }
        for ch in "abcdefhiklmnorstuvwxzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" {
            XCTAssertTrue(inkRows(ch).allSatisfy { $0 < baseline }, "\(ch) must sit on the baseline")
            XCTAssertTrue(inkRows(ch).contains(baseline - 1), "\(ch) must reach the baseline")
        }
    }

    func testLowerCaseHasXHeightAndAscendersAndDiffersFromUpperCase() {
        let xTop = LabelFont.ascent - 5  // x-height is 5 rows
        for ch in "acegmnopqrsuvwxyz" {
            XCTAssertEqual(inkRows(ch).min(), xTop, "\(ch) is an x-height letter")
        }
        for ch in "bdfhkl" {
            XCTAssertEqual(inkRows(ch).min(), 0, "\(ch) has an ascender")
        }
        for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
            XCTAssertEqual(inkRows(ch).min(), 0, "\(ch) is cap height")
            let lower = Character(ch.lowercased())
            XCTAssertNotEqual(LabelFont.glyph(ch)!, LabelFont.glyph(lower)!, "\(ch) and \(lower) are drawn alike")
        }
    }

    func testDrawLabelInksTheGlyphAndClips() throws {
        var image = try Tensor(shape: [3, 20, 14], data: [Float](repeating: 1, count: 3 * 20 * 14))
        drawLabel("g", into: &image, top: 1, left: 2, scale: 2)
        // Pixel (y, x) is black iff its font pixel ((y - 1) / 2, (x - 2) / 2) is inked.
        let g = LabelFont.glyph("g")!.map(Array.init)
        for y in 0..<20 {
            for x in 0..<14 {
                let r = (y - 1) / 2, c = (x - 2) / 2
                let inked = y >= 1 && x >= 2 && r < 9 && c < 5 && g[r][c] == "#"
                for k in 0..<3 { XCTAssertEqual(image.data[(k * 20 + y) * 14 + x], inked ? 0 : 1, "(\(y), \(x))") }
            }
        }
        var small = try Tensor(shape: [1, 4, 4], data: [Float](repeating: 1, count: 16))
        drawLabel("Wg?~", into: &small, top: -3, left: -2)  // clipped, no trap; "~" is drawn as "?"
        XCTAssertEqual(labelSize("ab", scale: 2).width, (6 + 5) * 2)
        XCTAssertEqual(labelSize("ab", scale: 2).height, 18)
    }

    // MARK: labelled grid

    func testLabelledGridPlacesTilesUnderTheirColumns() throws {
        let tile = 24
        let red = try Tensor(shape: [3, tile, tile], data: (0..<(3 * tile * tile)).map { $0 < tile * tile ? 1 : 0 })
        let gray = try Tensor(shape: [1, tile, tile], data: [Float](repeating: 0.25, count: tile * tile))
        let grid = try labelledGrid(rows: [GridRow(label: "ab", tiles: [red, nil]), GridRow(label: "c", tiles: [nil, gray])],
                                    columns: ["x", "y"], tile: tile, gap: 4)
        XCTAssertEqual(grid.shape[0], 3)
        let h = grid.shape[1], w = grid.shape[2]
        let labelColumn = 8 + labelSize("ab").width, top = labelSize("").height + 8
        XCTAssertEqual(w, labelColumn + 2 * (tile + 4))
        XCTAssertEqual(h, top + 2 * (tile + 4))
        func pixel(_ k: Int, _ y: Int, _ x: Int) -> Float { grid.data[(k * h + y) * w + x] }
        // Row 0, column 0: the red tile; row 1, column 1: gray in all channels; empty cells white.
        XCTAssertEqual([pixel(0, top + 5, labelColumn + 5), pixel(1, top + 5, labelColumn + 5)], [1, 0])
        let y1 = top + tile + 4 + 5, x1 = labelColumn + tile + 4 + 5
        XCTAssertEqual((0..<3).map { pixel($0, y1, x1) }, [0.25, 0.25, 0.25])
        XCTAssertEqual((0..<3).map { pixel($0, y1, labelColumn + 5) }, [1, 1, 1])
        XCTAssertThrowsError(try labelledGrid(rows: [GridRow(label: "a", tiles: [red, red, red])], columns: ["x", "y"], tile: tile))
        XCTAssertThrowsError(try labelledGrid(rows: [GridRow(label: "a", tiles: [gray])], columns: ["x"], tile: tile + 1))
        XCTAssertThrowsError(try labelledGrid(rows: [], columns: [], tile: tile))
    }

    // MARK: input values

    func testNonFiniteAnd0To255InputIsAnArgumentError() throws {
        let model = try Model(config: ModelConfig(arch: "4,M", cut: "pool1", unpool: .nearest, decoder: .tied))
        func refused(_ v: Float, _ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
            var x = try Tensor(shape: [3, 8, 8], data: [Float](repeating: 0.5, count: 192))
            x.data[17] = v
            for call in [{ _ = try model.encode(x) }, { _ = try model.reconstruct(x) }] {
                XCTAssertThrowsError(try call(), file: file, line: line) { e in
                    guard case RWCNNError.argument(let m) = e else { return XCTFail("\(e)", file: file, line: line) }
                    XCTAssertTrue(m.contains(text), m, file: file, line: line)
                }
            }
        }
        try refused(.nan, "NaN")
        try refused(.infinity, "infinite")
        try refused(200, "0..255")
        var ok = try Tensor(shape: [3, 8, 8], data: [Float](repeating: 0.5, count: 192))
        ok.data[0] = maximumPixelValue  // the bound itself passes
        XCTAssertNoThrow(try model.encode(ok))
        var features = try model.encode(ok)
        features.data[3] = .nan
        XCTAssertThrowsError(try model.decode(features))
    }

    // MARK: version

    func testVersionIsTheHeaders() throws {
        let header = String(decoding: try readFile(path: repositoryRoot + "include/rwcnn.h"), as: UTF8.self)
        func macro(_ name: String) -> Int? {
            for line in header.split(separator: "\n") where line.hasPrefix("#define RWCNN_VERSION_\(name) ") {
                return Int(line.split(separator: " ").last!)
            }
            return nil
        }
        XCTAssertEqual(macro("MAJOR"), RWCNNVersion.major)
        XCTAssertEqual(macro("MINOR"), RWCNNVersion.minor)
        XCTAssertEqual(macro("PATCH"), RWCNNVersion.patch)
    }
}
