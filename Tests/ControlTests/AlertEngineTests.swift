import Control
import Foundation
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// The engine facade: built-in rules over ControlSignals, group_by, reload, persistence.
@Suite struct AlertEngineTests {
    typealias T = TestTime

    static func engine(
        _ rules: AlertRuleSet, store: AlertStateStore? = nil, clock: ManualEpochClock = ManualEpochClock(now: T.t0)
    ) throws -> (AlertEngine, RecordingHook, HookDispatcher) {
        let recorder = RecordingHook()
        let dispatcher = HookDispatcher(logger: quietLogger, extraHooks: [recorder])
        let engine = try AlertEngine(
            rules: rules, hooks: dispatcher, store: store, options: AlertEngineOptions(nodeName: "node-1", restoreGrace: 10 * T.s),
            logger: quietLogger, clock: clock)
        return (engine, recorder, dispatcher)
    }

    static func firing(_ engine: AlertEngine) -> [String] {
        engine.activeAlerts.filter { $0.state == .firing }.map { a in
            a.rule + (a.labels.isEmpty ? "" : "{" + a.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}")
        }
    }

    @Test func builtinRulesFireOnControlSignals() throws {
        let (engine, recorder, dispatcher) = try Self.engine(AlertRuleSet())
        defer { dispatcher.shutdown() }
        var signals = ControlSignals(
            daemons: [.init(id: "d1", region: "eu", state: .offline), .init(id: "d2", region: "eu", state: .healthy),
                      .init(id: "d3", region: "us", state: .degraded)],
            regions: [.init(name: "eu", state: .degraded), .init(name: "us", state: .healthy)],
            listeners: [.init(name: "syslog", rejectsPerSecond: 50), .init(name: "influx", rejectsPerSecond: 0)],
            shards: [.init(shard: 0, syncLagSeconds: 12, walBytes: 1 << 20), .init(shard: 1, syncLagSeconds: 0, walBytes: 100 << 30)],
            disk: .init(usedFraction: 0.95))
        engine.evaluate(now: T.at(0), signals: signals)
        #expect(Self.firing(engine) == [
            "DaemonOffline{daemon=d1,region=eu}", "DiskUsage", "IngestRejectRate{listener=syslog}", "RegionDegraded{region=eu}",
            "WALDiskUsage{shard=1}",
        ])
        #expect(engine.activeAlerts.first { $0.rule == "WALSyncLag" }?.state == .pending, "sync lag waits 30 s")
        engine.evaluate(now: T.at(30), signals: signals)
        #expect(Self.firing(engine).contains("WALSyncLag{shard=0}"))
        let offline = try #require(engine.activeAlerts.first { $0.rule == "DaemonOffline" })
        #expect(offline.severity == .critical)
        #expect(offline.annotations["summary"] == "daemon d1 in region eu is offline")

        // d1 comes back, the region recovers, rejects stop (the 1-minute average needs time), the disk is cleaned.
        signals.daemons[0].state = .healthy
        signals.regions[0].state = .healthy
        signals.listeners[0].rejectsPerSecond = 0
        signals.disk = .init(usedFraction: 0.5)
        engine.evaluate(now: T.at(35), signals: signals)
        #expect(!Self.firing(engine).contains("DaemonOffline{daemon=d1,region=eu}"))
        #expect(!Self.firing(engine).contains("DiskUsage"))
        #expect(Self.firing(engine).contains("IngestRejectRate{listener=syslog}"), "avg over 1 m still (50 + 50 + 0) / 3 > 10")
        engine.evaluate(now: T.at(95), signals: signals)
        #expect(!Self.firing(engine).contains("IngestRejectRate{listener=syslog}"))

        #expect(dispatcher.waitUntilIdle(timeout: .seconds(10)))
        let resolved = recorder.events.filter { $0.status == .resolved }.map(\.rule).sorted()
        #expect(resolved == ["DaemonOffline", "DiskUsage", "IngestRejectRate", "RegionDegraded"])
        #expect(recorder.events.filter { $0.status == .firing && $0.rule == "DaemonOffline" }.count == 1)
    }

    @Test func builtinRulesCanBeSwitchedOffAndRetuned() throws {
        let rules = try AlertRuleSet.load(yaml: """
            builtin_rules:
              DaemonOffline: {enabled: false}
              DiskUsage: {condition: "> 0.99", severity: warning}
            """)
        let (engine, _, dispatcher) = try Self.engine(rules)
        defer { dispatcher.shutdown() }
        engine.evaluate(now: T.at(0), signals: ControlSignals(daemons: [.init(id: "d1", region: "eu", state: .offline)], disk: .init(usedFraction: 0.95)))
        #expect(Self.firing(engine).isEmpty)
        engine.evaluate(now: T.at(5), signals: ControlSignals(disk: .init(usedFraction: 0.995)))
        #expect(Self.firing(engine) == ["DiskUsage"])
        #expect(engine.activeAlerts.first?.severity == .warning)
    }

    @Test func groupByMakesOneAlertPerLabelSet() throws {
        let rules = try AlertRuleSet.load(yaml: """
            rules:
              - name: HighCPU
                select: {metric: cpu, match: {env: prod}}
                aggregate: max
                window: 1m
                condition: "> 90"
                group_by: [host]
                labels: {team: ops}
                annotations: {summary: "{{ $labels.host }}: {{ $value }}"}
            """)
        let (engine, recorder, dispatcher) = try Self.engine(rules)
        defer { dispatcher.shutdown() }
        #expect(engine.interest.metricNames == ["cpu"])
        engine.ingest(samples: [
            sample(1, 95, name: "cpu", [("host", "a"), ("env", "prod")]), sample(2, 50, name: "cpu", [("host", "b"), ("env", "prod")]),
            sample(3, 99, name: "cpu", [("host", "c"), ("env", "prod")]), sample(3, 99, name: "cpu", [("host", "d"), ("env", "dev")]),
        ])
        let report = engine.evaluate(now: T.at(5))
        #expect(Self.firing(engine) == ["HighCPU{host=a,team=ops}", "HighCPU{host=c,team=ops}"])
        let ruleNotifications = report.notifications.filter { $0.rule == "HighCPU" }
        #expect(ruleNotifications.count == 1)
        #expect(ruleNotifications.first?.events.map { $0.annotations["summary"]! }.sorted() == ["a: 95", "c: 99"])
        #expect(dispatcher.waitUntilIdle(timeout: .seconds(10)))
        #expect(recorder.events.count == 2)
        let json = try String(decoding: JSONEncoderForTests.encode(engine.activeAlerts), as: UTF8.self)
        #expect(json.contains("\"state\":\"firing\"") && json.contains("\"sinceTime\":\"2026-01-01T00:00:05.000000000Z\""), "\(json)")
    }

    static let twoRules = """
        rules:
          - name: Now
            select: {metric: x}
            aggregate: last
            window: 1m
            condition: "> 10"
          - name: Slow
            select: {metric: y}
            aggregate: last
            window: 1m
            condition: "> 10"
            for: 60s
        """

    @Test func stateSurvivesANewEngineWithoutDuplicatesOrLostFor() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = AlertStateStore(path: dir.path + "/alerts.json")
        let rules = try AlertRuleSet.load(yaml: Self.twoRules)

        // First life: Now fires (notified), Slow is pending since 0 s.
        do {
            let (engine, recorder, dispatcher) = try Self.engine(rules, store: store, clock: ManualEpochClock(now: T.at(0)))
            engine.ingest(samples: [sample(0, 50, name: "x"), sample(0, 50, name: "y")])
            engine.evaluate(now: T.at(0))
            engine.ingest(samples: [sample(20, 50, name: "x"), sample(20, 50, name: "y")])
            engine.evaluate(now: T.at(20))
            #expect(engine.flushState())
            #expect(dispatcher.waitUntilIdle(timeout: .seconds(10)))
            #expect(recorder.events.map { "\($0.rule):\($0.status.rawValue)" } == ["Now:firing"])
            dispatcher.shutdown()
        }
        let saved = try #require(try store.load())
        #expect(saved.alerts.map { "\($0.rule):\($0.state.rawValue)" } == ["Now:firing", "Slow:pending"])
        #expect(saved.alerts.first?.lastNotifiedAt == T.at(0))

        // Second life, restarted at 30 s with empty windows.
        let (engine, recorder, dispatcher) = try Self.engine(rules, store: store, clock: ManualEpochClock(now: T.at(30)))
        defer { dispatcher.shutdown() }
        let restored = engine.activeAlerts
        #expect(restored.map(\.state) == [.firing, .pending])
        #expect(restored.last?.since == T.at(0), "pending keeps its original since-time")
        engine.evaluate(now: T.at(35))  // no data yet: both held, nothing sent
        engine.ingest(samples: [sample(38, 50, name: "x"), sample(38, 50, name: "y")])
        engine.evaluate(now: T.at(40))
        engine.evaluate(now: T.at(55))
        #expect(engine.activeAlerts.map(\.state) == [.firing, .pending])
        engine.ingest(samples: [sample(58, 50, name: "x"), sample(58, 50, name: "y")])
        let fired = engine.evaluate(now: T.at(60))
        #expect(fired.transitions.map { "\($0.key.rule):\($0.from.rawValue)→\($0.to.rawValue)" } == ["Slow:pending→firing"],
                "for 60 s counted from 0 s, across the restart")
        #expect(dispatcher.waitUntilIdle(timeout: .seconds(10)))
        #expect(recorder.events.map { "\($0.rule):\($0.status.rawValue)" } == ["Slow:firing"], "no duplicate for Now")
        let slow = try #require(recorder.events.first)
        #expect(slow.since == T.at(60))
        #expect(engine.flushState(), "the state file is written before the directory goes")
    }

    @Test func unreadableStateIsMovedAside() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let path = dir.path + "/alerts.json"
        try "{not json".write(toFile: path, atomically: true, encoding: .utf8)
        let (engine, _, dispatcher) = try Self.engine(AlertRuleSet(), store: AlertStateStore(path: path))
        defer { dispatcher.shutdown() }
        #expect(engine.activeAlerts.isEmpty)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(names.contains { $0.hasPrefix("alerts.json.corrupt-") }, "\(names)")
    }

    @Test func reloadKeepsStateAndRefusesBadFiles() throws {
        let (engine, recorder, dispatcher) = try Self.engine(try AlertRuleSet.load(yaml: Self.twoRules))
        defer { dispatcher.shutdown() }
        engine.ingest(samples: [sample(0, 50, name: "x")])
        engine.evaluate(now: T.at(0))
        #expect(Self.firing(engine) == ["Now"])

        // A bad file: refused with its line, the old rules stay.
        #expect { try engine.reload(yaml: "rules:\n  - name: Now\n    window: forever\n") } throws: { ($0 as? RuleError)?.line != nil }
        #expect(engine.rules.contains { $0.name == "Slow" })

        // Same "Now", "Slow" gone, "Extra" added: Now keeps firing without a new notice.
        try engine.reload(yaml: """
            rules:
              - name: Now
                select: {metric: x}
                aggregate: last
                window: 1m
                condition: "> 20"
              - name: Extra
                select: {metric: z}
                aggregate: count
                window: 1m
                condition: "> 100"
            """)
        engine.evaluate(now: T.at(5))
        #expect(Self.firing(engine) == ["Now"], "the window was kept: the condition change applies to the same data")
        #expect(engine.interest.metricNames == ["x", "z"])
        // Removing the rule resolves its alert.
        try engine.reload(yaml: "rules: []")
        #expect(dispatcher.waitUntilIdle(timeout: .seconds(10)))
        #expect(recorder.events.map { "\($0.rule):\($0.status.rawValue)" } == ["Now:firing", "Now:resolved"])
        #expect(engine.activeAlerts.isEmpty)
    }

    @Test func reloadWithAHookThatCannotStartNamesItsLine() throws {
        let (engine, _, dispatcher) = try Self.engine(AlertRuleSet())
        defer { dispatcher.shutdown() }
        do {
            try engine.reload(yaml: "hooks:\n  - stdout: {}\n  - file: {path: /nonexistent-dir/alerts.jsonl}\n")
            Issue.record("a hook that cannot open its file was accepted")
        } catch {
            #expect(error.code == .hook)
            #expect(error.line == 3, "\(error)")
        }
    }
}
