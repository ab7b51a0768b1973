/// The answer to a query, shaped as the Prometheus HTTP API answers (`resultType`).
public enum QueryResult: Sendable {
    /// An instant query's scalar: its time (ms) and value.
    case scalar(timestamp: Int64, value: Double)
    /// An instant query's vector: one sample per series.
    case vector([InstantSample])
    /// A range query's answer, or an instant query of a range selector: points per series.
    case matrix([RangeSeries])

    /// `scalar`, `vector` or `matrix`.
    public var resultType: String {
        switch self {
        case .scalar: "scalar"
        case .vector: "vector"
        case .matrix: "matrix"
        }
    }
}

/// One series' value at an instant.
public struct InstantSample: Sendable {
    public var labels: Labels
    /// Milliseconds since the Unix epoch.
    public var timestamp: Int64
    public var value: Double

    public init(labels: Labels, timestamp: Int64, value: Double) {
        self.labels = labels
        self.timestamp = timestamp
        self.value = value
    }
}

/// One series' points over a time range.
public struct RangeSeries: Sendable {
    public var labels: Labels
    /// (milliseconds since the Unix epoch, value), ascending by time.
    public var points: [(timestamp: Int64, value: Double)]

    public init(labels: Labels, points: [(timestamp: Int64, value: Double)]) {
        self.labels = labels
        self.points = points
    }
}

/// Prometheus' spellings of numbers and times in its JSON.
public enum PrometheusFormat {
    /// A sample value as the API writes it (Go's `FormatFloat(v, 'f', -1, 64)`): the shortest
    /// decimal that reads back as `v`, never in exponent form; `NaN`, `+Inf`, `-Inf`.
    public static func value(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == 0 { return v.sign == .minus ? "-0" : "0" }
        let text = "\(v)"
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parts = body.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1)
        var digits = String(mantissa[0]) + (mantissa.count == 2 ? String(mantissa[1]) : "")
        var point = mantissa[0].count + exponent
        while digits.count > 1, digits.hasPrefix("0"), point > 1 {
            digits.removeFirst()
            point -= 1
        }
        var out: String
        if point <= 0 {
            out = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            out = digits + String(repeating: "0", count: point - digits.count)
        } else {
            out = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
        }
        if out.contains(".") {
            while out.hasSuffix("0") { out.removeLast() }
            if out.hasSuffix(".") { out.removeLast() }
        }
        return (negative ? "-" : "") + out
    }

    /// A time (ms) as the API writes it: Unix seconds with up to three decimals.
    public static func time(_ milliseconds: Int64) -> String {
        let negative = milliseconds < 0
        let m = milliseconds.magnitude
        var out = "\(m / 1000)"
        let fraction = m % 1000
        if fraction != 0 {
            var decimals = String(fraction)
            decimals = String(repeating: "0", count: 3 - decimals.count) + decimals
            while decimals.hasSuffix("0") { decimals.removeLast() }
            out += "." + decimals
        }
        return (negative ? "-" : "") + out
    }
}
