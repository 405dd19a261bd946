// libFuzzer entry for every rwcnn fuzz target, compiled together with the
// RWCNN sources into one binary (scripts/fuzz builds it with
// `swiftc -sanitize=fuzzer,address`). RWCNN_FUZZ_TARGET picks the target:
// png, model, checkpoint, arch, json.
#if canImport(Glibc)
import Glibc
#endif

/// The target, read once; an unknown name stops the run before any input.
/// With RWCNN_FUZZ_SEEDS=<dir> the binary instead writes the seed corpora
/// (see `writeSeeds`) and exits.
private let target: (UnsafeRawBufferPointer) -> Void = {
    if let dir = getenv("RWCNN_FUZZ_SEEDS").map({ String(cString: $0) }) {
        // _exit: libFuzzer treats exit() from inside a run as a finding.
        do { try writeSeeds(to: dir) } catch {
            fputs("cannot write seeds: \(error)\n", stderr)
            _exit(1)
        }
        _exit(0)
    }
    // Small and single-threaded: a finding must be a bug, not a big
    // allocation the budget allows (libFuzzer's -rss_limit_mb is 2 GB).
    try? MemoryBudget.setLimit(256 << 20)
    Threads.set(1)
    let name = getenv("RWCNN_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    switch name {
    case "png": return fuzzPNG
    case "model": return fuzzModelFile
    case "checkpoint": return fuzzCheckpoint
    case "arch": return fuzzArchitecture
    case "json": return fuzzJSON
    default:
        fputs("RWCNN_FUZZ_TARGET must be png, model, checkpoint, arch or json (got \"\(name)\")\n", stderr)
        exit(2)
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func rwcnnFuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    target(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
    return 0
}
