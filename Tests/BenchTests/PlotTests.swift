@testable import Bench
import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Collects the elements of an SVG document as parsed by Foundation's XMLParser.
final class SVGElements: NSObject, XMLParserDelegate {
    struct Element {
        let name: String
        let attributes: [String: String]
        var text = ""
    }

    var elements: [Element] = []
    var root: String?
    private var open: [Int] = []

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if root == nil { root = name }
        elements.append(Element(name: name, attributes: attributes))
        open.append(elements.count - 1)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let i = open.last { elements[i].text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    /// Parses `svg`; nil when it is not well-formed XML.
    static func parse(_ svg: String) -> SVGElements? {
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = SVGElements()
        parser.delegate = collector
        return parser.parse() ? collector : nil
    }

    func first(id: String) -> Element? { elements.first { $0.attributes["id"] == id } }
}

@Suite struct PlotTests {
    static let latency = LatencySummary(count: 4000, p50: 850, p90: 2_400, p99: 9_800, p999: 18_500, max: 41_000, mean: 1_200)

    @Test func writesWellFormedSVGWithTheThroughputLineAndLatencyBars() throws {
        var timeline: [(seconds: Double, recordsPerSecond: Double)] = []
        for i in 1 ... 30 {
            let rate = 1_400_000 + Double(i % 7) * 30_000
            timeline.append((seconds: Double(i) / 10, recordsPerSecond: rate))
        }
        let plot = ThroughputPlot(
            title: "hypha bench throughput: native <batch> & acks", subtitle: "4,000,000 records", timeline: timeline,
            meanRate: 1_500_000, latency: Self.latency)
        let svg = plot.svg()
        let doc = try #require(SVGElements.parse(svg) as SVGElements?, "not well-formed XML:\n\(svg)")
        #expect(doc.root == "svg")
        #expect(doc.elements.first { $0.name == "title" }?.text == "hypha bench throughput: native <batch> & acks")

        let line = try #require(doc.first(id: "throughput"), "no throughput series")
        #expect(line.name == "polyline")
        let points = (line.attributes["points"] ?? "").split(separator: " ")
        #expect(points.count == 30 && line.attributes["data-points"] == "30")
        for p in points {
            let xy = p.split(separator: ",").compactMap { Double($0) }
            #expect(xy.count == 2 && xy[0] >= ThroughputPlot.left && xy[0] <= ThroughputPlot.right, "point \(p) inside the plot area")
        }
        #expect(doc.first(id: "throughput-mean")?.name == "line")

        let bars = doc.elements.filter { $0.name == "rect" && $0.attributes["class"] == "bar" }
        #expect(bars.map { $0.attributes["data-label"] ?? "" } == ["p50", "p90", "p99", "p99.9", "max"])
        #expect(bars.map { Double($0.attributes["data-value"] ?? "") ?? -1 } == [850, 2_400, 9_800, 18_500, 41_000])
        let heights = bars.map { Double($0.attributes["height"] ?? "") ?? -1 }
        #expect(heights == heights.sorted() && heights.allSatisfy { $0 > 0 }, "taller bars for higher percentiles: \(heights)")

        let texts = doc.elements.filter { $0.name == "text" }.map { (e: SVGElements.Element) in e.text }
        for label in ["time since the load started (s)", "records/s", "latency", "p99.9", "9.8 ms", "850 µs", "mean 1.50 M records/s"] {
            #expect(texts.contains(label), "axis or bar label \(label) in \(texts)")
        }
    }

    @Test func withoutLatencyOrTimelineItIsStillAValidDocument() throws {
        let onlyRate = ThroughputPlot(title: "syslog", subtitle: "", timeline: [(0.1, 10), (0.2, 20)], latency: nil)
        let a = try #require(SVGElements.parse(onlyRate.svg()))
        #expect(a.first(id: "throughput") != nil && a.first(id: "latency") == nil)

        let onlyLatency = ThroughputPlot(title: "target", subtitle: "", timeline: [], latency: Self.latency)
        let b = try #require(SVGElements.parse(onlyLatency.svg()))
        #expect(b.first(id: "throughput") == nil && b.first(id: "latency") != nil)
        #expect(b.elements.contains { $0.name == "text" && $0.text.hasPrefix("No throughput timeline") })
    }

    @Test func ticksAndLabelsAreRound() {
        #expect(ThroughputPlot.niceTicks(upTo: 1_530_000) == [0, 500_000, 1_000_000, 1_500_000, 2_000_000])
        #expect(ThroughputPlot.niceTicks(upTo: 2.7) == [0, 1, 2, 3])
        #expect(ThroughputPlot.label(1.5, step: 0.5) == "1.5" && ThroughputPlot.label(2, step: 0.5) == "2.0" && ThroughputPlot.label(0.75, step: 0.25) == "0.75")
        #expect(ThroughputPlot.rateLabel(500_000) == "500 k" && ThroughputPlot.rateLabel(1_500_000) == "1.5 M" && ThroughputPlot.rateLabel(2_000_000) == "2 M")
        #expect(ThroughputPlot.duration(850) == "850 µs" && ThroughputPlot.duration(12_345) == "12 ms" && ThroughputPlot.duration(1_500_000) == "1.50 s")
        #expect(Format.grouped(1_234_567) == "1,234,567" && Format.fixed(0.5849, 3) == "0.585" && Format.rate(1_520_000) == "1.52 M")
        #expect(ProgressLine.throughputText(label: "syslog", durable: 500, total: 1000, rate: 1_500_000, elapsed: 1.25)
            == "syslog  500 / 1,000 durable (50.0%)  1.50 M rec/s  1.3 s")
    }
}
