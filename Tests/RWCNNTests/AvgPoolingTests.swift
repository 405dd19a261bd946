// Average pooling: forward against a naive float64 mean over each window,
// backward against central finite differences of that reference, a
// hand-made example, thread-count independence and bad arguments.
import XCTest
@testable import RWCNN

/// Mean of each k x k window (stride s, floor mode), written from the definition.
private func naiveAvgPool(_ x: [Double], _ xs: [Int], kernel k: Int, stride s: Int) -> (values: [Double], shape: [Int]) {
    let (n, c, h, w) = (xs[0], xs[1], xs[2], xs[3])
    let ho = (h - k) / s + 1, wo = (w - k) / s + 1
    var y: [Double] = []
    for plane in 0..<(n * c) { for oh in 0..<ho { for ow in 0..<wo {
        var sum = 0.0
        for i in 0..<k { for j in 0..<k { sum += x[plane * h * w + (oh * s + i) * w + ow * s + j] } }
        y.append(sum / Double(k * k))
    } } }
    return (y, [n, c, ho, wo])
}

final class AvgPoolingTests: XCTestCase {
    private let cases: [(kernel: Int, stride: Int)] = [(2, 2), (3, 2), (3, 1), (1, 1), (2, 1), (3, 3), (2, 3), (4, 2)]

    func testForwardMatchesNaiveReference() throws {
        var rng = KernelTestRNG(seed: 21)
        for (k, s) in cases {
            // Random odd and even sizes, including a plane exactly one window large.
            for extra in [0, rng.int(1...11)] {
                let shape = [rng.int(1...3), rng.int(1...4), k + extra, k + rng.int(0...9)]
                let x = rng.tensor(shape)
                let y = try avgPoolForward(input: x, kernel: k, stride: s)
                let ref = naiveAvgPool(Check.doubles(x), shape, kernel: k, stride: s)
                XCTAssertEqual(y.shape, ref.shape, "k\(k) s\(s) \(shape)")
                // Float sums of at most 16 terms of size 1: a few ulps.
                for (a, b) in zip(Check.doubles(y), ref.values) {
                    XCTAssertEqual(a, b, accuracy: 1e-6, "k\(k) s\(s) \(shape)")
                }
            }
        }
    }

    func testHandMadeExample() throws {
        // Floor mode: the last row and column of a 5x5 plane are unused by 2x2/2.
        let x = try Tensor(shape: [1, 1, 5, 5], data: (0..<25).map(Float.init))
        let y = try avgPoolForward(input: x, kernel: 2, stride: 2)
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        XCTAssertEqual(y.data, [3, 5, 13, 15])
        let g = try avgPoolBackward(gradOutput: Tensor(shape: [1, 1, 2, 2], data: [4, 8, 12, 16]),
                                    kernel: 2, stride: 2, inputShape: [1, 1, 5, 5])
        XCTAssertEqual(g.data, [1, 1, 2, 2, 0,
                                1, 1, 2, 2, 0,
                                3, 3, 4, 4, 0,
                                3, 3, 4, 4, 0,
                                0, 0, 0, 0, 0])
        // Overlapping windows (3x3 stride 1 on 4x4) add at shared inputs.
        let ones = try avgPoolBackward(gradOutput: Tensor(shape: [1, 1, 2, 2], data: [9, 9, 9, 9]),
                                       kernel: 3, stride: 1, inputShape: [1, 1, 4, 4])
        XCTAssertEqual(ones.data, [1, 2, 2, 1,
                                   2, 4, 4, 2,
                                   2, 4, 4, 2,
                                   1, 2, 2, 1])
    }

