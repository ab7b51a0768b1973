/// How urgent an alert is. Encodes as `"critical"`, `"warning"` or `"info"`.
public enum AlertSeverity: String, Sendable, Codable, CaseIterable {
    /// Someone must act now.
    case critical
    /// Someone should look soon.
    case warning
    /// For the record.
    case info
}

/// One label condition of a metric selector (`match:` in a rule) or of a log selector's
/// `source`/`app`.
///
/// Written in YAML as a string: `value` (equal), `"!=value"` (not equal), `"~regex"` (the whole
/// value matches), `"!~regex"` (does not match), `"=value"` (equal, for values that start with
/// `~` or `!`). A label the sample does not carry has the value `""`.
public struct LabelMatcher: Sendable, Equatable, CustomStringConvertible {
    /// How ``value`` is compared.
    public enum Operator: String, Sendable, Equatable {
        /// The label value is exactly ``LabelMatcher/value``.
        case equal = "="
        /// The label value is anything else.
        case notEqual = "!="
        /// The whole label value matches the regular expression.
        case matches = "~"
        /// The whole label value does not match it.
        case notMatches = "!~"
    }

    /// The label this matcher reads.
    public let label: String
    /// How the value is compared.
    public let op: Operator
    /// The literal or the regular expression (without the operator prefix).
    public let value: String
    let regex: CompiledRegex?

    /// A matcher. For ``Operator/matches`` and ``Operator/notMatches`` `value` must be a valid
    /// regular expression; it is matched against the whole label value.
    /// - Throws: the regular expression's parse error.
    public init(label: String, op: Operator, value: String) throws {
        self.label = label
        self.op = op
        self.value = value
        switch op {
        case .equal, .notEqual: regex = nil
        case .matches, .notMatches: regex = try CompiledRegex(value)
        }
    }

    /// Parses the YAML string form (`"~web-.*"`, `"!=dev"`, `"prod"`).
    /// - Throws: when a regular expression does not compile.
    public init(label: String, parsing text: String) throws {
        if text.hasPrefix("!~") {
            try self.init(label: label, op: .notMatches, value: String(text.dropFirst(2)))
        } else if text.hasPrefix("!=") {
            try self.init(label: label, op: .notEqual, value: String(text.dropFirst(2)))
        } else if text.hasPrefix("~") {
            try self.init(label: label, op: .matches, value: String(text.dropFirst()))
        } else if text.hasPrefix("=") {
            try self.init(label: label, op: .equal, value: String(text.dropFirst()))
        } else {
            try self.init(label: label, op: .equal, value: text)
        }
    }

    /// Whether a label value satisfies this matcher (no cache: for tests and the API).
    public func matches(_ labelValue: String) -> Bool {
        switch op {
        case .equal: labelValue == value
        case .notEqual: labelValue != value
        case .matches: regex!.wholeMatches(labelValue)
        case .notMatches: !regex!.wholeMatches(labelValue)
        }
    }

    /// The YAML string form.
    public var description: String {
        switch op {
        case .equal: value.hasPrefix("~") || value.hasPrefix("!") || value.hasPrefix("=") ? "=" + value : value
        case .notEqual: "!=" + value
        case .matches: "~" + value
        case .notMatches: "!~" + value
        }
    }

    /// Same label, operator and value text.
    public static func == (a: LabelMatcher, b: LabelMatcher) -> Bool {
        a.label == b.label && a.op == b.op && a.value == b.value
    }
}

/// A compiled regular expression, shared read-only between threads.
///
/// `Regex` is not `Sendable` in the standard library; matching does not mutate it, and every
/// match in the alert engine happens under the engine's input lock anyway.
final class CompiledRegex: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>
    init(_ pattern: String) throws { regex = try Regex(pattern) }
    func wholeMatches(_ s: String) -> Bool { (try? regex.wholeMatch(in: s)) != nil }
}

/// Which metric samples a rule reads: one metric name plus label matchers.
public struct MetricSelector: Sendable, Equatable {
    /// The metric name, compared exactly.
    public var metric: String
    /// Every matcher must hold.
    public var matchers: [LabelMatcher]

    /// Samples named `metric` that pass every matcher.
    public init(metric: String, matchers: [LabelMatcher] = []) {
        self.metric = metric
        self.matchers = matchers
    }
}

