import Yams

/// A hook that receives notifications, as configured under `hooks:` in the rules file.
public enum HookConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// One JSON object per line on standard output.
    case stdout
    /// JSON lines appended to a file, fsynced after each notification.
    case file(path: String)
    /// A command run per notification with the JSON lines on standard input.
    case exec(ExecHookOptions)

    /// `stdout`, `file(PATH)` or `exec(COMMAND …)`.
    public var description: String {
        switch self {
        case .stdout: "stdout"
        case .file(let path): "file(\(path))"
        case .exec(let o): "exec(\(o.command.joined(separator: " ")))"
        }
    }
}

/// How an exec hook runs its command.
public struct ExecHookOptions: Sendable, Equatable {
    /// The program and its arguments (no shell: use `["/bin/sh", "-c", "…"]` for one).
    public var command: [String]
    /// Nanoseconds a run may take before it is killed (SIGKILL). Default 10 s.
    public var timeout: Int64
    /// Runs at the same time. Default 4.
    public var maxConcurrent: Int
    /// Notifications waiting for a free run; past this they are dropped and counted. Default 64.
    public var maxQueued: Int

    /// Options with the documented defaults (timeout in nanoseconds).
    public init(command: [String], timeout: Int64 = 10 * AlertDuration.second, maxConcurrent: Int = 4, maxQueued: Int = 64) {
        self.command = command
        self.timeout = timeout
        self.maxConcurrent = maxConcurrent
        self.maxQueued = maxQueued
    }
}

/// A validated set of alert rules plus the hooks and repeat interval from the same file.
///
/// Load one with ``load(yaml:builtins:)``; it holds the built-in rules (after the file's
/// overrides) followed by the file's rules. The format:
///
/// ```yaml
/// repeat_interval: 4h            # re-send firing notifications this often (default 4h)
/// hooks:
///   - stdout: {}
///   - file: {path: /var/log/hypha/alerts.jsonl}
///   - exec: {command: [/usr/local/bin/page-oncall, --team, ops], timeout: 5s, max_concurrent: 4, max_queued: 64}
/// builtin_rules:                 # change or switch off built-in rules by name
///   DiskUsage: {condition: "> 0.95"}
///   IngestRejectRate: {enabled: false}
/// rules:
///   - name: HighCPU
///     severity: warning          # critical | warning | info (default warning)
///     select: {metric: cpu_usage, match: {env: prod, host: "~web-.*", dc: "!=lab"}}
///     aggregate: avg             # avg min max sum count rate last p50 p90 p99
///     window: 5m
///     condition: "> 90"          # quote it: > and ! mean something else to YAML
///     for: 2m                    # default 0
///     keep_firing_for: 1m        # default 0
///     group_by: [host]
///     labels: {team: ops}
///     annotations: {summary: "CPU on {{ $labels.host }} is {{ $value }}%"}
///   - name: AuthErrors
///     select: {logs: {source: "~auth-.*", severity_at_most: 3, contains: "denied", app: sshd}}
///     aggregate: count           # log rules: count or rate
///     window: 1m
///     condition: ">= 20"
///     group_by: [source]         # log rules: source, app, severity
/// ```
///
/// Keys are checked: an unknown key, a missing required key (`name`, `select`, `aggregate`,
/// `window`, `condition`) or a bad value is a ``RuleError`` naming its line. A rule named like
/// a built-in replaces it.
public struct AlertRuleSet: Sendable, Equatable {
    /// 4 hours.
    public static let defaultRepeatInterval: Int64 = 4 * 3600 * AlertDuration.second

    /// Built-in rules first, then the file's, in file order; names are unique.
    public var rules: [AlertRule]
    /// Where notifications go, in file order.
    public var hooks: [HookConfiguration]
    /// Nanoseconds between repeats of a firing notification.
    public var repeatInterval: Int64
    /// The line of each hook in the file (for errors raised when it is set up).
    var hookLines: [Int?] = []

    /// A rule set; by default the built-in rules, no hooks, a 4 h repeat interval.
    public init(
        rules: [AlertRule] = AlertRuleSet.builtinRules(), hooks: [HookConfiguration] = [],
        repeatInterval: Int64 = AlertRuleSet.defaultRepeatInterval
    ) {
        self.rules = rules
        self.hooks = hooks
        self.repeatInterval = repeatInterval
    }

