#if canImport(Glibc)
import Glibc
#endif

/// Runs this same executable with `arguments` (argv[1...]) and returns its
/// exit status and standard output; standard error is passed through.
/// `rwcnn benchmark` uses it to measure each configuration in a fresh
/// process, so that its peak RSS is its own.
func runSelf(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let exe = "/proc/self/exe"
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw CLIError("cannot create a pipe: \(String(cString: strerror(errno)))") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addclose(&actions, fds[0])
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_addclose(&actions, fds[1])

    let argv: [UnsafeMutablePointer<CChar>?] = (["rwcnn"] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid = pid_t()
    let rc = posix_spawn(&pid, exe, &actions, nil, argv, environ)
    close(fds[1])
    guard rc == 0 else {
        close(fds[0])
        throw CLIError("cannot start \(exe): \(String(cString: strerror(rc)))")
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fds[0], &chunk, chunk.count)
        if n > 0 { bytes += chunk[0..<n]; continue }
        if n < 0 && errno == EINTR { continue }
        break
    }
    close(fds[0])
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // WIFEXITED / WEXITSTATUS by hand (they are macros).
    let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exitStatus, String(decoding: bytes, as: UTF8.self))
}

/// A command-line failure with a plain message.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
