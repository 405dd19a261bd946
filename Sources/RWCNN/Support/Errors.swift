/// Every failure in the engine is one of these. The C shim maps each case to
/// an `rwcnn_status` (see include/rwcnn.h) and keeps the message for
/// `rwcnn_last_error()`.
public enum RWCNNError: Error, Equatable, CustomStringConvertible, Sendable {
    /// A caller's argument is invalid: a bad shape, size, name or option.
    case argument(String)
    /// A file could not be opened, read, written or renamed.
    case io(String)
    /// A file or buffer is not in the expected format (corrupt, truncated).
    case format(String)
    /// A size is beyond what can be allocated (or beyond a configured limit).
    case outOfMemory(String)
    /// A caller's buffer is smaller than the result; the message names the
    /// size needed.
    case bufferTooSmall(String)
    /// A progress callback asked to stop.
    case cancelled(String)
    /// A broken invariant inside the engine; a bug if it ever happens.
    case `internal`(String)

    public var message: String {
        switch self {
        case .argument(let m), .io(let m), .format(let m), .outOfMemory(let m),
             .bufferTooSmall(let m), .cancelled(let m), .internal(let m):
            return m
        }
    }

    public var description: String { message }
}

// `localizedDescription` gives the message through the LocalizedError
// conformance in Sources/RWCNNErrorText (part of the RWCNN product), kept out
// of this module so that librwcnn.so needs no Foundation.

/// Shape arithmetic that cannot overflow silently: products of dimensions
/// coming from callers or files go through here.
@inlinable
public func checkedProduct(_ dims: [Int], what: @autoclosure () -> String) throws -> Int {
    var n = 1
    for d in dims {
        guard d >= 0 else { throw RWCNNError.argument("\(what()): negative dimension \(d)") }
        let (p, o) = n.multipliedReportingOverflow(by: d)
        guard !o else { throw RWCNNError.outOfMemory("\(what()): size \(dims) overflows") }
        n = p
    }
    return n
}
