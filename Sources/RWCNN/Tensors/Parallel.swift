import Dispatch
#if canImport(CBLAS)
import CBLAS
#endif

/// How many threads the engine may use, BLAS included. The default is the
/// number of online processors. Kernels split work with `parallelFor`, which
/// never runs more than `Threads.count` chunks at once; BLAS calls are made
/// from one thread at a time with BLAS's own pool set to the same count, so
/// the two never oversubscribe the cores.
public enum Threads {
    nonisolated(unsafe) private static var current = max(1, ProcessInfoLite.processorCount)

    public static var count: Int { current }

    /// Sets the thread budget (values below 1 mean 1).
    public static func set(_ n: Int) {
        current = max(1, min(n, 256))
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(current))
        #endif
    }
}

/// Runs `body(range)` over `0..<n` split into at most `Threads.count`
/// contiguous chunks, in parallel. Chunks are disjoint, so results written by
/// index are the same for every thread count.
@inlinable
public func parallelFor(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    if n <= 0 { return }
    let chunks = min(Threads.count, max(1, n / max(1, minChunk)))
    if chunks <= 1 { body(0..<n); return }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }
}

/// Processor count without Foundation.
@usableFromInline
enum ProcessInfoLite {
    static var processorCount: Int {
        #if canImport(Glibc)
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
        return 1
        #endif
    }
}
#if canImport(Glibc)
import Glibc
#endif
