import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// ThreadSanitizer's annotation entry points when its runtime is in the
/// process (a `-sanitize=thread` build, `scripts/test --sanitize`); nil
/// otherwise, which costs `parallelFor` one load per call.
///
/// Why: librwcnn.so links libdispatch statically, and that copy is neither
/// instrumented nor intercepted by TSan. The hand-over of `parallelFor`'s
/// chunks to the pool and the join at the end of
/// `DispatchQueue.concurrentPerform` are invisible to it, so every value a
/// chunk writes and the caller reads afterwards would be reported as a
/// race. `parallelFor` states those two edges itself (fork: caller before
/// every chunk; join: every chunk before the caller), and nothing else: two
/// chunks of one call get no edge, so a race between them stays visible.
@usableFromInline
struct ThreadSanitizerHooks {
    @usableFromInline typealias Annotation = @convention(c) (UnsafeMutableRawPointer?) -> Void
    @usableFromInline let acquire: Annotation
    @usableFromInline let release: Annotation

    @usableFromInline static let loaded: ThreadSanitizerHooks? = {
        #if canImport(Glibc)
        // RTLD_DEFAULT: the global scope, where an LD_PRELOADed or linked runtime is.
        guard let a = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_acquire"),
              let r = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_release") else { return nil }
        return ThreadSanitizerHooks(acquire: unsafeBitCast(a, to: Annotation.self),
                                    release: unsafeBitCast(r, to: Annotation.self))
        #else
        return nil
        #endif
    }()

    /// `concurrentPerform(iterations:)` with the fork and join edges declared.
    @usableFromInline
    func concurrentPerform(iterations: Int, _ work: (Int) -> Void) {
        // Two fresh addresses per call: TSan forgets their clocks when they are freed.
        let sync = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
        defer { sync.deallocate() }
        let fork = UnsafeMutableRawPointer(sync), join = UnsafeMutableRawPointer(sync + 1)
        release(fork)
        DispatchQueue.concurrentPerform(iterations: iterations) { c in
            acquire(fork)
            work(c)
            release(join)
        }
        acquire(join)
    }
}