    func testBackwardMatchesFiniteDifferences() throws {
        var rng = KernelTestRNG(seed: 22)
        for (k, s) in cases {
            let shape = [rng.int(1...2), rng.int(1...3), k + rng.int(0...6), k + rng.int(0...6)]
            let x = rng.tensor(shape)
            let y = try avgPoolForward(input: x, kernel: k, stride: s)
            let gy = rng.tensor(y.shape)
            let g = try avgPoolBackward(gradOutput: gy, kernel: k, stride: s, inputShape: shape)
            XCTAssertEqual(g.shape, shape)
            let fd = Check.finiteDifferences(Check.doubles(x), eps: 1e-3) { xd in
                Check.dot(Check.doubles(gy), naiveAvgPool(xd, shape, kernel: k, stride: s).values)
            }
            // The reference is linear, so central differences are exact up to
            // float64 rounding; the float32 kernel adds a few ulps.
            XCTAssertLessThan(relativeError(Check.doubles(g), fd), 1e-6, "k\(k) s\(s) \(shape)")
        }
    }

    func testResultsDoNotDependOnThreadCount() throws {
        var rng = KernelTestRNG(seed: 23)
        let saved = Threads.count
        defer { Threads.set(saved) }
        let x = rng.tensor([2, 8, 131, 67])
        func run() throws -> (Tensor, Tensor) {
            let y = try avgPoolForward(input: x, kernel: 3, stride: 2)
            return (y, try avgPoolBackward(gradOutput: y, kernel: 3, stride: 2, inputShape: x.shape))
        }
        Threads.set(1)
        let one = try run()
        Threads.set(3)
        let three = try run()
        XCTAssertEqual(one.0, three.0)
        XCTAssertEqual(one.1, three.1)
    }

    func testBadArgumentsThrowArgumentErrors() {
        let x = Tensor(checkedZeros: [2, 3, 5, 5])
        let cases: [(String, () throws -> Any)] = [
            ("rank 3", { try avgPoolForward(input: Tensor(zeros: [3, 5, 5]), kernel: 2, stride: 2) }),
            ("empty dimension", { try avgPoolForward(input: Tensor(zeros: [0, 3, 5, 5]), kernel: 2, stride: 2) }),
            ("kernel 0", { try avgPoolForward(input: x, kernel: 0, stride: 2) }),
            ("negative kernel", { try avgPoolForward(input: x, kernel: -2, stride: 2) }),
            ("stride 0", { try avgPoolForward(input: x, kernel: 2, stride: 0) }),
            ("huge stride", { try avgPoolForward(input: x, kernel: 2, stride: Int.max) }),
            ("kernel larger than input", { try avgPoolForward(input: x, kernel: 6, stride: 1) }),
            ("kernel wider than input", { try avgPoolForward(input: Tensor(zeros: [1, 1, 9, 2]), kernel: 3, stride: 1) }),
            ("backward gradOutput shape", { try avgPoolBackward(gradOutput: Tensor(zeros: [2, 3, 3, 3]), kernel: 2, stride: 2, inputShape: [2, 3, 5, 5]) }),
            ("backward channel mismatch", { try avgPoolBackward(gradOutput: Tensor(zeros: [2, 2, 2, 2]), kernel: 2, stride: 2, inputShape: [2, 3, 5, 5]) }),
            ("backward inputShape rank", { try avgPoolBackward(gradOutput: Tensor(zeros: [2, 3, 2, 2]), kernel: 2, stride: 2, inputShape: [3, 5, 5]) }),
            ("backward kernel larger than input", { try avgPoolBackward(gradOutput: Tensor(zeros: [1, 1, 1, 1]), kernel: 6, stride: 1, inputShape: [1, 1, 5, 5]) }),
            ("backward stride 0", { try avgPoolBackward(gradOutput: Tensor(zeros: [1, 1, 1, 1]), kernel: 2, stride: 0, inputShape: [1, 1, 5, 5]) }),
            ("backward negative inputShape", { try avgPoolBackward(gradOutput: Tensor(zeros: [1, 1, 1, 1]), kernel: 1, stride: 1, inputShape: [1, 1, -1, 1]) }),
        ]
        for (label, body) in cases { Check.argumentError(label, body) }
    }
}
