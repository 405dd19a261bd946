/// A dense float32 tensor, row-major (NCHW for images and feature maps),
/// with value semantics. Hot loops reach the storage through
/// `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`.
public struct Tensor: Equatable, Sendable {
    public private(set) var shape: [Int]
    public var data: [Float]

    /// A zero-filled tensor of the given shape.
    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Wraps `data` as a tensor; its count must equal the product of `shape`.
    public init(shape: [Int], data: [Float]) throws {
        let n = try checkedProduct(shape, what: "tensor")
        guard n == data.count else {
            throw RWCNNError.argument("tensor of shape \(shape) needs \(n) values, got \(data.count)")
        }
        self.shape = shape
        self.data = data
    }

    /// Number of elements.
    @inlinable public var count: Int { data.count }
    @inlinable public var rank: Int { shape.count }

    /// The same values seen with another shape of equal element count.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        try Tensor(shape: newShape, data: data)
    }

    /// Batch item `i` of an N... tensor, as a tensor of the trailing shape.
    public func item(_ i: Int) -> Tensor {
        let inner = Array(shape.dropFirst())
        let n = inner.reduce(1, *)
        var t = Tensor(zeros: inner)
        t.data.replaceSubrange(0..<n, with: data[(i * n)..<((i + 1) * n)])
        return t
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
            data.append(contentsOf: t.data)
        }
        return try Tensor(shape: [items.count] + first.shape, data: data)
    }
}
