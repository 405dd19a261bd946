#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The text of the current `errno`, for error messages.
private func fileErrnoMessage(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// What a non-regular file is, for the message that refuses it.
private func fileKind(_ mode: mode_t) -> String? {
    switch mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFDIR: return "a folder"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "not a regular file"
    }
}

/// The whole content of the regular file at `path`, at most `maxBytes`
/// (default: the memory budget).
///
/// Only regular files are read: FIFOs, devices, sockets and folders are
/// refused by name (`.io`). The file is opened non-blocking, so a FIFO
/// cannot hang the open. Throws `.io` (with the system's reason) when it
/// cannot be opened or read, `.outOfMemory` when it is larger than
/// `maxBytes`, checked before the buffer is allocated.
public func readFile(path: String, maxBytes: Int? = nil) throws -> [UInt8] {
    let cap = maxBytes ?? MemoryBudget.limit
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
    guard fd >= 0 else { throw RWCNNError.io("cannot open \(path): \(fileErrnoMessage())") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw RWCNNError.io("cannot stat \(path): \(fileErrnoMessage())") }
    if let kind = fileKind(st.st_mode) {
        throw RWCNNError.io("cannot read \(path): it is \(kind), not a regular file")
    }
    let expected = max(0, Int(st.st_size))
    guard expected <= cap else {
        throw RWCNNError.outOfMemory("\(path) is \(expected) bytes, over the \(cap)-byte read limit (\(MemoryBudget.describe(cap)))")
    }
    // Read to the end rather than trusting the size (a file can grow, /proc
    // reports 0), but never past the cap.
    var bytes = [UInt8](repeating: 0, count: max(expected, 1) + 1)
    var filled = 0
    while true {
        if filled == bytes.count {
            guard bytes.count < cap else {
                throw RWCNNError.outOfMemory("\(path) grew past the \(cap)-byte read limit while being read")
            }
            bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, cap - bytes.count)))
        }
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
    guard filled <= cap else {
        throw RWCNNError.outOfMemory("\(path) grew past the \(cap)-byte read limit while being read")
    }
    bytes.removeLast(bytes.count - filled)
    return bytes
}

/// Writes `bytes` to `path` so that readers see either the old file or the
/// complete new one: the data goes to a temporary file in the same folder
/// (`path + ".tmp-<pid>-<random>"`), is flushed with fsync, then renamed over
/// `path`; the folder is synced too. On failure the temporary file is
/// removed and `.io` is thrown with the system's reason. Temporary files of
/// `path` left by processes that no longer exist (killed mid-write) are
/// removed first (`removeStaleTemporaries`).
public func writeFileAtomically(path: String, bytes: [UInt8]) throws {
    guard !path.isEmpty else { throw RWCNNError.io("cannot write a file with an empty path") }
    removeStaleTemporaries(of: path)
    // The random part keeps two threads of one process writing the same path apart.
    let temporary = path + temporaryMarker + "\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
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

/// Between the target's name and the writer's "<pid>-<hex>".
let temporaryMarker = ".tmp-"

/// Removes `path.tmp-<pid>-<hex>` siblings whose process is gone (kill(pid, 0)
/// fails with ESRCH). Never this process's own files, never a live
/// process's, never anything not named exactly so; best effort (a folder
/// that cannot be read is left alone).
public func removeStaleTemporaries(of path: String) {
    let (folder, name) = splitPath(path)
    guard !name.isEmpty, let handle = opendir(folder) else { return }
    defer { closedir(handle) }
    let prefix = name + temporaryMarker
    let me = getpid()
    var stale: [String] = []
    while let entry = readdir(handle) {
        let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
        guard entryName.hasPrefix(prefix) else { continue }
        let parts = entryName.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, pid != me,
              !parts[1].isEmpty, UInt32(parts[1], radix: 16) != nil else { continue }
        if kill(pid, 0) != 0 && errno == ESRCH { stale.append(entryName) }
    }
    for entryName in stale { unlink(folder == "/" ? "/" + entryName : folder + "/" + entryName) }
}

/// (containing folder, last component) of a path.
private func splitPath(_ path: String) -> (String, String) {
    guard let slash = path.lastIndex(of: "/") else { return (".", path) }
    let folder = slash == path.startIndex ? "/" : String(path[..<slash])
    return (folder, String(path[path.index(after: slash)...]))
}

/// Makes a rename durable by syncing the containing folder; best effort
/// (some file systems refuse, and the data itself is already safe).
private func syncContainingFolder(of path: String) {
    let fd = open(splitPath(path).0, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 {
        _ = fsync(fd)
        close(fd)
    }
}
