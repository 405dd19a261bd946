#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Plots for the study report, written as SVG text by the engine itself: the
// report then needs no plotting library in any language (the CLI stays a
// single static binary, CI needs nothing beyond a browser to check it), and
// the figures are exact vector drawings of the recorded numbers.

/// One line of a plot: values per x position (several for a seed spread;
/// empty where the run has no value).
struct PlotSeries {
    var name: String
    var values: [[Double]]
    var dashed = false
    /// Only the whiskers (a band such as ± 1 sd), no line or markers.
    var whiskersOnly = false
}

/// Rough width in pixels of `text` in a sans-serif font of `size` pixels
/// (0.6 em per character; bold slightly wider): enough to lay out titles
/// and legends without a font engine.
func textWidth(_ text: String, size: Double, bold: Bool = false) -> Double {
    Double(text.count) * size * (bold ? 0.64 : 0.58)
}

/// Words of `text` in lines at most `width` pixels wide.
func wrapped(_ text: String, width: Double, size: Double, bold: Bool = false) -> [String] {
    var lines: [String] = [], current = ""
    for word in text.split(separator: " ") {
        let candidate = current.isEmpty ? String(word) : current + " " + word
        if !current.isEmpty, textWidth(candidate, size: size, bold: bold) > width {
            lines.append(current)
            current = String(word)
        } else {
            current = candidate
        }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
}

/// A line plot with markers: the mean of each x position's values joined by
/// a line, with a whisker from their minimum to their maximum when there are
/// several. `xValues` (positive, log2 axis) or else evenly spaced categories,
/// both inset from the frame so markers and whisker caps stay inside it.
/// Titles wrap (the plot grows), the legend column is as wide as its
/// longest name.
func svgPlot(title: String, yLabel: String, xLabel: String, xLabels: [String], xValues: [Double]? = nil,
             series: [PlotSeries]) -> String {
    let legendWidth = max(90, (series.map { textWidth($0.name, size: 11) }.max() ?? 0) + 44)
    let left = 58.0, right = legendWidth, bottom = 44.0, plotH = 228.0, plotW = 372.0
    let width = left + plotW + right
    let titleLines = wrapped(title, width: width - 16, size: 13, bold: true)
    let top = 12 + 16 * Double(titleLines.count)
    let height = top + plotH + bottom
    let palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]
    let all = series.flatMap { $0.values.flatMap { $0 } }.filter { $0.isFinite }
    var lo = all.min() ?? 0, hi = all.max() ?? 1
    if hi - lo < 1e-9 { lo -= 0.5; hi += 0.5 }
    // A margin of 5 % of the range, so markers at the extremes sit inside the frame.
    let margin = 0.05 * (hi - lo)
    lo -= margin; hi += margin
    let ticks = niceTicks(lo, hi).filter { $0 >= lo - 1e-12 * (hi - lo) && $0 <= hi + 1e-12 * (hi - lo) }
    func y(_ v: Double) -> Double { top + plotH * (1 - (v - lo) / (hi - lo)) }
    let n = xLabels.count
    func x(_ i: Int) -> Double {
        if let xs = xValues, xs.count == n, n > 1, let a = xs.first, let b = xs.last, a > 0, b > a {
            return left + plotW * (0.04 + 0.92 * (log2(xs[i]) - log2(a)) / (log2(b) - log2(a)))
        }
        return n <= 1 ? left + plotW / 2 : left + plotW * (0.04 + 0.92 * Double(i) / Double(n - 1))
    }
    func f(_ v: Double) -> String { fixed(v, 1) }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(html(title))\">"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>"
    for (i, line) in titleLines.enumerated() {
        s += "<text x=\"8\" y=\"\(f(17 + 16 * Double(i)))\" font-size=\"13\" font-weight=\"bold\">\(html(line))</text>"
    }
    for t in ticks {
        s += "<line x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y(t)))\" y2=\"\(f(y(t)))\" stroke=\"#e4e4e4\"/>"
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(t) + 4))\" font-size=\"11\" text-anchor=\"end\">\(tickLabel(t, ticks))</text>"
    }
    s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#888\"/>"
    for (i, label) in xLabels.enumerated() {
        s += "<text x=\"\(f(x(i)))\" y=\"\(f(top + plotH + 16))\" font-size=\"11\" text-anchor=\"middle\">\(html(label))</text>"
    }
    s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 6))\" font-size=\"12\" text-anchor=\"middle\">\(html(xLabel))</text>"
    s += "<text transform=\"translate(14 \(f(top + plotH / 2))) rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">\(html(yLabel))</text>"
    for (k, line) in series.enumerated() {
        let colour = palette[k % palette.count]
        var points: [(Double, Double)] = []
        for (i, values) in line.values.enumerated() where i < n {
            let v = values.filter { $0.isFinite }
            guard !v.isEmpty else { continue }
            let mean = v.reduce(0, +) / Double(v.count)
            points.append((x(i), y(mean)))
            if v.count > 1, let a = v.min(), let b = v.max() {
                s += "<line x1=\"\(f(x(i)))\" x2=\"\(f(x(i)))\" y1=\"\(f(y(a)))\" y2=\"\(f(y(b)))\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>"
                for e in [a, b] {
                    s += "<line x1=\"\(f(x(i) - 4))\" x2=\"\(f(x(i) + 4))\" y1=\"\(f(y(e)))\" y2=\"\(f(y(e)))\" stroke=\"\(colour)\"/>"
                }
            }
        }
        if line.whiskersOnly { points = [] }
        if points.count > 1 {
            let d = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
            s += "<polyline points=\"\(d)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
        }
        for p in points { s += "<circle cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"3.5\" fill=\"\(colour)\"/>" }
        let ly = top + 10 + Double(k) * 18
        if line.whiskersOnly {  // a small whisker as its legend mark
            s += "<line x1=\"\(f(left + plotW + 20))\" x2=\"\(f(left + plotW + 20))\" y1=\"\(f(ly - 6))\" y2=\"\(f(ly + 6))\" stroke=\"\(colour)\" stroke-width=\"1.5\"/>"
        } else {
            s += "<line x1=\"\(f(left + plotW + 10))\" x2=\"\(f(left + plotW + 30))\" y1=\"\(f(ly))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"2\"\(line.dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
        }
        s += "<text x=\"\(f(left + plotW + 34))\" y=\"\(f(ly + 4))\" font-size=\"11\">\(html(line.name))</text>"
    }
    return s + "</svg>"
}

