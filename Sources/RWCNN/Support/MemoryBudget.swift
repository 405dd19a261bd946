#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process-wide memory budget: the most bytes one large allocation (a
/// file read, a resize target, a training batch, a model's weights, an
/// encoder pass) may take. Anything above it is `RWCNNError.outOfMemory`
/// with a message, checked before the allocation, so an absurd size never
/// reaches the allocator (which would abort the process).
///
/// Default: half of the machine's physical memory. Set it before other
/// calls run (like the thread count); reads are not synchronised.
public enum MemoryBudget {
    /// Half of physical memory (16 GiB where it cannot be read).
    public static let defaultLimit: Int = {
        #if canImport(Glibc)
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0, pageSize > 0 {
            let (p, o) = pages.multipliedReportingOverflow(by: pageSize)
            if !o { return p / 2 }
        }
        #endif
        return 16 << 30
    }()

    /// The smallest limit accepted (1 MiB): below it nothing useful runs.
    public static let minimumLimit = 1 << 20

    nonisolated(unsafe) private static var current = defaultLimit

    /// The limit in bytes.
    public static var limit: Int { current }

    /// Sets the limit; `nil` restores `defaultLimit`. Throws `.argument`
    /// below `minimumLimit`.
    public static func setLimit(_ bytes: Int?) throws {
        guard let bytes else { current = defaultLimit; return }
        guard bytes >= minimumLimit else {
            throw RWCNNError.argument("memory limit must be at least \(minimumLimit) bytes (1 MiB), got \(bytes)")
        }
        current = bytes
    }

    /// Throws `.outOfMemory` when `count` elements of `size` bytes (checked
    /// for overflow) exceed the limit. `what` names the allocation.
    public static func check(count: Int, size: Int = 1, what: @autoclosure () -> String) throws {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard count >= 0, !overflow, bytes <= current else {
            let need = overflow || count < 0 ? "more than \(Int.max)" : "\(bytes)"
            throw RWCNNError.outOfMemory("\(what()) needs \(need) bytes, over the memory limit of \(current) bytes (\(describe(current))); see rwcnn_set_memory_limit")
        }
    }

    /// Bytes as a short human figure ("1.5 GiB").
    static func describe(_ bytes: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(bytes), u = 0
        while v >= 1024, u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(bytes) bytes" : "\((v * 10).rounded() / 10) \(units[u])"
    }
}
