#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of the current `errno`, for error messages.
private func fileErrnoMessage(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// The whole content of the file at `path`. Throws `.io` (with the system's
/// reason) when it cannot be opened or read, `.outOfMemory` when it is larger
/// than the machine's memory.
public func readFile(path: String) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw RWCNNError.io("cannot open \(path): \(fileErrnoMessage())") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw RWCNNError.io("cannot stat \(path): \(fileErrnoMessage())") }
    guard (st.st_mode & S_IFMT) != S_IFDIR else { throw RWCNNError.io("cannot read \(path): it is a folder") }
    let expected = max(0, Int(st.st_size))
    let physical = sysconf(Int32(_SC_PHYS_PAGES)).multipliedReportingOverflow(by: sysconf(Int32(_SC_PAGESIZE)))
    if !physical.overflow, physical.partialValue > 0, expected > physical.partialValue {
        throw RWCNNError.outOfMemory("\(path) is \(expected) bytes, more than this machine's memory")
    }
    // Read to the end rather than trusting the size: files can change, and
    // some (pipes, /proc) report 0.
    var bytes = [UInt8](repeating: 0, count: max(expected, 1 << 16))
    var filled = 0
    while true {
        if filled == bytes.count { bytes.append(contentsOf: repeatElement(0, count: bytes.count)) }
        let n = bytes.withUnsafeMutableBytes { buf in
            read(fd, buf.baseAddress! + filled, buf.count - filled)
        }
        if n < 0 {
            if errno == EINTR { continue }
            throw RWCNNError.io("cannot read \(path): \(fileErrnoMessage())")
        }
        if n == 0 { break }
        filled += n
    }
    bytes.removeLast(bytes.count - filled)
    return bytes
}

/// Writes `bytes` to `path` so that readers see either the old file or the
/// complete new one: the data goes to a temporary file in the same folder
/// (`path + ".tmp-<pid>-<random>"`), is flushed with fsync, then renamed over
/// `path`; the folder is synced too. On failure the temporary file is
/// removed and `.io` is thrown with the system's reason.
public func writeFileAtomically(path: String, bytes: [UInt8]) throws {
    guard !path.isEmpty else { throw RWCNNError.io("cannot write a file with an empty path") }
    // The random part keeps two threads of one process writing the same path apart.
    let temporary = path + ".tmp-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw RWCNNError.io("cannot create \(temporary): \(fileErrnoMessage())") }
    var done = false
    defer { if !done { unlink(temporary) } }
    do {
        try bytes.withUnsafeBytes { buf in
            var written = 0
            while written < buf.count {
                let n = write(fd, buf.baseAddress! + written, buf.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw RWCNNError.io("cannot write \(temporary): \(fileErrnoMessage())")
                }
                written += n
            }
        }
        guard fsync(fd) == 0 else { throw RWCNNError.io("cannot flush \(temporary): \(fileErrnoMessage())") }
    } catch {
        close(fd)
        throw error
    }
    guard close(fd) == 0 else { throw RWCNNError.io("cannot close \(temporary): \(fileErrnoMessage())") }
    guard rename(temporary, path) == 0 else {
        throw RWCNNError.io("cannot rename \(temporary) to \(path): \(fileErrnoMessage())")
    }
    done = true
    syncContainingFolder(of: path)
}

/// Makes a rename durable by syncing the containing folder; best effort
/// (some file systems refuse, and the data itself is already safe).
private func syncContainingFolder(of path: String) {
    let folder: String
    if let slash = path.lastIndex(of: "/") {
        folder = slash == path.startIndex ? "/" : String(path[..<slash])
    } else {
        folder = "."
    }
    let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 {
        _ = fsync(fd)
        close(fd)
    }
}
