import XCTest
@testable import RWCNN

/// `PNG.encodedSizeBound` is at least what `PNG.encode` writes, also for
/// incompressible noise, every channel count and both depths, and tight
/// enough to be a useful allocation (within 20 % + 4 KiB of the raw rows).
final class PNGSizeBoundTests: XCTestCase {
    func testBoundCoversEveryEncoding() throws {
        var state: UInt32 = 99
        for (w, h) in [(1, 1), (7, 3), (64, 64), (300, 17)] {
            for channels in 1...4 {
                for depth in [8, 16] {
                    let top = UInt32(depth == 16 ? 65535 : 255)
                    let samples = (0..<(w * h * channels)).map { _ -> UInt16 in
                        state = state &* 1664525 &+ 1013904223
                        return UInt16((state >> 8) % (top + 1))
                    }
                    let image = try Image(width: w, height: h, channels: channels, bitDepth: depth, samples: samples)
                    let size = try PNG.encode(image).count
                    let bound = try PNG.encodedSizeBound(width: w, height: h, channels: channels, bitDepth: depth)
                    XCTAssertGreaterThanOrEqual(bound, size, "\(w)x\(h)x\(channels) at \(depth) bits")
                    let raw = (w * channels * depth / 8 + 1) * h
                    XCTAssertLessThanOrEqual(bound, raw + raw / 5 + 4200, "\(w)x\(h)x\(channels)")
                }
            }
        }
        XCTAssertThrowsError(try PNG.encodedSizeBound(width: Int.max / 2, height: 3, channels: 4, bitDepth: 16))
    }
}
