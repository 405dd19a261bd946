#if canImport(Glibc)
import Glibc
#endif

/// The memory of one planned pass at one size: the activations, switches
/// and gradients a forward or a training step makes, and the kernels'
/// scratch (im2col tiles, Winograd blocks). The first pass at a size fills
/// it; every later pass at that size takes its buffers from here and gives
/// them back when they die, so it allocates no large buffer and faults in
/// no fresh page (glibc hands large blocks back to the system on free, so
/// without it every call paid page faults on every activation).
///
/// A workspace serves one pass at a time (not thread-safe): concurrent
/// callers each take their own from the model's `PlanPool`. Kernels reach
/// it only on the calling thread; scratch for worker threads is fetched
/// before the parallel section.
final class Workspace {
    /// Arrays that died in an earlier pass, by element count. An array
    /// handed out here may still be referenced elsewhere (a caller kept a
    /// result); writing through it then copies it, so reuse is always safe.
    private var floats: [Int: [[Float]]] = [:]
    private var ints: [Int: [[Int32]]] = [:]
    /// Scratch buffers by slot (see `ScratchSlot`), grown on demand.
    private var scratch: [(pointer: UnsafeMutablePointer<Float>, count: Int)] = []
    /// Floats allocated afresh since the last `resetCounters` (0 in a pass
    /// at a size already planned: what the plan-reuse tests check).
    private(set) var freshFloats = 0

    init() {}

    deinit {
        for s in scratch { s.pointer.deallocate() }
    }

    /// An array of `count` floats, contents unspecified.
    func floatArray(_ count: Int) -> [Float] {
        if var list = floats[count], let a = list.popLast() {
            floats[count] = list
            return a
        }
        freshFloats += count
        return uninitializedFloats(count)
    }

    /// An array of `count` Int32 (switches), contents unspecified.
    func intArray(_ count: Int) -> [Int32] {
        if var list = ints[count], let a = list.popLast() {
            ints[count] = list
            return a
        }
        freshFloats += count
        return [Int32](unsafeUninitializedCapacity: count) { _, n in n = count }
    }

    /// Gives a dead tensor's storage back for the next pass.
    func recycle(_ t: Tensor) {
        let a = t.data
        if a.count > 0 { floats[a.count, default: []].append(a) }
    }

    /// Gives dead switches back.
    func recycle(_ s: [Int32]) {
        if s.count > 0 { ints[s.count, default: []].append(s) }
    }

    /// The scratch buffer of `slot`, at least `count` floats, contents
    /// unspecified. Call on the pass's own thread, never inside a parallel
    /// section (fetch every worker's slot first).
    func scratch(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        let count = max(1, count)
        while scratch.count <= slot { scratch.append((UnsafeMutablePointer<Float>.allocate(capacity: 1), 1)) }
        if scratch[slot].count < count {
            scratch[slot].pointer.deallocate()
            scratch[slot] = (UnsafeMutablePointer<Float>.allocate(capacity: count), count)
            freshFloats += count
        }
        return scratch[slot].pointer
    }

    /// Starts counting fresh allocations anew.
    func resetCounters() { freshFloats = 0 }

    /// Bytes held (stashed arrays and scratch).
    var bytes: Int {
        let f = floats.reduce(0) { $0 + $1.key * $1.value.count }
        let i = ints.reduce(0) { $0 + $1.key * $1.value.count }
        return 4 * (f + i + scratch.reduce(0) { $0 + $1.count })
    }
}

/// Scratch slots of the kernels: each kernel stage that needs scratch owns
/// one (per thread where threads need their own).
enum ScratchSlot {
    /// im2col column tile.
    static let columns = 0
    /// Winograd weights transformed within the call.
    static let winogradWeights = 1
    /// Winograd V and M blocks of thread t: `winogradBlocks + 2 t` and `+ 1`.
    static let winogradBlocks = 2
}

/// `withScratch` through a workspace when there is one.
func withScratch<R>(_ count: Int, in workspace: Workspace?, slot: Int,
                    _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
    guard let workspace else { return try withScratch(count, body) }
    return try body(workspace.scratch(slot, count: count))
}

/// A tensor of `shape`, contents unspecified, its storage from `workspace` when given.
func uninitializedTensor(_ shape: [Int], what: String, workspace: Workspace?) throws -> Tensor {
    guard let workspace else { return try uninitializedTensor(shape, what: what) }
    return try Tensor(shape: shape, data: workspace.floatArray(kernelElementCount(shape, what: what)))
}

/// A zero-filled tensor of `shape`, its storage from `workspace` when given.
func zeroTensor(_ shape: [Int], what: String, workspace: Workspace?) throws -> Tensor {
    guard let workspace else { return try zeroTensor(shape, what: what) }
    var t = try uninitializedTensor(shape, what: what, workspace: workspace)
    t.data.withUnsafeMutableBufferPointer { p in
        if let base = p.baseAddress { base.initialize(repeating: 0, count: p.count) }
    }
    return t
}

/// What a plan is for: a job at one (batch, height, width).
struct PlanKey: Hashable {
    enum Job: Hashable { case encode, reconstruct, trainStep, synthesisStep }
    let job: Job
    let batch, height, width: Int
}

/// The model's planned workspaces, by job and size. A pass takes one (a
/// fresh one when every workspace of its key is in use by another thread)
/// and gives it back; at most `perKey` are kept per key and `keys` keys in
/// all (the least recently used key goes), so memory stays bounded.
final class PlanPool {
    private var free: [PlanKey: [Workspace]] = [:]
    private var order: [PlanKey] = []
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let perKey: Int
    let keys: Int

    init(perKey: Int = 2, keys: Int = 4) {
        self.perKey = perKey
        self.keys = keys
        pthread_mutex_init(lock, nil)
    }

    deinit {
        pthread_mutex_destroy(lock)
        lock.deallocate()
    }

    /// Runs `body` with a workspace of `key`'s plan, taken for the call.
    func with<R>(_ key: PlanKey, _ body: (Workspace) throws -> R) rethrows -> R {
        let ws = take(key)
        defer { give(ws, key) }
        return try body(ws)
    }

    private func take(_ key: PlanKey) -> Workspace {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        if var list = free[key], let ws = list.popLast() {
            free[key] = list
            return ws
        }
        return Workspace()
    }

    private func give(_ ws: Workspace, _ key: PlanKey) {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        order.removeAll { $0 == key }
        order.append(key)
        if (free[key]?.count ?? 0) < perKey { free[key, default: []].append(ws) }
        while order.count > keys { free[order.removeFirst()] = nil }
    }

    /// Forgets every plan (the model's shapes or weights changed).
    func clear() {
        pthread_mutex_lock(lock)
        free = [:]
        order = []
        pthread_mutex_unlock(lock)
    }

    /// Workspaces kept for `key` (tests).
    func count(_ key: PlanKey) -> Int {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return free[key]?.count ?? 0
    }
}
