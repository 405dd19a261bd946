// Argument checks and allocation shared by the kernels. Every public kernel
// validates its inputs here first, so the hot loops can run on raw pointers
// without bounds checks.

/// The most elements a kernel allocates for one tensor or scratch buffer
/// (2^36 floats = 256 GiB). Larger requests fail with `.outOfMemory` instead
/// of trapping inside the allocator.
let kernelElementLimit = 1 << 36

/// Strides and paddings above this are caller mistakes; the bound also keeps
/// all shape arithmetic far from overflow.
let kernelParameterLimit = 1 << 24

/// Number of elements of `shape`, checked for overflow and for the kernel
/// allocation limit.
func kernelElementCount(_ shape: [Int], what: String) throws -> Int {
    let n = try checkedProduct(shape, what: what)
    guard n <= kernelElementLimit else {
        throw RWCNNError.outOfMemory("\(what): \(shape) has \(n) elements, more than the limit of \(kernelElementLimit)")
    }
    return n
}

/// A float array of `count` elements whose contents are unspecified; for
/// buffers that the caller overwrites completely before reading.
func uninitializedFloats(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// A tensor of `shape` whose contents are unspecified (see `uninitializedFloats`).
func uninitializedTensor(_ shape: [Int], what: String) throws -> Tensor {
    try Tensor(shape: shape, data: uninitializedFloats(kernelElementCount(shape, what: what)))
}

/// A zero-filled tensor of `shape`, its size checked first.
func zeroTensor(_ shape: [Int], what: String) throws -> Tensor {
    try Tensor(shape: shape, data: [Float](repeating: 0, count: kernelElementCount(shape, what: what)))
}

/// The four dimensions of an NCHW tensor, all at least 1.
func requireNCHW(_ shape: [Int], _ name: String, op: String) throws -> (n: Int, c: Int, h: Int, w: Int) {
    guard shape.count == 4 else {
        throw RWCNNError.argument("\(op): \(name) must have rank 4 [N,C,H,W], got shape \(shape)")
    }
    guard shape.allSatisfy({ $0 >= 1 }) else {
        throw RWCNNError.argument("\(op): \(name) shape \(shape) has a dimension below 1")
    }
    return (shape[0], shape[1], shape[2], shape[3])
}

/// Throws unless `stride` is in 1...kernelParameterLimit.
func requireStride(_ stride: Int, op: String) throws {
    guard stride >= 1 else { throw RWCNNError.argument("\(op): stride must be at least 1, got \(stride)") }
    guard stride <= kernelParameterLimit else { throw RWCNNError.argument("\(op): stride \(stride) is too large") }
}

/// Throws unless `padding` is in 0...kernelParameterLimit.
func requirePadding(_ padding: Int, op: String) throws {
    guard padding >= 0 else { throw RWCNNError.argument("\(op): padding must be at least 0, got \(padding)") }
    guard padding <= kernelParameterLimit else { throw RWCNNError.argument("\(op): padding \(padding) is too large") }
}

/// Throws unless `kernel` is in 1...kernelParameterLimit.
func requireKernel(_ kernel: Int, op: String) throws {
    guard kernel >= 1 else { throw RWCNNError.argument("\(op): kernel size must be at least 1, got \(kernel)") }
    guard kernel <= kernelParameterLimit else { throw RWCNNError.argument("\(op): kernel size \(kernel) is too large") }
}

/// How many elements a parallel chunk should at least have so that the
/// dispatch cost stays small against the work.
let parallelGrain = 1 << 15

/// Minimum number of items per chunk when each item costs about `itemCost` elements of work.
@inline(__always)
func minChunk(itemCost: Int) -> Int { max(1, parallelGrain / max(1, itemCost)) }

/// a += b, element by element; the caller has checked that the counts agree.
func addInPlace(_ a: inout Tensor, _ b: Tensor) {
    a.data.withUnsafeMutableBufferPointer { ap in
        b.data.withUnsafeBufferPointer { bp in
            guard let x = ap.baseAddress, let y = bp.baseAddress else { return }
            var j = 0
            while j < ap.count { x[j] += y[j]; j &+= 1 }
        }
    }
}