/// Which log records a rule reads. Every field that is set must hold; a record whose severity
/// is unknown never passes ``severityAtMost``.
public struct LogSelector: Sendable, Equatable {
    /// Matcher on the record's source host (the label name is `source`).
    public var source: LabelMatcher?
    /// Syslog severity ceiling: 0 (emergency) … 7 (debug); `3` selects error and worse.
    public var severityAtMost: UInt8?
    /// A substring the message must contain (case-sensitive, byte-wise).
    public var contains: String?
    /// Matcher on the record's application name (the label name is `app`).
    public var app: LabelMatcher?

    /// Records passing every given filter (none: every record).
    public init(source: LabelMatcher? = nil, severityAtMost: UInt8? = nil, contains: String? = nil, app: LabelMatcher? = nil) {
        self.source = source
        self.severityAtMost = severityAtMost
        self.contains = contains
        self.app = app
    }

    /// The labels a log rule may group by.
    public static let groupableLabels: Set<String> = ["source", "app", "severity"]
}

/// What a rule reads: metric samples or log records.
public enum AlertSelector: Sendable, Equatable {
    /// Metric samples of one name.
    case metric(MetricSelector)
    /// Log records.
    case logs(LogSelector)
}

/// How the values in a window become one number.
///
/// | aggregation | metric rules | log rules |
/// |---|---|---|
/// | `avg`, `min`, `max`, `sum` | of the sample values | — |
/// | `count` | number of samples | number of records |
/// | `rate` | per-second increase of counters: the increases between consecutive samples of each series (a drop counts as a reset), summed over the window and divided by its length | records per second: `count / window` |
/// | `last` | value of the newest sample | — |
/// | `p50`, `p90`, `p99` | nearest-rank percentile of the sample values (the value at rank ⌈p·N⌉ of N sorted values) | — |
///
/// With no samples in the window `count` and `rate` are 0 for a rule without `group_by` (so
/// "no data" alerts work) and every other aggregation has no value (the condition is false).
public enum AlertAggregation: String, Sendable, Equatable, CaseIterable, Codable {
    /// Mean of the values.
    case avg
    /// Smallest value.
    case min
    /// Largest value.
    case max
    /// Sum of the values.
    case sum
    /// Number of samples or records.
    case count
    /// Counter increase per second (metrics); records per second (logs).
    case rate
    /// Value of the newest sample.
    case last
    /// Median (nearest rank).
    case p50
    /// 90th percentile (nearest rank).
    case p90
    /// 99th percentile (nearest rank).
    case p99

    /// Whether a log rule may use it.
    public var appliesToLogs: Bool { self == .count || self == .rate }
}

/// A threshold comparison: `> 90`, `<= 0.5`, `!= 1`.
public struct AlertCondition: Sendable, Equatable, CustomStringConvertible {
    /// The comparison operator.
    public enum Operator: String, Sendable, Equatable, CaseIterable {
        /// `>`
        case greater = ">"
        /// `>=`
        case greaterOrEqual = ">="
        /// `<`
        case less = "<"
        /// `<=`
        case lessOrEqual = "<="
        /// `==`
        case equal = "=="
        /// `!=`
        case notEqual = "!="
    }

    /// The comparison.
    public var op: Operator
    /// The number compared with.
    public var threshold: Double

    /// `value op threshold`.
    public init(_ op: Operator, _ threshold: Double) {
        self.op = op
        self.threshold = threshold
    }

    /// Parses `"> 90"`, `">=0.5"`, `"!= 1"`, `"< -3"`, `"> 1e6"` (whitespace between operator and number is optional).
    public init?(parsing text: String) {
        let t = text.alertTrimmed()
        let ops: [Operator] = [.greaterOrEqual, .lessOrEqual, .equal, .notEqual, .greater, .less]
        guard let op = ops.first(where: { t.hasPrefix($0.rawValue) }) else { return nil }
        let number = String(t.dropFirst(op.rawValue.count)).alertTrimmed()
        guard let threshold = Double(number), threshold.isFinite else { return nil }
        self.init(op, threshold)
    }

    /// Whether `value` satisfies the condition. NaN satisfies only `!=`.
    public func holds(for value: Double) -> Bool {
        switch op {
        case .greater: value > threshold
        case .greaterOrEqual: value >= threshold
        case .less: value < threshold
        case .lessOrEqual: value <= threshold
        case .equal: value == threshold
        case .notEqual: value != threshold
        }
    }

