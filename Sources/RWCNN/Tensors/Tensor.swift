/// A dense float32 tensor, row-major (NCHW for images and feature maps),
/// with value semantics. Hot loops reach the storage through
/// `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`.
///
/// Its shape and its storage cannot be set apart: the initialisers check
/// that they agree (and throw otherwise), `shape` is read-only, and a change
/// of the element count through `data` (an append, say) leaves the tensor
/// one-dimensional, [count], rather than with a shape its values do not fill.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    private var storage: [Float]

    /// The values, row-major. Element writes keep the shape; anything that
    /// changes the count makes the shape [count].
    public var data: [Float] {
        get { storage }
        _modify {
            let before = storage.count
            yield &storage
            if storage.count != before { shape = [storage.count] }
        }
        set {
            if newValue.count != storage.count { shape = [newValue.count] }
            storage = newValue
        }
    }

    /// A zero-filled tensor of the given shape; throws for negative
    /// dimensions or an element count that overflows.
    public init(zeros shape: [Int]) throws {
        let n = try checkedProduct(shape, what: "tensor")
        guard n <= kernelElementLimit else {
            throw RWCNNError.outOfMemory("tensor of shape \(shape) has \(n) elements, more than the limit of \(kernelElementLimit)")
        }
        self.shape = shape
        self.storage = [Float](repeating: 0, count: n)
    }

    /// Wraps `data` as a tensor; its count must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) throws {
        let n = try checkedProduct(shape, what: "tensor")
        guard n == data.count else {
            throw RWCNNError.argument("tensor of shape \(shape) needs \(n) values, got \(data.count)")
        }
        self.shape = shape
        self.storage = data
    }

    /// `data` as a tensor of a shape the engine has already checked to match it.
    init(checkedShape shape: [Int], data: [Float]) {
        self.shape = shape
        self.storage = data
    }

    /// A zero-filled tensor for shapes the engine has already checked.
    init(checkedZeros shape: [Int]) {
        self.shape = shape
        self.storage = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    @inlinable public var rank: Int { shape.count }

    /// The same values seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, data: storage)
    }

    /// Batch item `i` of an N... tensor, as a tensor of the trailing shape;
    /// throws for a tensor of rank 0 or an index outside 0..<N.
    public func item(_ i: Int) throws -> Tensor {
        guard let n = shape.first else { throw RWCNNError.argument("item of a tensor of rank 0") }
        guard i >= 0, i < n else { throw RWCNNError.argument("item \(i) of a batch of \(n)") }
        let inner = Array(shape.dropFirst())
        let size = inner.reduce(1, *)
        return try Tensor(shape: inner, data: Array(storage[(i * size)..<((i + 1) * size)]))
    }

    /// Stacks tensors of equal shape along a new leading axis.
    public static func stack(_ items: [Tensor]) throws -> Tensor {
        guard let first = items.first else { throw RWCNNError.argument("stack of no tensors") }
        var data = [Float]()
        data.reserveCapacity(first.count * items.count)
        for t in items {
            guard t.shape == first.shape else {
                throw RWCNNError.argument("stack: shape \(t.shape) differs from \(first.shape)")
            }
            data.append(contentsOf: t.storage)
        }
        return try Tensor(shape: [items.count] + first.shape, data: data)
    }

    public static func == (a: Tensor, b: Tensor) -> Bool { a.shape == b.shape && a.storage == b.storage }
}
