import XCTest
@testable import RWCNN

final class BLASKernelsTests: XCTestCase {
    func testTargetFromCPUFlags() {
        XCTAssertEqual(BLASKernels.betterTarget(flags: ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"]), "SkylakeX")
        XCTAssertEqual(BLASKernels.betterTarget(flags: ["avx512f", "avx2", "fma"]), "Haswell")
        XCTAssertEqual(BLASKernels.betterTarget(flags: ["avx2", "fma"]), "Haswell")
        XCTAssertNil(BLASKernels.betterTarget(flags: ["sse3", "avx"]))
    }

    /// On a CPU with AVX2 or AVX-512, rwcnn's first BLAS call leaves OpenBLAS
    /// on something better than its generic Prescott fallback (unless the
    /// user chose the kernels with OPENBLAS_CORETYPE).
    func testNoPrescottFallbackAfterFirstCall() throws {
        guard let name = BLASKernels.coreName else { throw XCTSkip("not OpenBLAS") }
        guard getenv("OPENBLAS_CORETYPE") == nil else { throw XCTSkip("OPENBLAS_CORETYPE is set") }
        guard BLASKernels.betterTarget(flags: BLASKernels.cpuFlags()) != nil else { throw XCTSkip("no AVX2 or AVX-512") }
        var c: Float = 0
        var one: Float = 1
        sgemm(transA: false, transB: false, m: 1, n: 1, k: 1, alpha: 1, a: &one, lda: 1, b: &one, ldb: 1,
              beta: 0, c: &c, ldc: 1)
        XCTAssertEqual(c, 1)
        XCTAssertNotEqual(BLASKernels.coreName?.lowercased(), "prescott", "was \(name) before the first call")
    }
}
