import RWCNN
#if canImport(Glibc)
import Glibc
#endif

// The timing protocol of `rwcnn benchmark` (the same as the reference harness
// in ../shared/bench): warm-up calls, then at least `reps` timed calls and
// until `minTime` seconds were timed; the median is the figure.

struct TimingProtocol {
    var warmup = 2
    var reps = 7
    var minTime = 3.0
    var maxReps = 2000
    /// Photos of the time-to-quality runs (`--quality-data`).
    var qualityData = "data/images"
    /// `KernelTuning.winogradMinTilesCached` for the model (nil: the default),
    /// to measure the Winograd break-even with cached weights.
    var winogradCachedMinTiles: Int? = nil
    /// Further `KernelTuning` thresholds by name (`--tuning`), checked.
    var tuning: [(String, Int)] = []

    /// The model's context under this protocol.
    func apply(to model: Model) {
        guard winogradCachedMinTiles != nil || !tuning.isEmpty else { return }
        var c = ExecutionContext()
        if let t = winogradCachedMinTiles { c.tuning.winogradMinTilesCached = t }
        for (name, value) in tuning { try? c.tuning.set(name, to: value) }
        model.executionContext = c
    }

    /// True once enough calls are timed.
    func done(_ times: [Double]) -> Bool {
        times.count >= maxReps || (times.count >= reps && times.reduce(0, +) >= minTime)
    }
}

/// Median, minimum and quartiles of timed calls. The quartiles follow
/// Python's `statistics.quantiles(n=4)` (the "exclusive" method), as the
/// reference harness reports them.
struct TimeSummary {
    var median: Double, min: Double, q1: Double, q3: Double, count: Int

    init(_ times: [Double]) {
        let s = times.sorted(), n = s.count
        count = n
        min = s.first ?? .nan
        median = n == 0 ? .nan : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
        func quantile(_ j: Int) -> Double {
            guard n >= 2 else { return s.first ?? .nan }
            let pos = Double(j * (n + 1)) / 4
            let i = Int(pos), frac = pos - Double(i)
            if i < 1 { return s[0] }
            if i >= n { return s[n - 1] }
            return s[i - 1] + frac * (s[i] - s[i - 1])
        }
        q1 = quantile(1); q3 = quantile(3)
    }
}

/// This process's resource use (getrusage): CPU split, context switches,
/// page faults and peak resident memory.
struct Usage {
    var user: Double, system: Double, voluntarySwitches: Int, involuntarySwitches: Int
    var minorFaults: Int, majorFaults: Int
    /// Peak resident set size so far, MB (Linux reports ru_maxrss in KiB).
    var peakRSSMB: Double

    static func now() -> Usage {
        var r = rusage()
        getrusage(RUSAGE_SELF.rawValue, &r)
        func secs(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) * 1e-6 }
        return Usage(user: secs(r.ru_utime), system: secs(r.ru_stime),
                     voluntarySwitches: r.ru_nvcsw, involuntarySwitches: r.ru_nivcsw,
                     minorFaults: r.ru_minflt, majorFaults: r.ru_majflt,
                     peakRSSMB: Double(r.ru_maxrss) / 1024)
    }
}

/// CPU time the rest of the machine used while we measured: busy time of all
/// cores (/proc/stat) minus this process's own CPU time. Near 0 means the
/// measurement had the cores to itself.
struct ForeignCPUWatch {
    private let busy0: Double, steal0: Double, own0: Double, wall0: Double

    init() {
        (busy0, steal0) = ForeignCPUWatch.machine()
        let u = Usage.now()
        own0 = u.user + u.system
        wall0 = monotonicSeconds()
    }

    /// (busy seconds, steal seconds) of the whole machine since boot; NaN if unreadable.
    private static func machine() -> (Double, Double) {
        guard let f = fopen("/proc/stat", "r") else { return (.nan, .nan) }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 512)
        guard fgets(&line, Int32(line.count), f) != nil else { return (.nan, .nan) }
        let fields = String(cString: line).split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 7 else { return (.nan, .nan) }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        // user nice system idle iowait irq softirq steal
        let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
        return (busy / hz, fields.count > 7 ? fields[7] / hz : 0)
    }

    /// (foreign CPU seconds, steal seconds, watched wall seconds).
    func read() -> (foreign: Double, steal: Double, watched: Double) {
        let (busy1, steal1) = ForeignCPUWatch.machine()
        let u = Usage.now()
        let own = u.user + u.system - own0
        return (max(0, busy1 - busy0 - own), steal1 - steal0, monotonicSeconds() - wall0)
    }
}

/// What one measured interval cost this process and the machine.
struct IntervalCost {
    private let usage0 = Usage.now()
    private let watch = ForeignCPUWatch()

    /// Record fields: CPU split, system share, context switches, faults, foreign CPU.
    func fields() -> [(String, JSONValue)] {
        let u = Usage.now(), w = watch.read()
        let user = u.user - usage0.user, sys = u.system - usage0.system
        return [
            ("cpu_user_s", .number(rounded(user, 3))), ("cpu_sys_s", .number(rounded(sys, 3))),
            ("sys_share", .number(rounded(user + sys > 0 ? sys / (user + sys) : 0, 4))),
            ("ctx_voluntary", .number(Double(u.voluntarySwitches - usage0.voluntarySwitches))),
            ("ctx_involuntary", .number(Double(u.involuntarySwitches - usage0.involuntarySwitches))),
            ("minor_faults", .number(Double(u.minorFaults - usage0.minorFaults))),
            ("foreign_cpu_s", .number(rounded(w.foreign, 2))), ("steal_s", .number(rounded(w.steal, 2))),
            ("watched_s", .number(rounded(w.watched, 2))),
        ]
    }
}

/// Calls `body` `warmup` times, then times it until the protocol is satisfied.
func timeCalls(_ p: TimingProtocol, _ body: () throws -> Void) rethrows -> (times: [Double], cost: [(String, JSONValue)]) {
    for _ in 0..<p.warmup { try body() }
    var times: [Double] = []
    let cost = IntervalCost()
    while !p.done(times) {
        let t0 = monotonicSeconds()
        try body()
        times.append(monotonicSeconds() - t0)
    }
    return (times, cost.fields())
}

func rounded(_ v: Double, _ digits: Int) -> Double {
    guard v.isFinite else { return v }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return (v * scale).rounded() / scale
}

/// The machine's load averages, as /proc/loadavg prints them.
func loadAverage() -> String {
    guard let f = fopen("/proc/loadavg", "r") else { return "unknown" }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, Int32(line.count), f) != nil else { return "unknown" }
    return String(String(cString: line).split(separator: " ").prefix(3).joined(separator: " "))
}

/// This process's resident memory now, MB (/proc/self/statm; 0 if unreadable).
func currentRSSMB() -> Double {
    guard let f = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(f) }
    var size = 0, resident = 0
    guard withUnsafeMutablePointer(to: &size, { sp in
        withUnsafeMutablePointer(to: &resident) { rp in
            withVaList([sp, rp]) { vfscanf(f, "%ld %ld", $0) }
        }
    }) == 2 else { return 0 }
    return Double(resident) * Double(sysconf(Int32(_SC_PAGESIZE))) / 1048576
}
