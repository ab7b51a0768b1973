import Control
import Testing

@Suite struct RuleLoaderTests {
    static let s = AlertDuration.second

    static let example = """
        repeat_interval: 2h
        hooks:
          - stdout: {}
          - file: {path: /tmp/hypha-alerts-test.jsonl}
          - exec: {command: [/bin/cat], timeout: 5s, max_concurrent: 2, max_queued: 8}
        builtin_rules:
          DiskUsage: {condition: "> 0.95", for: 1m}
          IngestRejectRate: {enabled: false}
        rules:
          - name: HighCPU
            severity: critical
            select: {metric: cpu_usage, match: {env: prod, host: "~web-.*", dc: "!=lab"}}
            aggregate: avg
            window: 5m
            condition: "> 90"
            for: 2m
            keep_firing_for: 1m30s
            group_by: [host]
            labels: {team: ops}
            annotations: {summary: "CPU on {{ $labels.host }} is {{ $value }}%"}
          - name: AuthErrors
            select: {logs: {source: "~auth-.*", severity_at_most: 3, contains: denied, app: sshd}}
            aggregate: count
            window: 1m
            condition: ">= 20"
            group_by: [source]
        """

    @Test func loadsTheDocumentedExample() throws {
        let set = try AlertRuleSet.load(yaml: Self.example)
        #expect(set.repeatInterval == 2 * 3600 * Self.s)
        #expect(set.hooks == [
            .stdout, .file(path: "/tmp/hypha-alerts-test.jsonl"),
            .exec(ExecHookOptions(command: ["/bin/cat"], timeout: 5 * Self.s, maxConcurrent: 2, maxQueued: 8)),
        ])
        let names = set.rules.map(\.name)
        #expect(names == ["DaemonOffline", "RegionDegraded", "WALSyncLag", "WALDiskUsage", "DiskUsage", "HighCPU", "AuthErrors"],
                "built-ins first (IngestRejectRate disabled), then the file's rules: \(names)")

        let cpu = try #require(set.rule(named: "HighCPU"))
        #expect(cpu.severity == .critical)
        #expect(cpu.aggregation == .avg)
        #expect(cpu.window == 300 * Self.s)
        #expect(cpu.condition == AlertCondition(.greater, 90))
        #expect(cpu.forDuration == 120 * Self.s)
        #expect(cpu.keepFiringFor == 90 * Self.s)
        #expect(cpu.groupBy == ["host"])
        #expect(cpu.labels == ["team": "ops"])
        guard case .metric(let m) = cpu.selector else { Issue.record("not a metric selector"); return }
        #expect(m.metric == "cpu_usage")
        #expect(m.matchers.map(\.description) == ["!=lab", "prod", "~web-.*"], "sorted by label: dc, env, host")
        #expect(m.matchers.map(\.op) == [.notEqual, .equal, .matches])
        #expect(m.matchers[2].matches("web-12") && !m.matchers[2].matches("db-1") && !m.matchers[2].matches("xweb-1"),
                "regexes match the whole value")

        let auth = try #require(set.rule(named: "AuthErrors"))
        #expect(auth.severity == .warning, "default severity")
        #expect(auth.forDuration == 0 && auth.keepFiringFor == 0)
        guard case .logs(let l) = auth.selector else { Issue.record("not a log selector"); return }
        #expect(l.severityAtMost == 3)
        #expect(l.contains == "denied")
        #expect(l.app?.description == "sshd")
        #expect(l.source?.op == .matches)

        let disk = try #require(set.rule(named: "DiskUsage"))
        #expect(disk.condition == AlertCondition(.greater, 0.95))
        #expect(disk.forDuration == 60 * Self.s)
        #expect(disk.isBuiltin)
    }

    @Test func emptyFileMeansBuiltinsOnly() throws {
        let set = try AlertRuleSet.load(yaml: "")
        #expect(set.rules == AlertRuleSet.builtinRules())
        #expect(set.hooks.isEmpty)
        #expect(set.repeatInterval == AlertRuleSet.defaultRepeatInterval)
        #expect(try AlertRuleSet.load(yaml: "rules: []\nhooks:\n") == set)
    }

    @Test func aRuleNamedLikeABuiltinReplacesIt() throws {
        let set = try AlertRuleSet.load(yaml: """
            rules:
              - name: DaemonOffline
                select: {metric: "hypha:daemon_health"}
                aggregate: last
                window: 30s
                condition: ">= 2"
                for: 1m
                group_by: [daemon]
            """)
        let offline = set.rules.filter { $0.name == "DaemonOffline" }
        #expect(offline.count == 1)
        #expect(offline.first?.isBuiltin == false)
        #expect(offline.first?.forDuration == 60 * Self.s)
    }

    /// (YAML, expected line, expected code, a fragment of the reason)
    static let errorCases: [(String, Int, RuleError.Code, String)] = [
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                windw: 5m
                window: 5m
                condition: "> 1"
            """, 5, .unknownKey, "unknown key 'windw' in rule 'A'"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                window: 5 minutes
                condition: "> 1"
            """, 5, .invalidValue, "bad duration '5 minutes'"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                window: 5m
                for: 1h-
                condition: "> 1"
            """, 6, .invalidValue, "bad duration '1h-' for for"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                window: 5m
                condition: "above 90"
            """, 6, .invalidValue, "bad condition 'above 90'"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                window: 5m
                condition: "> ninety"
            """, 6, .invalidValue, "bad condition"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: median
                window: 5m
                condition: "> 1"
            """, 4, .invalidValue, "aggregate 'median'"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                condition: "> 1"
            """, 2, .missingKey, "missing key 'window' in rule 'A'"),
        ("""
            rules:
              - name: A
                select: {logs: {contains: x}}
                aggregate: avg
                window: 1m
                condition: "> 1"
            """, 4, .invalidValue, "log rules aggregate with count or rate"),
        ("""
            rules:
              - name: A
                select: {logs: {severity_at_most: 9}}
                aggregate: count
                window: 1m
                condition: "> 1"
            """, 3, .invalidValue, "severity_at_most"),
        ("""
            rules:
              - name: A
                select: {logs: {contains: x}}
                aggregate: count
                window: 1m
                condition: "> 1"
                group_by: [host]
            """, 7, .invalidValue, "log rules group by source, app or severity"),
        ("""
            rules:
              - name: A
                select: {metric: x, match: {host: "~web-("}}
                aggregate: avg
                window: 1m
                condition: "> 1"
            """, 3, .invalidValue, "bad regular expression"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                window: 1m
                condition: "> 1"
              - name: A
                select: {metric: y}
                aggregate: avg
                window: 1m
                condition: "> 1"
            """, 7, .duplicateName, "rule 'A' is defined twice (first on line 2)"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                window: 1m
                condition: "> 1"
                annotations: {summary: "{{ $values }}"}
            """, 7, .invalidValue, "'$values'"),
        ("""
            rules:
              - name: A
                severity: page
                select: {metric: x}
                aggregate: avg
                window: 1m
                condition: "> 1"
            """, 3, .invalidValue, "severity 'page'"),
        ("""
            rules:
              - name: A
                select: {metric: x, logs: {}}
                aggregate: avg
                window: 1m
                condition: "> 1"
            """, 3, .invalidValue, "exactly one of 'metric' or 'logs'"),
        ("""
            hooks:
              - stdout: {}
              - email: {to: ops@example.com}
            """, 3, .unknownKey, "unknown key 'email' in a hook"),
        ("""
            hooks:
              - exec: {command: [/bin/true], timeout: soon}
            """, 2, .invalidValue, "bad duration 'soon'"),
        ("""
            builtin_rules:
              DiskUsage: {threshold: 0.5}
            """, 2, .unknownKey, "unknown key 'threshold' in builtin_rules.DiskUsage"),
        ("""
            builtin_rules:
              NoSuchRule: {enabled: false}
            """, 2, .unknownKey, "unknown key 'NoSuchRule' in builtin_rules"),
        ("""
            repeat_interval: 4h
            rule:
              - name: A
            """, 2, .unknownKey, "unknown key 'rule' in the rules file"),
        ("""
            rules:
              - name: A
                select: {metric: x}
                aggregate: avg
                window: 1m
                condition: > 1
            """, 6, .syntax, "YAML syntax"),
        ("""
            rules:
              - name: A
                select: {metric: "hypha:made_up"}
                aggregate: avg
                window: 1m
                condition: "> 1"
            """, 3, .invalidValue, "reserved"),
    ]

    @Test(arguments: errorCases.indices)
    func errorsNameTheLineAndReason(_ i: Int) {
        let (yaml, line, code, fragment) = Self.errorCases[i]
        do {
            let set = try AlertRuleSet.load(yaml: yaml)
            Issue.record("case \(i) loaded: \(set.rules.map(\.name))")
        } catch {
            #expect(error.line == line, "case \(i): line \(error.line.map(String.init) ?? "nil"), expected \(line): \(error)")
            #expect(error.code == code, "case \(i): code \(error.code), expected \(code): \(error)")
            #expect(error.reason.contains(fragment), "case \(i): '\(error.reason)' lacks '\(fragment)'")
            #expect(error.description.hasPrefix("rules line \(line): "), "case \(i): \(error.description)")
        }
    }

    @Test func durationsParseAndPrint() {
        let cases: [(String, Int64?)] = [
            ("30s", 30 * Self.s), ("5m", 300 * Self.s), ("1h", 3600 * Self.s), ("1h30m", 5400 * Self.s),
            ("250ms", 250_000_000), ("2d", 172_800 * Self.s), ("1w", 604_800 * Self.s), ("0", 0), ("0s", 0),
            ("", nil), ("5", nil), ("-5s", nil), ("1.5s", nil), ("5 m", nil), ("30s5m", nil), ("5mm", nil), ("1y", nil),
            ("99999999999999999999s", nil),
        ]
        for (text, expected) in cases {
            #expect(AlertDuration.parse(text) == expected, "\(text)")
        }
        #expect(AlertDuration.format(5400 * Self.s) == "1h30m")
        #expect(AlertDuration.format(1_500_000_000) == "1s500ms")
        #expect(AlertDuration.format(0) == "0s")
    }

    @Test func conditionsParse() {
        #expect(AlertCondition(parsing: "> 90") == AlertCondition(.greater, 90))
        #expect(AlertCondition(parsing: ">=0.5") == AlertCondition(.greaterOrEqual, 0.5))
        #expect(AlertCondition(parsing: "< -3") == AlertCondition(.less, -3))
        #expect(AlertCondition(parsing: "<= 1e3") == AlertCondition(.lessOrEqual, 1000))
        #expect(AlertCondition(parsing: "== 0") == AlertCondition(.equal, 0))
        #expect(AlertCondition(parsing: " != 1 ") == AlertCondition(.notEqual, 1))
        #expect(AlertCondition(parsing: "=> 1") == nil)
        #expect(AlertCondition(parsing: "> nan") == nil)
        #expect(AlertCondition(parsing: "90") == nil)
        #expect(AlertCondition(.greater, 90).holds(for: 90.5) && !AlertCondition(.greater, 90).holds(for: 90))
        #expect(AlertCondition(.notEqual, 1).holds(for: 2) && !AlertCondition(.equal, 1).holds(for: 2))
    }

    @Test func templatesRender() {
        let text = AlertTemplate.render("{{ $labels.host }} at {{$value}} ({{ $labels.missing }})", labels: ["host": "web-1"], value: 97.5)
        #expect(text == "web-1 at 97.5 ()")
        #expect(AlertTemplate.render("{{ $value }}", labels: [:], value: 100) == "100")
        #expect(AlertTemplate.firstUnsupportedExpression(in: "{{ $labels.host }} {{ $value }}") == nil)
        #expect(AlertTemplate.firstUnsupportedExpression(in: "{{ .Value }}") == ".Value")
        #expect(AlertTemplate.firstUnsupportedExpression(in: "{{ $value") == "{{")
    }

    @Test func rulesEncodeForTheAPI() throws {
        let set = try AlertRuleSet.load(yaml: Self.example)
        let cpu = try #require(set.rule(named: "HighCPU"))
        let json = try String(decoding: JSONEncoderForTests.encode(cpu), as: UTF8.self)
        for fragment in [
            "\"name\":\"HighCPU\"", "\"window\":\"5m\"", "\"for\":\"2m\"", "\"keep_firing_for\":\"1m30s\"",
            "\"condition\":\"> 90\"", "\"aggregate\":\"avg\"", "\"group_by\":[\"host\"]", "\"host\":\"~web-.*\"",
            "\"metric\":\"cpu_usage\"", "\"builtin\":false",
        ] {
            #expect(json.contains(fragment), "\(fragment) in \(json)")
        }
    }
}
