#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A plain SVG chart of a throughput run, written by hand (no dependencies, no browser):
/// records/s over time from the node's durable-record counter, and for the native protocol the
/// ACK latency percentiles (p50, p90, p99, p99.9, max) as bars on a logarithmic axis.
///
/// The document is self-contained SVG 1.1. Each series is addressable for tools and tests:
/// the throughput line is `<polyline id="throughput">`, its mean `<line id="throughput-mean">`,
/// the latency bars `<g id="latency">` with one `<rect class="bar" data-label="p99"
/// data-value="…">` per percentile.
///
/// ```swift
/// let plot = ThroughputPlot(title: "syslog → hypha", subtitle: "2 connections",
///                           timeline: [(0.1, 1.4e6), (0.2, 1.6e6)], latency: nil)
/// try plot.svg().write(toFile: "run.svg", atomically: true, encoding: .utf8)
/// ```
public struct ThroughputPlot: Sendable {
    public var title: String
    public var subtitle: String
    /// `(seconds since the load started, records/s over the sample ending then)`.
    public var timeline: [(seconds: Double, recordsPerSecond: Double)]
    /// Drawn as a dashed line when given (records/s over the whole run).
    public var meanRate: Double?
    public var latency: LatencySummary?

    public init(
        title: String, subtitle: String, timeline: [(seconds: Double, recordsPerSecond: Double)],
        meanRate: Double? = nil, latency: LatencySummary?
    ) {
        self.title = title
        self.subtitle = subtitle
        self.timeline = timeline
        self.meanRate = meanRate
        self.latency = latency
    }

    static let width = 960.0
    static let left = 100.0
    static let right = 920.0
    static let panelHeight = 260.0

