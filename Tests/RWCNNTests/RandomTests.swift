import XCTest
import RWCNN

/// Golden values from scripts/golden_random.py (an independent pure-Python
/// Philox4x32-10 and mapping): seed 42, stream streamID("encoder.conv1_1.weight"),
/// mean 0, std 1, values 0..<8, rounded to float32.
private let randomGoldenValues: [Distribution: [Float]] = [
    .normal: [2.0149343, -0.862148166, -0.866450071, -0.261516631, 0.530737758, -0.776305079, -1.10287046, 0.339828461],
    .uniform: [-1.300488, 0.379419237, 0.202862829, 1.51440859, -0.496316999, -1.72838318, -1.09823442, -0.0379388817],
    .laplace: [-0.982629716, 0.174835086, 0.0880837813, 1.4666872, -0.238748357, -4.35403109, -0.710855961, -0.0156606324],
    .logistic: [-1.07494926, 0.24552463, 0.129741937, 1.48994863, -0.325065941, -3.77639222, -0.824993968, -0.0241565052],
]

final class RandomTests: XCTestCase {
    func testPhiloxKnownAnswerVectors() throws {
        let text = try String(contentsOfFile: testsFolder + "Data/philox4x32_10_kat.txt", encoding: .utf8)
        var rows = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.allSatisfy(\.isWhitespace) {
            let w = line.split(whereSeparator: \.isWhitespace).compactMap { UInt32($0, radix: 16) }
            XCTAssertEqual(w.count, 10, "bad KAT row: \(line)")
            guard w.count == 10 else { continue }
            let out = Philox4x32.block(counter: SIMD4(w[0], w[1], w[2], w[3]), key: SIMD2(w[4], w[5]))
            XCTAssertEqual(out, SIMD4(w[6], w[7], w[8], w[9]), "KAT row: \(line)")
            rows += 1
        }
        XCTAssertGreaterThanOrEqual(rows, 3)
    }