    /// `"> 90"`.
    public var description: String { "\(op.rawValue) \(AlertValueFormat.string(threshold))" }
}

/// One alert rule: what to read, how to aggregate it over a window, when to fire, and how the
/// alert is labelled and described.
///
/// Rules come from ``AlertRuleSet/load(yaml:)`` or ``AlertRuleSet/builtinRules(_:)``; build
/// them directly in tests.
///
/// ```swift
/// let rule = AlertRule(
///     name: "HighCPU", severity: .warning,
///     selector: .metric(MetricSelector(metric: "cpu", matchers: [try LabelMatcher(label: "env", parsing: "prod")])),
///     aggregation: .avg, window: 300 * AlertDuration.second, condition: AlertCondition(.greater, 90),
///     for: 120 * AlertDuration.second, groupBy: ["host"])
/// ```
public struct AlertRule: Sendable, Equatable {
    /// Unique in a rule set; part of every alert's fingerprint.
    public var name: String
    /// Carried into notifications.
    public var severity: AlertSeverity
    /// What the rule reads.
    public var selector: AlertSelector
    /// How a window becomes one value.
    public var aggregation: AlertAggregation
    /// Nanoseconds; samples with a timestamp in `(now - window, …]` count.
    public var window: Int64
    /// When the aggregated value is alarming.
    public var condition: AlertCondition
    /// Nanoseconds the condition must hold before pending turns firing (0: fire at once).
    public var forDuration: Int64
    /// Nanoseconds an alert stays firing after its condition stops holding.
    public var keepFiringFor: Int64
    /// Label names: one alert per distinct combination of their values.
    public var groupBy: [String]
    /// Added to every alert of this rule (they win over grouped labels of the same name).
    public var labels: [String: String]
    /// Templates with `{{ $labels.NAME }}` and `{{ $value }}`, rendered per alert.
    public var annotations: [String: String]
    /// Whether the rule came from ``AlertRuleSet/builtinRules(_:)``.
    public var isBuiltin: Bool

    /// A rule; see the properties for the meaning of each argument (durations in nanoseconds).
    public init(
        name: String, severity: AlertSeverity = .warning, selector: AlertSelector, aggregation: AlertAggregation,
        window: Int64, condition: AlertCondition, for forDuration: Int64 = 0, keepFiringFor: Int64 = 0,
        groupBy: [String] = [], labels: [String: String] = [:], annotations: [String: String] = [:],
        isBuiltin: Bool = false
    ) {
        self.name = name
        self.severity = severity
        self.selector = selector
        self.aggregation = aggregation
        self.window = window
        self.condition = condition
        self.forDuration = forDuration
        self.keepFiringFor = keepFiringFor
        self.groupBy = groupBy
        self.labels = labels
        self.annotations = annotations
        self.isBuiltin = isBuiltin
    }

    /// Whether `other` reads and aggregates the same data (so collected windows can be kept
    /// across a reload).
    func sharesSeries(with other: AlertRule) -> Bool {
        selector == other.selector && aggregation == other.aggregation && window == other.window
            && groupBy == other.groupBy
    }

    /// The labels of an alert of this rule whose group has `groupLabels`: the non-empty grouped
    /// labels, overridden by the rule's ``labels``.
    public func alertLabels(groupLabels: [String: String]) -> [String: String] {
        var out = groupLabels.filter { !$0.value.isEmpty }
        for (k, v) in labels { out[k] = v }
        return out
    }

    /// The annotations rendered for one alert.
    public func renderedAnnotations(labels: [String: String], value: Double?) -> [String: String] {
        annotations.mapValues { AlertTemplate.render($0, labels: labels, value: value) }
    }
}

extension AlertRule: Encodable {
    private enum Keys: String, CodingKey {
        case name, severity, builtin, select, aggregate, window, condition
        case forDuration = "for", keepFiringFor = "keep_firing_for", groupBy = "group_by", labels, annotations
    }

    private enum SelectKeys: String, CodingKey {
        case metric, match, logs
    }

    private enum LogKeys: String, CodingKey {
        case source, severityAtMost = "severity_at_most", contains, app
    }

