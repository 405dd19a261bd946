import CRWCNN
import RWCNN

// Argument checks shared by the exports: pointers, strings, sizes and
// caller buffers, each failing with a message that names the argument.
// size_t arrives as Int: values above Int.max become negative and fail the
// range checks instead of trapping.

func required<T>(_ p: T?, _ name: String) throws -> T {
    guard let p else { throw RWCNNError.argument("\(name) is NULL") }
    return p
}

func string(_ p: UnsafePointer<CChar>?, _ name: String) throws -> String {
    String(cString: try required(p, name))
}

/// An image/feature batch shape from caller sizes, checked for overflow and
/// for a sane upper bound before anything is allocated.
func batchShape(_ n: Int, _ c: Int, _ h: Int, _ w: Int, what: String) throws -> (shape: [Int], count: Int) {
    guard n >= 1, c >= 1, h >= 1, w >= 1 else {
        throw RWCNNError.argument("\(what): every size must be >= 1, got n=\(n) c=\(c) h=\(h) w=\(w)")
    }
    let count = try checkedProduct([n, c, h, w], what: what)
    guard count <= 1 << 34 else {
        throw RWCNNError.outOfMemory("\(what): \(count) values is beyond the 2^34 limit")
    }
    return ([n, c, h, w], count)
}

/// Copies `count` floats from a caller buffer into a tensor of `shape`.
func tensor(from p: UnsafePointer<Float>?, shape: [Int], count: Int, name: String) throws -> Tensor {
    let p = try required(p, name)
    return try Tensor(shape: shape, data: Array(UnsafeBufferPointer(start: p, count: count)))
}

/// Copies a tensor into a caller buffer of `capacity` floats.
func copy(_ t: Tensor, to p: UnsafeMutablePointer<Float>?, capacity: Int, name: String) throws {
    let p = try required(p, name)
    guard capacity >= t.count else {
        throw RWCNNError.bufferTooSmall("\(name) holds \(capacity) floats; \(t.count) are needed (shape \(t.shape))")
    }
    t.data.withUnsafeBufferPointer { src in p.update(from: src.baseAddress!, count: t.count) }
}

// MARK: options structs read and written as a prefix

/// The caller's `struct_size` (the first field of every options struct),
/// checked: at least the field itself, at most a sane bound.
func structSize(_ p: UnsafeRawPointer, what: String) throws -> Int {
    let size = p.load(as: Int.self)
    guard size >= MemoryLayout<Int>.size, size <= 1 << 16 else {
        throw RWCNNError.argument("\(what).struct_size is \(size); initialise the struct with its _init function")
    }
    return size
}

/// Reads a caller's struct as a prefix: a caller built against an older,
/// smaller struct passes its own `struct_size`, and the fields it lacks keep
/// the values already in `value` (the defaults); a newer, larger one is read
/// up to the fields this library knows.
func readPrefix<T>(_ p: UnsafePointer<T>, into value: inout T, what: String) throws {
    let n = min(try structSize(UnsafeRawPointer(p), what: what), MemoryLayout<T>.size)
    withUnsafeMutableBytes(of: &value) { dst in dst.copyMemory(from: UnsafeRawBufferPointer(start: p, count: n)) }
    withUnsafeMutableBytes(of: &value) { $0.storeBytes(of: MemoryLayout<T>.size, as: Int.self) }
}

/// Writes `value` into a caller's struct as far as its `struct_size` goes,
/// keeping the caller's `struct_size`.
func writePrefix<T>(_ value: T, to p: UnsafeMutablePointer<T>, what: String) throws {
    let size = try structSize(UnsafeRawPointer(p), what: what)
    let n = min(size, MemoryLayout<T>.size)
    withUnsafeBytes(of: value) { src in
        UnsafeMutableRawPointer(p).copyMemory(from: src.baseAddress!, byteCount: n)
    }
    UnsafeMutableRawPointer(p).storeBytes(of: size, as: Int.self)
}
