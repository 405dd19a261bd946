// The public Tensor keeps its shape and storage together, and its
// initialisers and `item` throw instead of trapping.
import XCTest
import RWCNN

final class TensorTests: XCTestCase {
    func testInitialisersThrowOnBadShapes() {
        XCTAssertThrowsError(try Tensor(zeros: [2, -1]))
        XCTAssertThrowsError(try Tensor(zeros: [Int.max, 2]), "overflow")
        XCTAssertThrowsError(try Tensor(zeros: [1 << 40]), "over the element limit")
        XCTAssertThrowsError(try Tensor(shape: [2, 2], data: [1, 2, 3]))
        XCTAssertEqual(try Tensor(zeros: [2, 0, 3]).count, 0)
    }

    func testItemThrowsOutsideTheBatch() throws {
        let t = try Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try t.item(1), try Tensor(shape: [3], data: [4, 5, 6]))
        XCTAssertThrowsError(try t.item(2))
        XCTAssertThrowsError(try t.item(-1))
        XCTAssertThrowsError(try Tensor(zeros: []).item(0), "rank 0")
    }

    func testShapeFollowsTheStorage() throws {
        var t = try Tensor(zeros: [2, 3])
        t.data[4] = 7
        XCTAssertEqual(t.shape, [2, 3], "element writes keep the shape")
        XCTAssertEqual(t.data[4], 7)
        t.data.append(1)
        XCTAssertEqual(t.shape, [7], "a count change leaves a 1-D tensor of that count")
        t.data = [1, 2]
        XCTAssertEqual(t.shape, [2])
        XCTAssertEqual(t.count, 2)
    }
}