    /// The rule called `name`.
    public func rule(named name: String) -> AlertRule? { rules.first { $0.name == name } }

    /// Parses and validates a rules file.
    /// - Parameters:
    ///   - yaml: the file's text. An empty document is valid: built-in rules only.
    ///   - builtins: thresholds for the built-in rules before the file's overrides.
    /// - Throws: ``RuleError`` with the line and the reason of the first problem.
    public static func load(yaml: String, builtins: BuiltinRuleOptions = BuiltinRuleOptions()) throws(RuleError) -> AlertRuleSet {
        try RuleFileParser(yaml: yaml, builtins: builtins).parse()
    }

    /// Same rules, hooks and repeat interval (line numbers do not count).
    public static func == (a: AlertRuleSet, b: AlertRuleSet) -> Bool {
        a.rules == b.rules && a.hooks == b.hooks && a.repeatInterval == b.repeatInterval
    }
}

// MARK: - The parser

/// Walks the composed YAML tree (which carries line numbers) and builds an ``AlertRuleSet``.
struct RuleFileParser {
    let yaml: String
    let builtins: BuiltinRuleOptions

    /// A mapping's entries after the key check.
    struct Fields {
        let what: String
        let line: Int?
        var entries: [String: (keyLine: Int?, value: Node)] = [:]

        func has(_ key: String) -> Bool { entries[key] != nil }
        func value(_ key: String) -> Node? { entries[key]?.value }

        func required(_ key: String) throws(RuleError) -> Node {
            guard let v = entries[key]?.value else {
                throw RuleError(.missingKey, line: line, "missing key '\(key)' in \(what)")
            }
            return v
        }
    }

