#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The study report: one self-contained HTML page (plots as inline SVG,
// reconstructions as PNG data URIs) from the JSON lines of any studies.

/// A recorded run, as read back from a results file.
struct ReportRun {
    var json: JSONValue
    /// Folder of the results file (images are relative to it).
    var folder: String

    func string(_ key: String) -> String {
        if case .string(let s)? = json[key] { return s }
        return ""
    }
    func metric(_ key: String) -> Double {
        if case .number(let v)? = json["metrics"]?[key] { return v }
        return .nan
    }
    var seed: Double { if case .number(let v)? = json["seed"] { return v } else { return 0 } }
    var seconds: Double { if case .number(let v)? = json["seconds"] { return v } else { return .nan } }
    var study: String { string("study") }
    var method: String { string("method") }
    var x: String { string("x") }
}

public enum StudyReport {
    /// Reads every results file (a .jsonl file, or a folder searched for
    /// them) and writes `<folder>/index.html`; returns its path.
    @discardableResult
    public static func write(results: [String], folder: String) throws -> String {
        var runs: [ReportRun] = []
        for path in results {
            for file in try resultFiles(path) {
                let dir = file.contains("/") ? String(file[..<file.lastIndex(of: "/")!]) : "."
                let bytes = try readFile(path: file)
                for line in bytes.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
                    let json: JSONValue
                    do { json = try JSONValue.parse(line) } catch {
                        throw RWCNNError.format("\(file): a line is not JSON (\(error))")
                    }
                    guard case .string? = json["study"], case .string? = json["run"] else {
                        throw RWCNNError.format("\(file): a line without \"study\" and \"run\"; is this a study results file?")
                    }
                    runs.append(ReportRun(json: json, folder: dir))
                }
            }
        }
        guard !runs.isEmpty else { throw RWCNNError.argument("no study runs in \(results.joined(separator: ", "))") }
        try makeFolder(folder)
        let page = try render(runs)
        let path = folder + "/index.html"
        try writeFileAtomically(path: path, bytes: Array(page.utf8))
        return path
    }

    static func resultFiles(_ path: String) throws -> [String] {
        if path.hasSuffix(".jsonl") { return [path] }
        let found = try listFiles(in: path, suffix: ".jsonl")
        guard !found.isEmpty else { throw RWCNNError.argument("no .jsonl results under \(path)") }
        return found
    }

    static func render(_ runs: [ReportRun]) throws -> String {
        var body = ""
        let studies = StudyName.allCases.filter { s in runs.contains { $0.study == s.rawValue } }
        body += "<nav>" + studies.map { "<a href=\"#\($0.rawValue)\">\($0.rawValue)</a>" }.joined(separator: " · ") + "</nav>"
        for study in studies {
            let mine = runs.filter { $0.study == study.rawValue }
            body += "<section id=\"\(study.rawValue)\"><h2>\(study.rawValue)</h2><p class=\"claim\">\(html(study.claim))</p>"
            body += figures(study, mine)
            body += try grid(mine)
            body += protocolTable(mine)
            body += runTable(mine)
            body += "</section>"
        }
        let versions = Set(runs.map { $0.string("rwcnn") }).sorted().joined(separator: ", ")
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>rwcnn studies</title>
        <style>
        body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; padding: 0 12px; }
        h1 { font-size: 22px; } h2 { font-size: 18px; border-top: 1px solid #ccc; padding-top: 14px; }
        .claim { font-style: italic; } .figures { display: flex; flex-wrap: wrap; gap: 10px; }
        table { border-collapse: collapse; margin: 8px 0 16px; font-size: 12px; }
        td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; } th { background: #f4f4f4; }
        td.l, th.l { text-align: left; } code { font-size: 12px; }
        .grid img { width: 96px; height: 96px; image-rendering: pixelated; display: block; }
        .grid td { padding: 2px; text-align: center; vertical-align: middle; }
        </style></head><body>
        <h1>rwcnn: the studies of "Understanding Deep Representations through Random Weights"</h1>
        <p>Made by rwcnn \(html(RWCNNVersion.string)) from runs recorded by rwcnn \(html(versions)). \
        Each figure is the mean over the held-out crops (and over seeds, with a whisker from the lowest to the highest seed); \
        random and tied outputs are display-normalised, trained ones clamped to [0, 1]. \
        Colour-invariant SSIM is, per image, the best SSIM of the output itself and of its 3x3 colour maps fitted by least \
        squares on raw pixels or on detail (so never below plain SSIM); its cross-image baseline is the same score \
        between the reconstruction of one held-out image and a different original. Fitted PSNR is the PSNR after the \
        least-squares recolouring (per channel or 3x3 matrix). \
        On these smooth 64-pixel crops SSIM credits flat regions, so an unrelated photo already scores about 0.66; \
        "kept" (and its plot for the random and tied studies) is (colour-inv SSIM − cross) / (1 − cross), \
        the share of the way from that baseline to a perfect score: 0 means nothing beyond what an unrelated photo \
        gets, 1 an exact recolouring.</p>
        \(body)
        </body></html>

        """
    }

    /// Values of `metric` per x label for runs of `method`, over seeds.
    static func values(_ runs: [ReportRun], _ labels: [String], method: String, _ metric: String) -> [[Double]] {
        labels.map { label in runs.filter { $0.x == label && $0.method == method }.map { $0.metric(metric) }.filter { $0.isFinite } }
    }

    /// Per run, how much of the way from the cross-image baseline to a
    /// perfect score its colour-invariant SSIM goes:
    /// (colour_ssim - cross_colour_ssim) / (1 - cross_colour_ssim). 0 is
    /// what an unrelated photo scores, 1 an exact recolouring. The same
    /// recorded means, rescaled: on smooth crops SSIM credits flat regions
    /// (the baseline is about 0.66), and this takes that credit out.
    static func structureKept(_ run: ReportRun) -> Double {
        let s = run.metric("colour_ssim"), b = run.metric("cross_colour_ssim")
        return s.isFinite && b.isFinite && b < 1 ? (s - b) / (1 - b) : .nan
    }

    /// `structureKept` per x label for runs of `method`, over seeds.
    static func structureKept(_ runs: [ReportRun], _ labels: [String], method: String) -> [[Double]] {
        labels.map { label in runs.filter { $0.x == label && $0.method == method }.map(structureKept).filter { $0.isFinite } }
    }

    static func labels(_ runs: [ReportRun]) -> [String] {
        var seen: [String] = []
        for r in runs where !seen.contains(r.x) { seen.append(r.x) }
        return seen
    }

    static func methods(_ runs: [ReportRun]) -> [String] {
        StudyMethod.allCases.map(\.rawValue).filter { m in runs.contains { $0.method == m } }
    }

    static func figures(_ study: StudyName, _ runs: [ReportRun]) -> String {
        var out: [String] = []
        let images = runs.filter { $0.method != "theory" }
        let xs = labels(images), ms = methods(images)
        let axis: String
        switch study {
        case .layers, .random, .tied: axis = "cut"
        case .distributions: axis = "weight distribution (scale He unless stated)"
        case .width: axis = "width multiplier"
        case .shape: axis = "feature-map shape"
        case .unpool: axis = "unpooling"
        }
        if study == .tied {
            let theory = runs.filter { $0.method == "theory" }
            let ns = theory.map { $0.x }
            let measured = theory.map { [$0.metric("cosine")] }
            let predicted = theory.map { [$0.metric("predicted")] }
            let low = theory.map { [$0.metric("cosine") - $0.metric("cosine_sd"), $0.metric("cosine") + $0.metric("cosine_sd")] }
            out.append(svgPlot(title: "One random layer, n = 27 inputs: cos(x, Wᵀ relu(W x))", yLabel: "cosine",
                               xLabel: "outputs N (log scale)", xLabels: ns, xValues: ns.map { Double($0) ?? 1 },
                               series: [PlotSeries(name: "measured", values: measured),
                                        PlotSeries(name: "± 1 sd", values: low, whiskersOnly: true),
                                        PlotSeries(name: "(1+2n/N)^-1/2", values: predicted, dashed: true)]))
        }
        if study == .random || study == .tied {
            let decoders = ms.filter { $0 == "random" || $0 == "tied" }
            out.append(svgPlot(title: "Structure kept beyond the cross-image baseline: (colour-inv SSIM − cross) / (1 − cross); 0 = an unrelated photo, 1 = an exact recolouring",
                               yLabel: "share of the gap", xLabel: axis, xLabels: xs,
                               series: decoders.map { PlotSeries(name: $0, values: structureKept(images, xs, method: $0)) }))
        }
        if study == .random {
            out.append(svgPlot(title: "Random decoder: structure against the cross-image baseline", yLabel: "SSIM",
                               xLabel: axis, xLabels: xs, series: [
                                PlotSeries(name: "colour-inv SSIM", values: values(images, xs, method: "random", "colour_ssim")),
                                PlotSeries(name: "cross-image", values: values(images, xs, method: "random", "cross_colour_ssim"), dashed: true),
                                PlotSeries(name: "plain SSIM", values: values(images, xs, method: "random", "ssim")),
                                PlotSeries(name: "plain, cross", values: values(images, xs, method: "random", "cross_ssim"), dashed: true)]))
            out.append(svgPlot(title: "Random decoder: PSNR, plain and after recolouring", yLabel: "PSNR (dB)",
                               xLabel: axis, xLabels: xs, series: [
                                PlotSeries(name: "fitted 3x3", values: values(images, xs, method: "random", "fitted_psnr_matrix")),
                                PlotSeries(name: "fitted, cross", values: values(images, xs, method: "random", "cross_fitted_psnr_matrix"), dashed: true),
                                PlotSeries(name: "per channel", values: values(images, xs, method: "random", "fitted_psnr_channel")),
                                PlotSeries(name: "plain", values: values(images, xs, method: "random", "psnr"))]))
        } else if !images.isEmpty {
            for (metric, title, unit) in [("psnr", "PSNR", "PSNR (dB)"), ("ssim", "SSIM", "SSIM"),
                                          ("colour_ssim", "Colour-invariant SSIM", "SSIM")] {
                var series = ms.map { PlotSeries(name: $0, values: values(images, xs, method: $0, metric)) }
                if metric == "colour_ssim" {
                    series += ms.filter { $0 != "bicubic" }.map {
                        PlotSeries(name: "\($0), cross", values: values(images, xs, method: $0, "cross_colour_ssim"), dashed: true)
                    }
                }
                out.append(svgPlot(title: "\(title) against \(axis)", yLabel: unit, xLabel: axis, xLabels: xs, series: series))
            }
        }
        return "<div class=\"figures\">" + out.joined() + "</div>"
    }

    /// Reconstructions of the first held-out crop: a row per method, a column
    /// per swept value, the lowest seed.
    static func grid(_ runs: [ReportRun]) throws -> String {
        let images = runs.filter { $0.method != "theory" && $0.string("image") != "" }
        guard let first = images.first else { return "" }
        let xs = labels(images), ms = methods(images)
        var s = "<table class=\"grid\"><tr><th></th>" + xs.map { "<th>\(html($0))</th>" }.joined() + "</tr>"
        let original = first.folder + "/images/original.png"
        if fileExists(original) {
            s += "<tr><th class=\"l\">original</th><td>\(try imageTag(original, "original"))</td>"
                + String(repeating: "<td></td>", count: max(0, xs.count - 1)) + "</tr>"
        }
        for m in ms {
            s += "<tr><th class=\"l\">\(html(m))</th>"
            for x in xs {
                let candidates = images.filter { $0.method == m && $0.x == x }.sorted { $0.seed < $1.seed }
                if let r = candidates.first {
                    s += "<td>\(try imageTag(r.folder + "/" + r.string("image"), "\(m) \(x)"))</td>"
                } else {
                    s += "<td></td>"
                }
            }
            s += "</tr>"
        }
        return "<p>Reconstructions of the first held-out crop (lowest seed):</p>" + s + "</table>"
    }

    static func imageTag(_ path: String, _ alt: String) throws -> String {
        "<img alt=\"\(html(alt))\" src=\"data:image/png;base64,\(base64(try readFile(path: path)))\">"
    }

    static func protocolTable(_ runs: [ReportRun]) -> String {
        var s = "<table><tr><th class=\"l\">protocol</th><th class=\"l\">value</th></tr>"
        if case .object(let members)? = runs.first?.json["protocol"] {
            for (k, v) in members { s += "<tr><td class=\"l\">\(html(k))</td><td class=\"l\">\(html(jsonText(v)))</td></tr>" }
        }
        let seeds = Set(runs.map { Int($0.seed) }).sorted().map(String.init).joined(separator: ", ")
        let steps = Set(runs.compactMap { r -> Int? in
            if case .number(let v)? = r.json["config"]?["steps"] { return Int(v) } else { return nil }
        }).sorted().map(String.init).joined(separator: ", ")
        s += "<tr><td class=\"l\">seeds</td><td class=\"l\">\(seeds)</td></tr>"
        if !steps.isEmpty { s += "<tr><td class=\"l\">training steps</td><td class=\"l\">\(steps)</td></tr>" }
        let total = runs.map(\.seconds).filter { $0.isFinite }.reduce(0, +)
        s += "<tr><td class=\"l\">run time (sum of runs)</td><td class=\"l\">\(fixed(total, 1)) s</td></tr>"
        for c in Set(runs.map { $0.string("command") }).sorted() {
            s += "<tr><td class=\"l\">command</td><td class=\"l\"><code>\(html(c))</code></td></tr>"
        }
        return s + "</table>"
    }

    static func runTable(_ runs: [ReportRun]) -> String {
        let theory = runs.first?.method == "theory" || runs.contains { $0.method == "theory" }
        var s = "<table><tr><th class=\"l\">x</th><th class=\"l\">method</th><th>seed</th>"
        let columns = ["psnr", "ssim", "colour_ssim", "cross_colour_ssim", "fitted_psnr_channel", "fitted_psnr_matrix"]
        s += columns.map { "<th>\(String($0.map { $0 == "_" ? " " : $0 }))</th>" }.joined()
        s += "<th>kept</th>"
        if theory { s += "<th>cosine</th><th>sd</th><th>predicted</th>" }
        s += "<th>s</th></tr>"
        for r in runs {
            s += "<tr><td class=\"l\">\(html(r.x))</td><td class=\"l\">\(html(r.method))</td><td>\(Int(r.seed))</td>"
            for c in columns {
                let v = r.metric(c)
                s += "<td>\(v.isFinite ? fixed(v, c.contains("psnr") ? 2 : 4) : "")</td>"
            }
            let kept = structureKept(r)
            s += "<td>\(kept.isFinite ? fixed(kept, 3) : "")</td>"
            if theory {
                for c in ["cosine", "cosine_sd", "predicted"] {
                    let v = r.metric(c)
                    s += "<td>\(v.isFinite ? fixed(v, 4) : "")</td>"
                }
            }
            s += "<td>\(fixed(r.seconds, 1))</td></tr>"
        }
        return s + "</table>"
    }

    static func jsonText(_ v: JSONValue) -> String {
        if case .string(let s) = v { return s }
        return (try? v.serialized()) ?? ""
    }
}

/// Standard base64 (RFC 4648, with padding).
func base64(_ bytes: [UInt8]) -> String {
    let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    var out = [UInt8]()
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i < bytes.count {
        let b0 = UInt32(bytes[i]), b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
        let v = b0 << 16 | b1 << 8 | b2
        out.append(table[Int(v >> 18 & 63)]); out.append(table[Int(v >> 12 & 63)])
        out.append(i + 1 < bytes.count ? table[Int(v >> 6 & 63)] : UInt8(ascii: "="))
        out.append(i + 2 < bytes.count ? table[Int(v & 63)] : UInt8(ascii: "="))
        i += 3
    }
    return String(decoding: out, as: UTF8.self)
}

/// Files under a folder whose names end in `suffix`, searched recursively, sorted.
func listFiles(in folder: String, suffix: String) throws -> [String] {
    var found: [String] = []
    var pending = [folder]
    while let dir = pending.popLast() {
        guard let handle = opendir(dir) else {
            throw RWCNNError.io("cannot read folder \(dir): \(String(cString: strerror(errno)))")
        }
        defer { closedir(handle) }
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name.hasPrefix(".") { continue }
            let path = dir.hasSuffix("/") ? dir + name : dir + "/" + name
            var st = stat()
            guard stat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR { pending.append(path) } else if name.hasSuffix(suffix) { found.append(path) }
        }
    }
    return found.sorted()
}
