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
        throw RWCNNError.argument("\(name) holds \(capacity) floats; \(t.count) are needed (shape \(t.shape))")
    }
    t.data.withUnsafeBufferPointer { src in p.update(from: src.baseAddress!, count: t.count) }
}