    func parse() throws(RuleError) -> AlertRuleSet {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.syntaxError(error)
        } catch {
            throw RuleError(.syntax, line: nil, "not YAML: \(error)")
        }
        var set = AlertRuleSet(rules: AlertRuleSet.builtinRules(builtins))
        guard let root, !Self.isNull(root) else { return set }
        let top = try fields(root, "the rules file", ["repeat_interval", "hooks", "builtin_rules", "rules"])
        if let n = top.value("repeat_interval") {
            set.repeatInterval = try duration(n, "repeat_interval")
            guard set.repeatInterval > 0 else { throw invalid(n, "repeat_interval must be longer than 0") }
        }
        if let n = top.value("hooks"), !Self.isNull(n) {
            for h in try sequence(n, "hooks") {
                set.hooks.append(try hook(h))
                set.hookLines.append(Self.line(h))
            }
        }
        if let n = top.value("builtin_rules"), !Self.isNull(n) {
            try applyBuiltinOverrides(n, to: &set.rules)
        }
        if let n = top.value("rules"), !Self.isNull(n) {
            var seen: [String: Int?] = [:]
            for r in try sequence(n, "rules") {
                let rule = try self.rule(r)
                if let first = seen[rule.name] {
                    let at = first.map { " (first on line \($0))" } ?? ""
                    throw RuleError(.duplicateName, line: Self.line(r), "rule '\(rule.name)' is defined twice\(at)")
                }
                seen[rule.name] = Self.line(r)
                set.rules.removeAll { $0.isBuiltin && $0.name == rule.name }
                set.rules.append(rule)
            }
        }
        return set
    }

    // MARK: Rules

    static let ruleKeys: Set<String> = [
        "name", "severity", "select", "aggregate", "window", "condition", "for", "keep_firing_for", "group_by", "labels",
        "annotations",
    ]

    func rule(_ node: Node) throws(RuleError) -> AlertRule {
        guard node.mapping != nil else { throw invalid(node, "a rule must be a mapping (name: …, select: …)") }
        let nameNode = try fields(node, "a rule", nil).required("name")
        let name = try string(nameNode, "name")
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ Self.nameCharacters.contains($0) }) else {
            throw invalid(nameNode, "rule name '\(name)' must be letters, digits, '_', '-', '.' or ':'")
        }
        let what = "rule '\(name)'"
        let f = try fields(node, what, Self.ruleKeys)
        let severity = try f.value("severity").map { n throws(RuleError) in try self.severity(n) } ?? .warning
        let selector = try self.selector(f.required("select"), what)
        let aggNode = try f.required("aggregate")
        let aggText = try string(aggNode, "aggregate")
        guard let aggregation = AlertAggregation(rawValue: aggText) else {
            throw invalid(aggNode, "aggregate '\(aggText)' is not one of \(AlertAggregation.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if case .logs = selector, !aggregation.appliesToLogs {
            throw invalid(aggNode, "log rules aggregate with count or rate, not \(aggText)")
        }
        let windowNode = try f.required("window")
        let window = try duration(windowNode, "window")
        guard window > 0 else { throw invalid(windowNode, "window must be longer than 0") }
        let condition = try self.condition(f.required("condition"))
        let forDuration = try f.value("for").map { n throws(RuleError) in try duration(n, "for") } ?? 0
        let keep = try f.value("keep_firing_for").map { n throws(RuleError) in try duration(n, "keep_firing_for") } ?? 0
        var groupBy: [String] = []
        if let n = f.value("group_by"), !Self.isNull(n) {
            groupBy = try stringList(n, "group_by")
            if let dup = Self.firstDuplicate(groupBy) { throw invalid(n, "group_by names '\(dup)' twice") }
            if groupBy.contains(where: \.isEmpty) { throw invalid(n, "group_by has an empty label name") }
            if case .logs = selector, let bad = groupBy.first(where: { !LogSelector.groupableLabels.contains($0) }) {
                throw invalid(n, "log rules group by source, app or severity, not '\(bad)'")
            }
        }
        let labels = try f.value("labels").map { n throws(RuleError) in try stringMap(n, "labels") } ?? [:]
        var annotations: [String: String] = [:]
        if let n = f.value("annotations") {
            annotations = try stringMap(n, "annotations")
            for (key, template) in annotations.sorted(by: { $0.key < $1.key }) {
                if let bad = AlertTemplate.firstUnsupportedExpression(in: template) {
                    throw invalid(n, "annotation '\(key)' uses '\(bad)'; only {{ $labels.NAME }} and {{ $value }} are supported")
                }
            }
        }
        return AlertRule(
            name: name, severity: severity, selector: selector, aggregation: aggregation, window: window,
            condition: condition, for: forDuration, keepFiringFor: keep, groupBy: groupBy, labels: labels,
            annotations: annotations)
    }

    static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:".unicodeScalars)

    func selector(_ node: Node, _ what: String) throws(RuleError) -> AlertSelector {
        let f = try fields(node, "select of \(what)", ["metric", "match", "logs"])
        if f.has("metric") == f.has("logs") {
            throw RuleError(.invalidValue, line: f.line, "select of \(what) needs exactly one of 'metric' or 'logs'")
        }
        if let n = f.value("metric") {
            let metric = try string(n, "metric")
            guard !metric.isEmpty else { throw invalid(n, "metric name is empty") }
            guard !metric.hasPrefix(ControlSignals.Metric.reservedPrefix) || Self.signalMetrics.contains(metric) else {
                throw invalid(n, "metric names starting with 'hypha:' are reserved; known ones: \(Self.signalMetrics.sorted().joined(separator: ", "))")
            }
            var matchers: [LabelMatcher] = []
            if let m = f.value("match"), !Self.isNull(m) {
                for (label, (keyLine, valueNode)) in try fields(m, "match of \(what)", nil).entries.sorted(by: { $0.key < $1.key }) {
                    guard !label.isEmpty else { throw RuleError(.invalidValue, line: keyLine, "empty label name in match") }
                    matchers.append(try matcher(label, valueNode))
                }
            }
            return .metric(MetricSelector(metric: metric, matchers: matchers))
        }
        if f.has("match") {
            throw RuleError(.unknownKey, line: f.entries["match"]?.keyLine, "'match' goes with 'metric'; log rules filter with source, app, severity_at_most, contains")
        }
        let logs = try f.required("logs")
        var selector = LogSelector()
        if Self.isNull(logs) { return .logs(selector) }
        let l = try fields(logs, "logs of \(what)", ["source", "severity_at_most", "contains", "app"])
        if let n = l.value("source") { selector.source = try matcher("source", n) }
        if let n = l.value("app") { selector.app = try matcher("app", n) }
        if let n = l.value("contains") {
            let s = try string(n, "contains")
            guard !s.isEmpty else { throw invalid(n, "contains is empty") }
            selector.contains = s
        }
        if let n = l.value("severity_at_most") {
            guard let v = n.int, (0 ... 7).contains(v) else {
                throw invalid(n, "severity_at_most must be a syslog severity 0 (emergency) … 7 (debug), not '\(n.string ?? "?")'")
            }
            selector.severityAtMost = UInt8(v)
        }
        return .logs(selector)
    }

    static let signalMetrics: Set<String> = {
        typealias M = ControlSignals.Metric
        return [M.daemonHealth, M.regionHealth, M.listenerRejects, M.shardSyncLag, M.shardWALBytes, M.diskUsedFraction]
    }()

    func matcher(_ label: String, _ node: Node) throws(RuleError) -> LabelMatcher {
        let text = try string(node, label)
        do {
            return try LabelMatcher(label: label, parsing: text)
        } catch {
            throw invalid(node, "bad regular expression for '\(label)': \(text) (\(error))")
        }
    }

    func severity(_ node: Node) throws(RuleError) -> AlertSeverity {
        let text = try string(node, "severity")
        guard let s = AlertSeverity(rawValue: text) else {
            throw invalid(node, "severity '\(text)' is not one of critical, warning, info")
        }
        return s
    }

    func condition(_ node: Node) throws(RuleError) -> AlertCondition {
        let text = try string(node, "condition")
        guard let c = AlertCondition(parsing: text) else {
            throw invalid(node, "bad condition '\(text)': expected >, >=, <, <=, == or != and a number, quoted (\"> 90\")")
        }
        return c
    }

    // MARK: Built-in overrides and hooks

    func applyBuiltinOverrides(_ node: Node, to rules: inout [AlertRule]) throws(RuleError) {
        let names = rules.filter(\.isBuiltin).map(\.name)
        let all = try fields(node, "builtin_rules", Set(names))
        for (name, (_, value)) in all.entries.sorted(by: { $0.key < $1.key }) {
            guard let index = rules.firstIndex(where: { $0.isBuiltin && $0.name == name }) else { continue }
            let what = "builtin_rules.\(name)"
            let f = try fields(value, what, ["enabled", "severity", "window", "condition", "for", "keep_firing_for", "labels", "annotations"])
            if let n = f.value("enabled") {
                guard let on = n.bool else { throw invalid(n, "enabled must be true or false") }
                if !on {
                    rules.remove(at: index)
                    continue
                }
            }
            var r = rules[index]
            if let n = f.value("severity") { r.severity = try severity(n) }
            if let n = f.value("window") {
                r.window = try duration(n, "window")
                guard r.window > 0 else { throw invalid(n, "window must be longer than 0") }
            }
            if let n = f.value("condition") { r.condition = try condition(n) }
            if let n = f.value("for") { r.forDuration = try duration(n, "for") }
            if let n = f.value("keep_firing_for") { r.keepFiringFor = try duration(n, "keep_firing_for") }
            if let n = f.value("labels") { r.labels = try stringMap(n, "labels") }
            if let n = f.value("annotations") {
                r.annotations = try stringMap(n, "annotations")
                if let bad = r.annotations.values.lazy.compactMap(AlertTemplate.firstUnsupportedExpression).first {
                    throw invalid(n, "annotation uses '\(bad)'; only {{ $labels.NAME }} and {{ $value }} are supported")
                }
            }
            rules[index] = r
        }
    }

    func hook(_ node: Node) throws(RuleError) -> HookConfiguration {
        if let s = node.scalar?.string {
            if s == "stdout" { return .stdout }
            throw invalid(node, "hook '\(s)' needs settings; hooks are stdout, file or exec")
        }
        let f = try fields(node, "a hook", ["stdout", "file", "exec"])
        guard f.entries.count == 1, let (kind, (_, value)) = f.entries.first else {
            throw RuleError(.invalidValue, line: f.line, "each hook is one of stdout, file or exec")
        }
        switch kind {
        case "stdout":
            if !Self.isNull(value) { _ = try fields(value, "stdout hook", []) }
            return .stdout
        case "file":
            let path = try string(fields(value, "file hook", ["path"]).required("path"), "path")
            guard !path.isEmpty else { throw invalid(value, "file hook path is empty") }
            return .file(path: path)
        default:
            let e = try fields(value, "exec hook", ["command", "timeout", "max_concurrent", "max_queued"])
            let commandNode = try e.required("command")
            var command: [String]
            if commandNode.sequence != nil {
                command = try stringList(commandNode, "command")
            } else {
                command = [try string(commandNode, "command")]
            }
            command.removeAll(where: \.isEmpty)
            guard !command.isEmpty else { throw invalid(commandNode, "exec hook command is empty") }
            var options = ExecHookOptions(command: command)
            if let n = e.value("timeout") {
                options.timeout = try duration(n, "timeout")
                guard options.timeout > 0 else { throw invalid(n, "timeout must be longer than 0") }
            }
            if let n = e.value("max_concurrent") { options.maxConcurrent = try positiveInt(n, "max_concurrent") }
            if let n = e.value("max_queued") { options.maxQueued = try positiveInt(n, "max_queued") }
            return .exec(options)
        }
    }

    // MARK: Helpers

    static func line(_ node: Node) -> Int? { node.mark?.line }

    static func isNull(_ node: Node) -> Bool {
        if case .scalar(let s) = node { return node.null != nil || (s.string.isEmpty && s.style == .plain) }
        return false
    }

    static func firstDuplicate(_ list: [String]) -> String? {
        var seen = Set<String>()
        return list.first { !seen.insert($0).inserted }
    }

    func invalid(_ node: Node, _ reason: String) -> RuleError { RuleError(.invalidValue, line: Self.line(node), reason) }

    /// The mapping's entries; with `allowed` non-nil any other key is an error.
    func fields(_ node: Node, _ what: String, _ allowed: Set<String>?) throws(RuleError) -> Fields {
        guard let mapping = node.mapping else {
            if Self.isNull(node) { return Fields(what: what, line: Self.line(node)) }
            throw invalid(node, "\(what) must be a mapping of keys to values")
        }
        var out = Fields(what: what, line: Self.line(node))
        for (k, v) in mapping {
            guard let key = k.scalar?.string else { throw invalid(k, "keys in \(what) must be plain strings") }
            if let allowed, !allowed.contains(key) {
                let list = allowed.isEmpty ? "none" : allowed.sorted().joined(separator: ", ")
                throw RuleError(.unknownKey, line: Self.line(k), "unknown key '\(key)' in \(what) (allowed: \(list))")
            }
            out.entries[key] = (Self.line(k), v)
        }
        return out
    }

    func sequence(_ node: Node, _ what: String) throws(RuleError) -> [Node] {
        guard let s = node.sequence else { throw invalid(node, "\(what) must be a list (lines starting with '- ')") }
        return Array(s)
    }

    func string(_ node: Node, _ key: String) throws(RuleError) -> String {
        guard let s = node.scalar?.string else { throw invalid(node, "\(key) must be a single value, not a list or mapping") }
        return s
    }

    func stringList(_ node: Node, _ key: String) throws(RuleError) -> [String] {
        var out: [String] = []
        for item in try sequence(node, key) { out.append(try string(item, key)) }
        return out
    }

    func stringMap(_ node: Node, _ key: String) throws(RuleError) -> [String: String] {
        var out: [String: String] = [:]
        for (k, (keyLine, v)) in try fields(node, key, nil).entries {
            guard !k.isEmpty else { throw RuleError(.invalidValue, line: keyLine, "empty name in \(key)") }
            out[k] = try string(v, "\(key).\(k)")
        }
        return out
    }

    func duration(_ node: Node, _ key: String) throws(RuleError) -> Int64 {
        let text = try string(node, key)
        guard let ns = AlertDuration.parse(text) else {
            throw invalid(node, "bad duration '\(text)' for \(key): expected a number and a unit (ms, s, m, h, d, w), like 30s, 5m or 1h30m")
        }
        return ns
    }

    func positiveInt(_ node: Node, _ key: String) throws(RuleError) -> Int {
        guard let v = node.int, v > 0 else { throw invalid(node, "\(key) must be a whole number above 0") }
        return v
    }

    static func syntaxError(_ error: YamlError) -> RuleError {
        guard let (line, problem) = TextRules.locate(error) else { return RuleError(.syntax, line: nil, "YAML: \(error)") }
        return RuleError(.syntax, line: line, problem)
    }
}
