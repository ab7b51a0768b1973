/// A series' identity: label names and values sorted by name (byte order), the metric name
/// under `__name__`, no empty values and no repeated names.
public struct Labels: Hashable, Sendable, CustomStringConvertible {
    /// The label that holds the metric name.
    public static let metricName = "__name__"

    /// The pairs, sorted by name.
    public private(set) var pairs: [(name: String, value: String)]

    /// Labels from `pairs` in any order; empty values are dropped and, of two pairs with one
    /// name, the first is kept.
    public init(_ pairs: [(String, String)]) {
        var sorted: [(name: String, value: String)] = []
        sorted.reserveCapacity(pairs.count)
        for (name, value) in pairs where !value.isEmpty && !sorted.contains(where: { $0.name == name }) {
            sorted.append((name, value))
        }
        sorted.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        self.pairs = sorted
    }

    /// The value of `name`, or `""` when the label is absent (as PromQL matchers see it).
    public subscript(name: String) -> String {
        pairs.first(where: { $0.name == name })?.value ?? ""
    }

    /// The metric name, `""` when there is none.
    public var name: String { self[Self.metricName] }

    /// These labels without `__name__`.
    public var droppingName: Labels { keeping { $0 != Self.metricName } }

    /// These labels restricted to the names `include` accepts.
    public func keeping(_ include: (String) -> Bool) -> Labels {
        var copy = self
        copy.pairs.removeAll { !include($0.name) }
        return copy
    }

    public static func == (a: Labels, b: Labels) -> Bool {
        a.pairs.count == b.pairs.count && a.pairs.elementsEqual(b.pairs, by: { $0.name == $1.name && $0.value == $1.value })
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(pairs.count)
        for pair in pairs {
            hasher.combine(pair.name)
            hasher.combine(pair.value)
        }
    }

    /// `name{a="x", b="y"}` as Prometheus prints a series.
    public var description: String {
        let rest = pairs.filter { $0.name != Self.metricName }.map { "\($0.name)=\"\(Self.escaped($0.value))\"" }
        return name + (rest.isEmpty && !name.isEmpty ? "" : "{" + rest.joined(separator: ", ") + "}")
    }

    private static func escaped(_ value: String) -> String {
        value.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"").replacingOccurrences("\n", "\\n")
    }
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: String) -> String {
        guard contains(target) else { return self }
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

/// How Hypha's metric samples become Prometheus series (docs/promql.md, "Metrics").
public enum PrometheusNames {
    /// A metric name as Prometheus allows it, `[a-zA-Z_:][a-zA-Z0-9_:]*`: every other character
    /// becomes `_` (Graphite's `servers.web1.cpu` → `servers_web1_cpu`), and a name that starts
    /// with a digit gets a leading `_`.
    public static func metricName(_ name: String) -> String { sanitized(name, colons: true) }

    /// A label name as Prometheus allows it, `[a-zA-Z_][a-zA-Z0-9_]*`, by the same rule.
    public static func labelName(_ name: String) -> String { sanitized(name, colons: false) }

    /// The series of a sample named `name` with `labels` (in the order received): the mapped
    /// name under `__name__`, mapped label names, empty values and a label that maps to
    /// `__name__` dropped, and of two labels that map to one name the first kept.
    public static func labels(name: String, labels: [(String, String)]) -> Labels {
        var pairs: [(String, String)] = [(Labels.metricName, metricName(name))]
        for (key, value) in labels {
            let mapped = labelName(key)
            if mapped != Labels.metricName { pairs.append((mapped, value)) }
        }
        return Labels(pairs)
    }

    private static func sanitized(_ name: String, colons: Bool) -> String {
        var out = ""
        for scalar in name.unicodeScalars {
            let ok = scalar.isASCII && (scalar.properties.isAlphabetic || ("0" ... "9").contains(scalar) || scalar == "_" || (colons && scalar == ":"))
            out.unicodeScalars.append(ok ? scalar : "_")
        }
        if out.isEmpty { return "_" }
        if let first = out.unicodeScalars.first, ("0" ... "9").contains(first) { out = "_" + out }
        return out
    }
}