    /// Encodes the YAML shape (`{"name":…,"select":{"metric":…,"match":{…}},"window":"5m",…}`)
    /// for `GET /api/v1/rules`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(name, forKey: .name)
        try c.encode(severity, forKey: .severity)
        try c.encode(isBuiltin, forKey: .builtin)
        var s = c.nestedContainer(keyedBy: SelectKeys.self, forKey: .select)
        switch selector {
        case .metric(let m):
            try s.encode(m.metric, forKey: .metric)
            if !m.matchers.isEmpty {
                let match = Dictionary(m.matchers.map { ($0.label, $0.description) }, uniquingKeysWith: { a, _ in a })
                try s.encode(match, forKey: .match)
            }
        case .logs(let l):
            var lc = s.nestedContainer(keyedBy: LogKeys.self, forKey: .logs)
            try lc.encodeIfPresent(l.source?.description, forKey: .source)
            try lc.encodeIfPresent(l.severityAtMost, forKey: .severityAtMost)
            try lc.encodeIfPresent(l.contains, forKey: .contains)
            try lc.encodeIfPresent(l.app?.description, forKey: .app)
        }
        try c.encode(aggregation, forKey: .aggregate)
        try c.encode(AlertDuration.format(window), forKey: .window)
        try c.encode(condition.description, forKey: .condition)
        try c.encode(AlertDuration.format(forDuration), forKey: .forDuration)
        try c.encode(AlertDuration.format(keepFiringFor), forKey: .keepFiringFor)
        try c.encode(groupBy, forKey: .groupBy)
        try c.encode(labels, forKey: .labels)
        try c.encode(annotations, forKey: .annotations)
    }
}

/// The annotation templates: `{{ $labels.NAME }}` (the alert's label, `""` when absent) and
/// `{{ $value }}` (the aggregated value, as ``AlertValueFormat`` prints it). Nothing else.
public enum AlertTemplate {
    /// Checks a template; returns the first unsupported `{{ … }}` expression, or `nil` when all are fine.
    public static func firstUnsupportedExpression(in template: String) -> String? {
        var error: String?
        _ = expand(template) { expr in
            if expr == "$value" || labelName(expr) != nil { return "" }
            if error == nil { error = expr }
            return ""
        }
        if error == nil, template.contains("{{"), expand(template, { _ in "" }) == nil { return "{{" }
        return error
    }

    /// Renders a template.
    public static func render(_ template: String, labels: [String: String], value: Double?) -> String {
        expand(template) { expr in
            if expr == "$value" { return value.map(AlertValueFormat.string) ?? "" }
            if let name = labelName(expr) { return labels[name] ?? "" }
            return "{{ \(expr) }}"
        } ?? template
    }

    private static func labelName(_ expr: String) -> String? {
        guard expr.hasPrefix("$labels."), expr.count > 8 else { return nil }
        let name = String(expr.dropFirst(8))
        return name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) ? name : nil
    }

    /// Replaces every `{{ expr }}`; `nil` when a `{{` is never closed.
    private static func expand(_ template: String, _ replace: (String) -> String) -> String? {
        guard template.contains("{{") else { return template }
        var out = ""
        var rest = Substring(template)
        while let open = rest.alertFirstRange(of: "{{") {
            out += rest[..<open.lowerBound]
            let afterOpen = rest[open.upperBound...]
            guard let close = afterOpen.alertFirstRange(of: "}}") else { return nil }
            out += replace(String(afterOpen[..<close.lowerBound]).alertTrimmed())
            rest = afterOpen[close.upperBound...]
        }
        return out + rest
    }
}

/// How alert values are printed in annotations and conditions: integers without a fraction
/// (`100`), others in Swift's shortest round-tripping form (`95.5`, `0.001`).
public enum AlertValueFormat {
    /// `v` as text: `100`, `95.5`, `NaN`, `+Inf`.
    public static func string(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

extension StringProtocol {
    func alertTrimmed() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension Substring {
    /// The first occurrence of `needle` (no Foundation).
    func alertFirstRange(of needle: String) -> Range<Index>? {
        guard let first = needle.first else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i] == first, self[i...].hasPrefix(needle) {
                return i ..< index(i, offsetBy: needle.count)
            }
            i = index(after: i)
        }
        return nil
    }
}