    /// The SVG document.
    public func svg() -> String {
        var body = ""
        var y = 100.0
        if timeline.isEmpty {
            body += text(x: Self.left, y: y + 20, "No throughput timeline (no durable-record counter in --target mode).", size: 13, anchor: "start")
            y += 50
        } else {
            body += throughputPanel(top: y)
            y += Self.panelHeight + 100
        }
        if let latency, latency.count > 0 {
            body += latencyPanel(latency, top: y)
            y += Self.panelHeight + 90
        }
        let height = y
        var out = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(n(Self.width))" height="\(n(height))" viewBox="0 0 \(n(Self.width)) \(n(height))" font-family="Helvetica, Arial, sans-serif">

            """
        out += "<title>\(escape(title))</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(n(Self.width))\" height=\"\(n(height))\" fill=\"#ffffff\"/>\n"
        out += text(x: Self.width / 2, y: 30, title, size: 18, weight: "bold")
        out += text(x: Self.width / 2, y: 52, subtitle, size: 12, fill: "#555555")
        out += body
        out += "</svg>\n"
        return out
    }

    // MARK: Panels

    private func throughputPanel(top: Double) -> String {
        let bottom = top + Self.panelHeight
        let maxT = max(timeline.map(\.seconds).max() ?? 1, 1e-3)
        let maxR = max(timeline.map(\.recordsPerSecond).max() ?? 1, meanRate ?? 0, 1)
        let xTicks = Self.niceTicks(upTo: maxT)
        let yTicks = Self.niceTicks(upTo: maxR * 1.05)
        let xMax = xTicks.last ?? maxT
        let yMax = yTicks.last ?? maxR
        func px(_ t: Double) -> Double { Self.left + (Self.right - Self.left) * t / xMax }
        func py(_ r: Double) -> Double { bottom - Self.panelHeight * r / yMax }

        var s = "<g id=\"throughput-panel\">\n"
        s += text(x: Self.left, y: top - 12, "Throughput: records made durable per second (100 ms samples)", size: 14, weight: "bold", anchor: "start")
        for v in yTicks {
            s += line(Self.left, py(v), Self.right, py(v), stroke: "#e5e5e5")
            s += text(x: Self.left - 8, y: py(v) + 4, Self.rateLabel(v), size: 11, anchor: "end")
        }
        for v in xTicks {
            s += line(px(v), bottom, px(v), bottom + 5, stroke: "#333333")
            s += text(x: px(v), y: bottom + 20, Self.label(v, step: xTicks.count > 1 ? xTicks[1] : 1), size: 11)
        }
        s += axes(top: top, bottom: bottom)
        s += text(x: (Self.left + Self.right) / 2, y: bottom + 42, "time since the load started (s)", size: 12)
        s += verticalText(x: 28, y: (top + bottom) / 2, "records/s")
        let points = timeline.map { "\(n(px($0.seconds))),\(n(py($0.recordsPerSecond)))" }.joined(separator: " ")
        s += "<polyline id=\"throughput\" class=\"series\" data-points=\"\(timeline.count)\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(points)\"/>\n"
        if let meanRate {
            s += "<line id=\"throughput-mean\" x1=\"\(n(Self.left))\" y1=\"\(n(py(meanRate)))\" x2=\"\(n(Self.right))\" y2=\"\(n(py(meanRate)))\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
            s += text(x: Self.right - 4, y: py(meanRate) - 6, "mean \(Format.rate(meanRate)) records/s", size: 11, fill: "#d62728", anchor: "end")
        }
        s += "</g>\n"
        return s
    }

    private func latencyPanel(_ latency: LatencySummary, top: Double) -> String {
        let bottom = top + Self.panelHeight
        let bars = latency.bars
        let hi = max(bars.map(\.microseconds).max() ?? 1, 1)
        let lo = max(1, min(bars.map(\.microseconds).filter { $0 > 0 }.min() ?? 1, hi))
        let decadeLo = Self.floorLog10(lo)
        let decadeHi = max(decadeLo + 1, Self.floorLog10(hi) + 1)
        func py(_ us: Double) -> Double {
            let v = Swift.max(us, Self.pow10(decadeLo))
            return bottom - Self.panelHeight * (log10(v) - Double(decadeLo)) / Double(decadeHi - decadeLo)
        }

        var s = "<g id=\"latency-panel\">\n"
        s += text(x: Self.left, y: top - 12, "ACK latency per batch: send → ACK (\(Format.grouped(Int(latency.count))) batches, log scale)", size: 14, weight: "bold", anchor: "start")
        for d in decadeLo ... decadeHi {
            let v = Self.pow10(d)
            s += line(Self.left, py(v), Self.right, py(v), stroke: "#e5e5e5")
            s += text(x: Self.left - 8, y: py(v) + 4, Self.duration(v), size: 11, anchor: "end")
        }
        s += axes(top: top, bottom: bottom)
        s += verticalText(x: 28, y: (top + bottom) / 2, "latency")
        s += "<g id=\"latency\" class=\"series\">\n"
        let slot = (Self.right - Self.left) / Double(bars.count)
        for (i, bar) in bars.enumerated() {
            let x = Self.left + slot * Double(i) + slot * 0.2
            let w = slot * 0.6
            let yTop = py(bar.microseconds)
            s += "<rect class=\"bar\" data-label=\"\(bar.label)\" data-value=\"\(n(bar.microseconds))\" x=\"\(n(x))\" y=\"\(n(yTop))\" width=\"\(n(w))\" height=\"\(n(max(0, bottom - yTop)))\" fill=\"#ff7f0e\"/>\n"
            s += text(x: x + w / 2, y: yTop - 6, Self.duration(bar.microseconds), size: 11)
            s += text(x: x + w / 2, y: bottom + 20, bar.label, size: 12)
        }
        s += "</g>\n</g>\n"
        return s
    }

    // MARK: Drawing helpers

    private func axes(top: Double, bottom: Double) -> String {
        line(Self.left, top, Self.left, bottom, stroke: "#333333") + line(Self.left, bottom, Self.right, bottom, stroke: "#333333")
    }

    private func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String) -> String {
        "<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\" stroke-width=\"1\"/>\n"
    }

    private func text(
        x: Double, y: Double, _ content: String, size: Int, weight: String = "normal", fill: String = "#222222", anchor: String = "middle"
    ) -> String {
        "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(fill)\" text-anchor=\"\(anchor)\">\(escape(content))</text>\n"
    }

    private func verticalText(x: Double, y: Double, _ content: String) -> String {
        "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"12\" fill=\"#222222\" text-anchor=\"middle\" transform=\"rotate(-90 \(n(x)) \(n(y)))\">\(escape(content))</text>\n"
    }

    /// Escapes text for XML character data and attribute values.
    func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters even escaped.
                if c.value < 0x20, c != "\n", c != "\t" { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A coordinate with at most two decimals.
    private func n(_ x: Double) -> String { Format.fixed(x, x == x.rounded() ? 0 : 2) }

    // MARK: Scales

    /// Round tick values from 0 to at least `maximum` (about five steps of 1, 2 or 5 × 10^k).
    static func niceTicks(upTo maximum: Double) -> [Double] {
        guard maximum > 0, maximum.isFinite else { return [0, 1] }
        let raw = maximum / 5
        let magnitude = pow10(floorLog10(raw))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [Double] = []
        var v = 0.0
        while v < maximum + step * 0.999 {
            ticks.append(v)
            if v >= maximum { break }
            v += step
        }
        return ticks
    }

    static func floorLog10(_ x: Double) -> Int { Int(log10(x).rounded(.down)) }

    static func pow10(_ k: Int) -> Double {
        var v = 1.0
        if k >= 0 { for _ in 0 ..< k { v *= 10 } } else { for _ in 0 ..< -k { v /= 10 } }
        return v
    }

    /// A tick value with as many decimals as its step needs (`0.5` → `1.5`, `0.25` → `0.75`).
    static func label(_ v: Double, step: Double) -> String {
        var decimals = 0
        var scaled = step
        while decimals < 6, (scaled - scaled.rounded()).magnitude > 1e-9 * max(1, scaled) {
            scaled *= 10
            decimals += 1
        }
        return Format.fixed(v, decimals)
    }

    /// A records/s tick without trailing zeros: `0`, `500 k`, `1.5 M`, `2 M`.
    static func rateLabel(_ v: Double) -> String {
        func trimmed(_ x: Double) -> String {
            var t = Format.fixed(x, 2)
            while t.contains("."), t.hasSuffix("0") { t.removeLast() }
            if t.hasSuffix(".") { t.removeLast() }
            return t
        }
        if v >= 1e6 { return trimmed(v / 1e6) + " M" }
        if v >= 1e3 { return trimmed(v / 1e3) + " k" }
        return trimmed(v)
    }

    /// Microseconds as `850 µs`, `12.5 ms`, `1.20 s`.
    static func duration(_ us: Double) -> String {
        if us >= 1_000_000 { return Format.fixed(us / 1_000_000, 2) + " s" }
        if us >= 1000 { return Format.fixed(us / 1000, us >= 10_000 ? 0 : 1) + " ms" }
        return Format.fixed(us, 0) + " µs"
    }
}
