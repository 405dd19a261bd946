import CRWCNN
import RWCNN
#if canImport(Glibc)
import Glibc
#endif

// Error plumbing of the C ABI: every export runs its body through `capi`,
// which turns a thrown error into a status and keeps the message in
// thread-local storage for rwcnn_last_error().

/// Thread-local message buffer (malloc'd C string), freed at thread exit.
private let errorKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()

private let emptyMessage: UnsafeMutablePointer<CChar> = strdup("")!

func setLastError(_ message: String) {
    let old = pthread_getspecific(errorKey)
    pthread_setspecific(errorKey, strdup(message))
    free(old)
}

func lastErrorPointer() -> UnsafePointer<CChar> {
    if let p = pthread_getspecific(errorKey) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
    return UnsafePointer(emptyMessage)
}

func status(_ s: rwcnn_status) -> Int32 { Int32(bitPattern: s.rawValue) }

/// Runs an export's body; errors become statuses plus a thread-local message.
func capi(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return status(RWCNN_OK)
    } catch let e as RWCNNError {
        setLastError(e.message)
        switch e {
        case .argument: return status(RWCNN_ERR_ARGUMENT)
        case .io: return status(RWCNN_ERR_IO)
        case .format: return status(RWCNN_ERR_FORMAT)
        case .outOfMemory: return status(RWCNN_ERR_OUT_OF_MEMORY)
        case .cancelled: return status(RWCNN_ERR_CANCELLED)
        case .internal: return status(RWCNN_ERR_INTERNAL)
        }
    } catch {
        setLastError("unexpected error: \(error)")
        return status(RWCNN_ERR_INTERNAL)
    }
}

@_cdecl("rwcnn_status_name")
public func rwcnn_status_name(_ code: Int32) -> UnsafePointer<CChar> {
    let name: StaticString
    switch UInt32(bitPattern: code) {
    case RWCNN_OK.rawValue: name = "RWCNN_OK"
    case RWCNN_ERR_ARGUMENT.rawValue: name = "RWCNN_ERR_ARGUMENT"
    case RWCNN_ERR_IO.rawValue: name = "RWCNN_ERR_IO"
    case RWCNN_ERR_FORMAT.rawValue: name = "RWCNN_ERR_FORMAT"
    case RWCNN_ERR_OUT_OF_MEMORY.rawValue: name = "RWCNN_ERR_OUT_OF_MEMORY"
    case RWCNN_ERR_CANCELLED.rawValue: name = "RWCNN_ERR_CANCELLED"
    case RWCNN_ERR_INTERNAL.rawValue: name = "RWCNN_ERR_INTERNAL"
    default: name = "RWCNN_UNKNOWN_STATUS"
    }
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("rwcnn_last_error")
public func rwcnn_last_error() -> UnsafePointer<CChar> { lastErrorPointer() }

private let versionString: UnsafeMutablePointer<CChar> = strdup(RWCNNVersion.string)!

@_cdecl("rwcnn_version")
public func rwcnn_version() -> UnsafePointer<CChar> { UnsafePointer(versionString) }

@_cdecl("rwcnn_version_number")
public func rwcnn_version_number() -> Int32 {
    Int32(RWCNNVersion.major * 10000 + RWCNNVersion.minor * 100 + RWCNNVersion.patch)
}

@_cdecl("rwcnn_set_threads")
public func rwcnn_set_threads(_ n: Int32) -> Int32 {
    capi {
        guard n >= 1 else { throw RWCNNError.argument("thread count must be >= 1, got \(n)") }
        Threads.set(Int(n))
    }
}

@_cdecl("rwcnn_get_threads")
public func rwcnn_get_threads() -> Int32 { Int32(Threads.count) }

@_cdecl("rwcnn_set_memory_limit")
public func rwcnn_set_memory_limit(_ bytes: Int) -> Int32 {
    capi {
        // size_t above Int.max arrives negative: larger than any machine, so the largest limit.
        try MemoryBudget.setLimit(bytes == 0 ? nil : bytes < 0 ? Int.max : bytes)
    }
}

@_cdecl("rwcnn_get_memory_limit")
public func rwcnn_get_memory_limit() -> Int { MemoryBudget.limit }
// MARK: enum names (the vocabulary lives in the core: RWCNN.Vocabulary)

/// Static C strings of every enum name, made once.
private let enumNames: [[UnsafeMutablePointer<CChar>]] = Vocabulary.allCases.map { $0.names.map { strdup($0)! } }

@_cdecl("rwcnn_enum_name")
public func rwcnn_enum_name(_ kind: Int32, _ value: Int32) -> UnsafePointer<CChar>? {
    guard let k = Vocabulary(rawValue: Int(kind)), enumNames[k.rawValue].indices.contains(Int(value)) else { return nil }
    return UnsafePointer(enumNames[k.rawValue][Int(value)])
}

@_cdecl("rwcnn_enum_value")
public func rwcnn_enum_value(_ kind: Int32, _ name: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<Int32>?) -> Int32 {
    capi {
        guard let k = Vocabulary(rawValue: Int(kind)) else {
            throw RWCNNError.argument("enum kind \(kind) is not an rwcnn_enum_kind (0...\(Vocabulary.allCases.count - 1))")
        }
        let n = try k.value(of: string(name, "name"))
        try required(value, "value").pointee = Int32(n)
    }
}
