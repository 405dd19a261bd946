#if canImport(Glibc)
import Glibc
#endif

/// Winograd weights of a model's fixed filters (the encoder's, and the tied
/// decoder's flipped copies), transformed once and reused by every call.
/// Reading calls may run concurrently, so the cache is guarded by a mutex;
/// a model's weights change only under exclusive use, which clears it.
final class TransformCache {
    /// Which filters: an encoder layer's, used as a conv or flipped as the
    /// tied decoder's transposed conv.
    struct Key: Hashable {
        let layer: Int
        let transposed: Bool
    }

    private var entries: [Key: [Float]] = [:]
    private var floats = 0
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(lock, nil) }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// The transformed weights for `key`, computed on first use from
    /// `weight`, or nil when they would take the cache over `limit` floats.
    func weights(_ key: Key, shape: WinogradShape, weight: any WeightValues, limit: Int, threads: Int) -> [Float]? {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if let u = entries[key] { return u }
        let count = winogradTransformedCount(shape)
        guard floats + count <= limit else { return nil }
        var u = uninitializedFloats(count)
        u.withUnsafeMutableBufferPointer { ub in
            weight.withValues { wb in
                let filters: WinogradFilters = key.transposed ? .transposed(wb.baseAddress!) : .conv(wb.baseAddress!)
                winogradTransformedWeights(shape, filters: filters, into: ub.baseAddress!, threads: threads)
            }
        }
        entries[key] = u
        floats += count
        return u
    }

    /// What the cache holds now (for memory estimates).
    var state: TransformCacheState {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return TransformCacheState(keys: Set(entries.keys), floats: floats)
    }

    /// Forgets every entry (the weights changed).
    func clear() {
        pthread_mutex_lock(lock)
        entries = [:]
        floats = 0
        pthread_mutex_unlock(lock)
    }
}