/// About five round tick values covering [lo, hi].
func niceTicks(_ lo: Double, _ hi: Double) -> [Double] {
    let raw = (hi - lo) / 5
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var t = (lo / step).rounded(.down) * step
    var out: [Double] = []
    while t <= hi + step * 0.5, out.count < 20 {
        out.append(t)
        t += step
    }
    return out
}

private func tickLabel(_ v: Double, _ ticks: [Double]) -> String {
    let step = ticks.count > 1 ? ticks[1] - ticks[0] : 1
    let digits = max(0, min(4, Int((-log10(step)).rounded(.up)) + (step * pow(10, (-log10(step)).rounded(.up)) == 2.5 ? 1 : 0)))
    return fixed(abs(v) < step * 1e-6 ? 0 : v, digits)
}

/// Text escaped for HTML and SVG.
func html(_ s: String) -> String {
    var out = ""
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}

/// v with `digits` decimals (no locale), e.g. fixed(3.14159, 2) = "3.14".
func fixed(_ v: Double, _ digits: Int) -> String {
    guard v.isFinite else { return v.isNaN ? "–" : (v > 0 ? "∞" : "-∞") }
    let scale = pow(10, Double(digits))
    let r = (abs(v) * scale).rounded()
    let whole = Int(r / scale), frac = Int(r - Double(whole) * scale)
    let sign = v < 0 && r != 0 ? "-" : ""
    if digits == 0 { return sign + String(whole) }
    let f = String(frac)
    return sign + String(whole) + "." + String(repeating: "0", count: digits - f.count) + f
}
