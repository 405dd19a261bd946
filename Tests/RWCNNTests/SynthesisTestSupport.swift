// Helpers shared by the average-pooling and synthesis tests: float64 copies,
// central finite differences and an argument-error check. Kept in an enum so
// the names cannot clash with the private helpers of other test files.
import XCTest
@testable import RWCNN

enum Check {
    static func doubles(_ t: Tensor) -> [Double] { t.data.map(Double.init) }
    static func doubles(_ a: [Float]) -> [Double] { a.map(Double.init) }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// Central differences of `loss` at `x`, element by element, in float64.
    static func finiteDifferences(_ x: [Double], eps: Double = 1e-5, _ loss: ([Double]) -> Double) -> [Double] {
        var x = x
        var g = [Double](repeating: 0, count: x.count)
        for i in x.indices {
            let v = x[i]
            x[i] = v + eps; let up = loss(x)
            x[i] = v - eps; let down = loss(x)
            x[i] = v
            g[i] = (up - down) / (2 * eps)
        }
        return g
    }

    /// Fails unless `body` throws `RWCNNError.argument`.
    static func argumentError(_ label: String, _ body: () throws -> Any,
                              file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try body()
            XCTFail("\(label): no error thrown", file: file, line: line)
        } catch let e as RWCNNError {
            if case .argument = e { return }
            XCTFail("\(label): \(e) is not .argument", file: file, line: line)
        } catch {
            XCTFail("\(label): unexpected error \(error)", file: file, line: line)
        }
    }
}