    func testStreamIDIsFNV1a64() {
        // Published FNV-1a 64-bit test vectors.
        XCTAssertEqual(streamID(forName: ""), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(streamID(forName: "a"), 0xAF63_DC4C_8601_EC8C)
        XCTAssertEqual(streamID(forName: "foobar"), 0x8594_4171_F739_67E8)
        XCTAssertEqual(streamID(forName: "encoder.conv1_1.weight"), 0x387A_AF7E_90E8_3F62)  // golden_random.py
    }

    func testGoldenValuesOfEveryDistribution() {
        let stream = streamID(forName: "encoder.conv1_1.weight")
        for d in Distribution.allCases {
            let got = drawValues(count: 8, distribution: d, mean: 0, std: 1, seed: 42, stream: stream)
            guard let want = randomGoldenValues[d] else { return XCTFail("no golden values for \(d)") }
            XCTAssertEqual(got.count, 8)
            for (g, w) in zip(got, want) {
                XCTAssertLessThanOrEqual(abs(g - w), 1e-6 * abs(w), "\(d): \(got) vs \(want)")
            }
        }
    }

    func testSameArgumentsSameValuesOthersDiffer() {
        for d in Distribution.allCases {
            let a = drawValues(count: 1000, distribution: d, mean: 0.1, std: 2, seed: 7, stream: 99)
            XCTAssertEqual(a, drawValues(count: 1000, distribution: d, mean: 0.1, std: 2, seed: 7, stream: 99))
            XCTAssertNotEqual(a, drawValues(count: 1000, distribution: d, mean: 0.1, std: 2, seed: 8, stream: 99))
            XCTAssertNotEqual(a, drawValues(count: 1000, distribution: d, mean: 0.1, std: 2, seed: 7, stream: 100))
            // Seeds and streams above 32 bits matter too.
            XCTAssertNotEqual(a, drawValues(count: 1000, distribution: d, mean: 0.1, std: 2, seed: 7 | 1 << 40, stream: 99))
            XCTAssertNotEqual(a, drawValues(count: 1000, distribution: d, mean: 0.1, std: 2, seed: 7, stream: 99 | 1 << 40))
            // `offset` shifts the index: value i + offset of the stream.
            let shifted = drawValues(count: 990, distribution: d, mean: 0.1, std: 2, seed: 7, stream: 99, offset: 10)
            XCTAssertEqual(shifted, Array(a[10...]))
        }
        XCTAssertEqual(drawValues(count: 0, distribution: .normal, mean: 0, std: 1, seed: 1, stream: 1), [])
        XCTAssertEqual(drawValues(count: -5, distribution: .normal, mean: 0, std: 1, seed: 1, stream: 1), [])
    }

    func testValuesDoNotDependOnThreadCount() {
        let saved = Threads.count
        defer { Threads.set(saved) }
        for d in Distribution.allCases {
            Threads.set(1)
            let one = drawValues(count: 100_003, distribution: d, mean: 0, std: 1, seed: 5, stream: 6)
            Threads.set(2)
            let two = drawValues(count: 100_003, distribution: d, mean: 0, std: 1, seed: 5, stream: 6)
            XCTAssertEqual(one, two, "\(d)")
        }
    }

    func testSampleMeanAndVariance() {
        for (mean, std) in [(0.0, 1.0), (0.3, 0.05)] {
            for d in Distribution.allCases {
                let x = drawValues(count: 200_000, distribution: d, mean: mean, std: std, seed: 2024,
                                   stream: streamID(forName: "moments.\(d)"))
                let m = x.reduce(0.0) { $0 + Double($1) } / Double(x.count)
                let v = x.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(x.count - 1)
                XCTAssertEqual(m, mean, accuracy: 0.01, "\(d) mean, std \(std)")
                XCTAssertEqual(v, std * std, accuracy: 0.02 * std * std, "\(d) variance, std \(std)")
            }
        }
        // Uniform draws stay inside mean +- sqrt(3) std.
        let u = drawValues(count: 10_000, distribution: .uniform, mean: 1, std: 1, seed: 1, stream: 2)
        XCTAssertTrue(u.allSatisfy { abs(Double($0) - 1) <= 3.0.squareRoot() })
    }

    func testRandomStreamReadsBlocksWordByWord() {
        var s = RandomStream(seed: 42, stream: 9)
        var words: [UInt32] = []
        for _ in 0..<12 { words.append(s.nextUInt32()) }
        var expected: [UInt32] = []
        for b in 0..<3 as Range<UInt32> {
            let block = Philox4x32.block(counter: SIMD4(b, 0, 9, 0), key: SIMD2(42, 0))
            expected += [block[0], block[1], block[2], block[3]]
        }
        XCTAssertEqual(words, expected)
        XCTAssertEqual(s.position, 3)

        // Seed and stream high halves go to key word 1 and counter word 3.
        var high = RandomStream(seed: 1 << 32 | 5, stream: 2 << 32 | 7)
        high.position = 1 << 32 | 3
        XCTAssertEqual(high.nextUInt32(), Philox4x32.block(counter: SIMD4(3, 1, 7, 2), key: SIMD2(5, 1))[0])

        // Uniforms are (w + 0.5) / 2^32.
        var a = RandomStream(seed: 1, stream: 2), b = RandomStream(seed: 1, stream: 2)
        for _ in 0..<10 {
            let u = a.nextUniform()
            XCTAssertEqual(u, (Double(b.nextUInt32()) + 0.5) / 4_294_967_296.0)
            XCTAssertTrue(u > 0 && u < 1)
        }
    }

    func testRandomStreamPositionResumes() {
        var first = RandomStream(seed: 3, stream: 4)
        for _ in 0..<20 { _ = first.nextUInt32() }  // five whole blocks
        XCTAssertEqual(first.position, 5)
        var resumed = RandomStream(seed: 3, stream: 4)
        resumed.position = first.position
        for _ in 0..<37 { XCTAssertEqual(first.nextUInt32(), resumed.nextUInt32()) }
        // Setting the position mid-block restarts at word 0 of that block.
        var s = RandomStream(seed: 3, stream: 4)
        let w0 = s.nextUInt32()
        _ = s.nextUInt32()
        s.position = 0
        XCTAssertEqual(s.nextUInt32(), w0)
    }

    func testNextIntRangeAndUniformity() {
        var s = RandomStream(seed: 11, stream: 12)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 {
            let k = s.nextInt(below: 7)
            XCTAssertTrue((0..<7).contains(k))
            if (0..<7).contains(k) { counts[k] += 1 }
        }
        for c in counts { XCTAssertEqual(Double(c), 10_000, accuracy: 500, "\(counts)") }
        XCTAssertEqual(s.nextInt(below: 1), 0)
        // First draw below 10 is the first word mod 10 (2^32 - 6 is the rejection limit).
        var t = RandomStream(seed: 11, stream: 12), ref = RandomStream(seed: 11, stream: 12)
        let w = ref.nextUInt32()
        if w < 4_294_967_290 { XCTAssertEqual(t.nextInt(below: 10), Int(w % 10)) }
        // Bounds above 2^32 use two words and still stay in range, reaching the upper half.
        let big = 3 << 40
        var sawUpper = false
        for _ in 0..<1000 {
            let k = s.nextInt(below: big)
            XCTAssertTrue((0..<big).contains(k))
            if k >= big / 2 { sawUpper = true }
        }
        XCTAssertTrue(sawUpper)
        for _ in 0..<100 { XCTAssertTrue((0..<Int.max).contains(s.nextInt(below: Int.max))) }
    }

    func testScaleRules() {
        XCTAssertEqual(ScaleRule.he.std(fanIn: 8, fanOut: 100), 0.5, accuracy: 1e-15)
        XCTAssertEqual(ScaleRule.he.std(fanIn: 3 * 3 * 64, fanOut: 1), (2.0 / 576).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(ScaleRule.glorot.std(fanIn: 6, fanOut: 2), 0.5, accuracy: 1e-15)
        XCTAssertEqual(ScaleRule.glorot.std(fanIn: 27, fanOut: 576), (2.0 / 603).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(ScaleRule.fixed(std: 0.05).std(fanIn: 1, fanOut: 1), 0.05)
        XCTAssertEqual(WeightInit(), WeightInit(distribution: .normal, scale: .he, mean: 0))
        XCTAssertEqual(Distribution.allCases.map(\.rawValue), ["normal", "uniform", "laplace", "logistic"])
    }

    func testDrawTensorUsesTheRuleAndStream() throws {
        let stream = streamID(forName: "encoder.conv1_2.weight")
        let t = try drawTensor(shape: [4, 3, 3, 3], init: WeightInit(distribution: .laplace, scale: .he, mean: 0.01),
                               fanIn: 27, fanOut: 36, seed: 9, stream: stream)
        XCTAssertEqual(t.shape, [4, 3, 3, 3])
        XCTAssertEqual(t.data, drawValues(count: 108, distribution: .laplace, mean: 0.01, std: (2.0 / 27).squareRoot(),
                                          seed: 9, stream: stream))
        let g = try drawTensor(shape: [5], init: WeightInit(scale: .glorot), fanIn: 6, fanOut: 2, seed: 1, stream: 2)
        XCTAssertEqual(g.data, drawValues(count: 5, distribution: .normal, mean: 0, std: 0.5, seed: 1, stream: 2))
        // Fixed std ignores the fans; empty and 0-d shapes work.
        XCTAssertEqual(try drawTensor(shape: [0, 3], init: WeightInit(scale: .fixed(std: 1)), fanIn: 0, fanOut: 0, seed: 1, stream: 1).count, 0)
        XCTAssertEqual(try drawTensor(shape: [], init: WeightInit(scale: .fixed(std: 0)), fanIn: 0, fanOut: 0, seed: 1, stream: 1).data, [0])
    }

    func testDrawTensorRejectsBadArguments() {
        func expect(_ shape: [Int], _ rule: ScaleRule, fanIn: Int, fanOut: Int = 1, mean: Double = 0,
                    _ kind: (RWCNNError) -> Bool, line: UInt = #line) {
            XCTAssertThrowsError(try drawTensor(shape: shape, init: WeightInit(scale: rule, mean: mean),
                                                fanIn: fanIn, fanOut: fanOut, seed: 0, stream: 0), line: line) { e in
                guard let e = e as? RWCNNError else { return XCTFail("not an RWCNNError: \(e)", line: line) }
                XCTAssertTrue(kind(e), "unexpected \(e)", line: line)
            }
        }
        let isArgument: (RWCNNError) -> Bool = { if case .argument = $0 { return true } else { return false } }
        let isOOM: (RWCNNError) -> Bool = { if case .outOfMemory = $0 { return true } else { return false } }
        expect([2], .he, fanIn: 0, isArgument)
        expect([2], .he, fanIn: -3, isArgument)
        expect([2], .glorot, fanIn: 0, fanOut: 5, isArgument)
        expect([2], .glorot, fanIn: 2, fanOut: -5, isArgument)
        expect([2], .fixed(std: -1), fanIn: 1, isArgument)
        expect([2], .fixed(std: .nan), fanIn: 1, isArgument)
        expect([2], .fixed(std: .infinity), fanIn: 1, isArgument)
        expect([2], .fixed(std: 1), fanIn: 1, mean: .nan, isArgument)
        expect([2, -1], .he, fanIn: 1, isArgument)
        expect([1 << 40, 1 << 30], .he, fanIn: 1, isOOM)
        expect([1 << 50], .he, fanIn: 1, isOOM)
    }
}
