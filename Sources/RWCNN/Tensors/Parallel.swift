import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The process-wide thread budget: how many threads the engine may use. The
/// default is the number of online processors. Every `ExecutionContext`
/// starts from it. The engine is the only owner of the cores: `parallelFor`
/// never runs more than the budget's chunks at once, and BLAS runs
/// single-threaded inside them (see `sgemm`).
public enum Threads {
    /// The most threads a budget may name.
    public static let limit = 256

    nonisolated(unsafe) private static var current = max(1, ProcessInfoLite.processorCount)

    public static var count: Int { current }

    /// Sets the thread budget (values below 1 mean 1).
    public static func set(_ n: Int) {
        current = max(1, min(n, limit))
        BLASThreads.setPool()
    }
}

/// Runs `body(range)` over `0..<n` split into at most `threads` contiguous
/// chunks, in parallel. Chunks are disjoint, so results written by index
/// are the same for every thread count.
@inlinable
public func parallelFor(_ n: Int, threads: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    if n <= 0 { return }
    let chunks = min(threads, max(1, n / max(1, minChunk)))
    if chunks <= 1 { body(0..<n); return }
    withoutActuallyEscaping(body) { body in
        let chunk = { (c: Int) in
            let lo = n * c / chunks, hi = n * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
        if let tsan = ThreadSanitizerHooks.loaded {
            tsan.concurrentPerform(iterations: chunks, chunk)
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: chunk)
        }
    }
}

/// `parallelFor` with the process-wide budget `Threads.count`.
@inlinable
public func parallelFor(_ n: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    parallelFor(n, threads: Threads.count, minChunk: minChunk, body)
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
