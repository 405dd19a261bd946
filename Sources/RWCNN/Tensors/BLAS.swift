#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// C = alpha * op(A) * op(B) + beta * C, row-major, float32, through CBLAS
/// (OpenBLAS on Linux, Accelerate on Apple). op(A) is M x K, op(B) is K x N.
/// lda/ldb/ldc are the row strides of A, B, C as stored.
///
/// The engine owns the cores: BLAS runs single-threaded, and a product with
/// enough work is split here into `context.threads` blocks of C's columns
/// (or rows, when C is taller than wide), one BLAS call per thread. Every
/// element of C is still one dot product over K in BLAS's own order, so the
/// result does not depend on the thread count.
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                  alpha: Float, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                  context: ExecutionContext = .current) {
    if m == 0 || n == 0 { return }
    BLASThreads.ensureSingle()
    let work = Double(m) * Double(n) * Double(max(k, 1))
    let parts = min(context.threads, Int(work / Double(max(1, context.tuning.parallelGemmMinWork))))
    if parts <= 1 {
        sgemmOnce(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                  b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        return
    }
    // Blocks of 16 columns (or rows) keep the BLAS kernels on full panels.
    let byColumns = n >= m
    let extent = byColumns ? n : m
    let units = (extent + 15) / 16
    let blocks = min(parts, units)
    parallelFor(blocks, threads: blocks) { range in
        for p in range {
            let lo = min(extent, units * p / blocks * 16), hi = min(extent, units * (p + 1) / blocks * 16)
            if lo >= hi { continue }
            if byColumns {
                // Columns lo..<hi of op(B) and of C.
                sgemmOnce(transA: transA, transB: transB, m: m, n: hi - lo, k: k, alpha: alpha, a: a, lda: lda,
                          b: transB ? b + lo * ldb : b + lo, ldb: ldb, beta: beta, c: c + lo, ldc: ldc)
            } else {
                // Rows lo..<hi of op(A) and of C.
                sgemmOnce(transA: transA, transB: transB, m: hi - lo, n: n, k: k, alpha: alpha,
                          a: transA ? a + lo : a + lo * lda, lda: lda,
                          b: b, ldb: ldb, beta: beta, c: c + lo * ldc, ldc: ldc)
            }
        }
    }
}

/// One BLAS call on the calling thread.
@inline(__always)
func sgemmOnce(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
               alpha: Float, a: UnsafePointer<Float>, lda: Int,
               b: UnsafePointer<Float>, ldb: Int,
               beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    cblas_sgemm(CblasRowMajor,
                transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}

/// Keeps OpenBLAS's own thread pool at one thread: the engine owns the
/// cores. With BLAS threads of its own, OpenBLAS's idle workers spin
/// (sched_yield) while the engine's loops run; measured on the paper's
/// workload, that mix cost 25-75 % more CPU time, a third of it system time,
/// and 15-50x the context switches (docs/ENGINE.md, "Threads").
enum BLASThreads {
    private static let once: Void = { BLASKernels.correctFallback(); setPool() }()

    /// Called before every BLAS call (a no-op after the first).
    @inline(__always)
    static func ensureSingle() { _ = once }

    /// Sets OpenBLAS's pool to one thread (also after a caller changed it).
    static func setPool() {
        #if canImport(CBLAS)
        openblas_set_num_threads(1)
        #endif
    }
}
