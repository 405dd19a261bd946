#if canImport(Glibc)
import Glibc
#endif
#if canImport(CBLAS)
import CBLAS
#endif

/// Corrects OpenBLAS's kernel choice where it is known to be wrong.
///
/// Debian 12's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not recognise recent
/// AVX-512 Xeons (for example those with avx512_fp16) and falls back to its
/// generic Prescott (SSE3) kernels; on this project's machines that made
/// sgemm 2-5x slower (docs/ENGINE.md, "OpenBLAS's kernel choice"). The
/// library normally picks its kernels once, when it loads, from CPUID or the
/// OPENBLAS_CORETYPE variable. When it has fallen back to Prescott, the
/// variable is unset and the CPU has AVX-512 (F, BW, DQ, VL) or AVX2 + FMA,
/// the choice is redone through OpenBLAS's own exported entry points
/// (`gotoblas_dynamic_quit`, then `gotoblas_dynamic_init`, which honours
/// OPENBLAS_CORETYPE), with SkylakeX or Haswell kernels. The variable is
/// removed again afterwards, so the host's environment is unchanged. Any
/// other BLAS, an OpenBLAS that chose anything else, or a user's own
/// OPENBLAS_CORETYPE is left alone. Runs once, before rwcnn's first BLAS call.
enum BLASKernels {
    /// The kernel set OpenBLAS uses (nil for another BLAS).
    static var coreName: String? {
        #if canImport(CBLAS)
        guard let p = openblas_get_corename() else { return nil }
        return String(cString: p)
        #else
        return nil
        #endif
    }

    /// What `correctFallback` did, for `rwcnn info` and tests.
    nonisolated(unsafe) private(set) static var correction: String? = nil

    static func correctFallback() {
        #if canImport(CBLAS) && canImport(Glibc)
        guard coreName?.lowercased() == "prescott", getenv("OPENBLAS_CORETYPE") == nil,
              let target = betterTarget(flags: cpuFlags()),
              let quit = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_quit"),
              let initialise = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gotoblas_dynamic_init") else { return }
        typealias Entry = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", target, 1)
        unsafeBitCast(quit, to: Entry.self)()
        unsafeBitCast(initialise, to: Entry.self)()
        unsetenv("OPENBLAS_CORETYPE")
        correction = "OpenBLAS fell back to Prescott kernels; switched to \(coreName ?? target)"
        #endif
    }

    /// The OpenBLAS target for a CPU with these /proc/cpuinfo flags, or nil.
    static func betterTarget(flags: Set<String>) -> String? {
        if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// The CPU's feature flags from /proc/cpuinfo (empty where there is none).
    static func cpuFlags() -> Set<String> {
        #if canImport(Glibc)
        guard let file = fopen("/proc/cpuinfo", "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0 {
            let text = String(cString: line!)
            guard text.hasPrefix("flags"), let colon = text.firstIndex(of: ":") else { continue }
            return Set(text[text.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).map(String.init))
        }
        #endif
        return []
    }
}

/// The OpenBLAS kernel set (`openblas_get_corename`) rwcnn's products run
/// on, after its correction of the Prescott fallback (which this call
/// applies if it has not run yet); nil for another BLAS. Benchmarks record
/// it beside their figures.
public var blasCoreName: String? {
    BLASThreads.ensureSingle()
    return BLASKernels.coreName
}
