import XCTest
@testable import RWCNN

/// The report's plots: long titles wrap inside the figure, markers and
/// whiskers stay inside the frame (also at the ends of a log axis), long
/// legend names widen the figure.
final class SVGPlotTests: XCTestCase {
    /// The attribute values of every `<tag ...>` element of an SVG string.
    private func elements(_ svg: String, _ tag: String) -> [[String: String]] {
        var out: [[String: String]] = []
        for part in svg.components(separatedBy: "<" + tag + " ").dropFirst() {
            let head = part.prefix { $0 != ">" }
            var attributes: [String: String] = [:]
            for pair in head.components(separatedBy: "\" ") {
                let kv = pair.components(separatedBy: "=\"")
                if kv.count == 2 { attributes[kv[0].trimmingCharacters(in: .whitespaces)] = kv[1].replacingOccurrences(of: "\"", with: "").replacingOccurrences(of: "/", with: "") }
            }
            out.append(attributes)
        }
        return out
    }

    private func number(_ e: [String: String], _ key: String) -> Double { Double(e[key] ?? "") ?? .nan }

    func testMarksStayInsideTheFrameAndLongTitlesWrap() {
        let title = "Colour-invariant SSIM against weight distribution (scale He unless stated), a title far longer than the figure"
        let ns = ["8", "64", "512", "4096"]
        let svg = svgPlot(title: title, yLabel: "cosine", xLabel: "N", xLabels: ns, xValues: ns.map { Double($0)! },
                          series: [PlotSeries(name: "measured", values: [[0.3], [0.7], [0.95], [0.99]]),
                                   PlotSeries(name: "± 1 sd, a rather long legend entry", values: [[0.1, 0.5], [0.6, 0.8], [0.9, 1], [0.98, 1]],
                                              whiskersOnly: true)])
        let svgWidth = number(elements(svg, "svg")[0], "width")
        let frame = elements(svg, "rect").first { $0["stroke"] != nil }!
        let (x0, y0) = (number(frame, "x"), number(frame, "y"))
        let (x1, y1) = (x0 + number(frame, "width"), y0 + number(frame, "height"))

        let titleLines = elements(svg, "text").filter { $0["font-weight"] == "bold" }
        XCTAssertGreaterThan(titleLines.count, 1, "a long title wraps")
        let titleTexts = svg.components(separatedBy: "font-weight=\"bold\">").dropFirst().map { $0.prefix { $0 != "<" } }
        for line in titleTexts { XCTAssertLessThanOrEqual(textWidth(String(line), size: 13, bold: true), svgWidth - 8, String(line)) }
        XCTAssertGreaterThan(y0, 16 * Double(titleLines.count), "the frame starts below the title")

        let circles = elements(svg, "circle")
        XCTAssertEqual(circles.count, 4, "whisker-only series draw no markers")
        for c in circles {
            XCTAssertGreaterThan(number(c, "cx") - 3.5, x0); XCTAssertLessThan(number(c, "cx") + 3.5, x1)
            XCTAssertGreaterThan(number(c, "cy") - 3.5, y0); XCTAssertLessThan(number(c, "cy") + 3.5, y1)
        }
        // Whiskers and their caps (lines of the series colours), not grid lines or legend marks.
        let legendX = x1 + 5
        for l in elements(svg, "line") where l["stroke"] != "#e4e4e4" && number(l, "x1") < legendX {
            for k in ["x1", "x2"] { XCTAssertGreaterThan(number(l, k), x0, "\(l)"); XCTAssertLessThan(number(l, k), x1, "\(l)") }
            for k in ["y1", "y2"] { XCTAssertGreaterThanOrEqual(number(l, k), y0, "\(l)"); XCTAssertLessThanOrEqual(number(l, k), y1, "\(l)") }
        }
        XCTAssertEqual(elements(svg, "polyline").count, 1, "only the measured series is a line")
        // The legend column fits its longest name.
        XCTAssertGreaterThanOrEqual(svgWidth, x1 + 34 + textWidth("± 1 sd, a rather long legend entry", size: 11))
    }
}
