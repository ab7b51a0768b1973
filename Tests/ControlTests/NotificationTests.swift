import Control
import Foundation
import Testing

/// The pure notifier: deduplication, repeat interval, one resolved notice, grouping by rule, JSON.
@Suite struct NotificationTests {
    typealias T = TestTime

    /// Drives a machine and a notifier together, as the engine does.
    struct Rig {
        var machine: AlertStateMachine
        var notifier: Notifier

        init(_ rules: [AlertRule], repeat seconds: Double = 3600) {
            machine = AlertStateMachine(rules: rules)
            notifier = Notifier(repeatInterval: Int64(seconds * 1e9), nodeName: "node-1")
        }

        mutating func step(_ t: Double, _ values: [AlertKey: Double?]) -> [AlertNotification] {
            let transitions = machine.evaluate(now: T.at(t), values: values)
            let rules = machine.rules
            return notifier.plan(now: T.at(t), transitions: transitions, firing: machine.firing, rules: { rules[$0] })
        }
    }

    static func statuses(_ n: [AlertNotification]) -> [String] {
        n.flatMap { $0.events.map { "\($0.rule):\($0.status.rawValue):\($0.labels["host"] ?? "-")" } }
    }

    @Test func firingIsSentOnceThenRepeatedThenResolvedOnce() {
        let rule = metricRule("r", .avg, AlertCondition(.greater, 90))
        var rig = Rig([rule], repeat: 60)
        let key = AlertKey(rule: "r")
        var sent: [String] = []
        for t in stride(from: 0.0, through: 125, by: 5) {
            let v: Double = t < 125 ? 95 : 10
            sent += Self.statuses(rig.step(t, [key: v])).map { "\(Int(t)):\($0)" }
        }
        #expect(sent == ["0:r:firing:-", "60:r:firing:-", "120:r:firing:-", "125:r:resolved:-"],
                "once at 0, repeats every 60 s, one resolved notice: \(sent)")
        // Nothing more once resolved, whatever happens to stay below.
        for t in stride(from: 130.0, through: 300, by: 5) {
            #expect(rig.step(t, [key: 10]).isEmpty)
            #expect(rig.step(t + 1, [:]).isEmpty)
        }
    }

    @Test func pendingAlertsAreNotAnnouncedAndFlappingPendingNeverNotifies() {
        let rule = metricRule("r", .avg, AlertCondition(.greater, 90), for: 30)
        var rig = Rig([rule])
        let key = AlertKey(rule: "r")
        for t in stride(from: 0.0, to: 200, by: 5) {
            let v: Double = Int(t) % 20 < 15 ? 95 : 10  // breaks every 20 s, before `for` elapses
            #expect(rig.step(t, [key: v]).isEmpty, "at \(t)")
        }
    }

    @Test func notificationsAreGroupedByRule() {
        let cpu = metricRule("cpu", .avg, AlertCondition(.greater, 90), groupBy: ["host"])
        let mem = metricRule("mem", .avg, AlertCondition(.greater, 90), groupBy: ["host"])
        var rig = Rig([cpu, mem])
        let keys = ["a", "b", "c"].map { AlertKey(rule: "cpu", labels: ["host": $0]) }
        let memKey = AlertKey(rule: "mem", labels: ["host": "a"])
        let first = rig.step(0, [keys[0]: 95, keys[1]: 96, keys[2]: 97, memKey: 99])
        #expect(first.map(\.rule) == ["cpu", "mem"], "one notification per rule")
        #expect(first[0].events.count == 3)
        #expect(Set(first[0].events.map { $0.labels["host"]! }) == ["a", "b", "c"])
        #expect(first[0].jsonLines.split(separator: "\n").count == 3, "one line per alert")
        // b resolves, a new host d fires: one cpu notification carrying both changes; the others are deduplicated.
        let d = AlertKey(rule: "cpu", labels: ["host": "d"])
        let second = rig.step(5, [keys[0]: 95, keys[2]: 97, d: 91, memKey: 99])
        #expect(Self.statuses(second) == ["cpu:firing:d", "cpu:resolved:b"])
    }

    @Test func eventJSONHasTheDocumentedShape() throws {
        var rule = metricRule("HighCPU", .avg, AlertCondition(.greater, 90), groupBy: ["host"])
        rule.severity = .critical
        rule.labels = ["team": "ops"]
        rule.annotations = ["summary": "CPU on {{ $labels.host }} is {{ $value }}%"]
        var rig = Rig([rule])
        let key = AlertKey(rule: "HighCPU", labels: ["host": "web-\"1\""])
        let n = rig.step(0, [key: 97.5])
        let line = try #require(n.first?.events.first?.json)
        #expect(line == """
            {"status":"firing","rule":"HighCPU","severity":"critical","fingerprint":"\(key.fingerprintHex)",\
            "labels":{"host":"web-\\"1\\"","team":"ops"},"annotations":{"summary":"CPU on web-\\"1\\" is 97.5%"},\
            "value":97.5,"since":"2026-01-01T00:00:00.000000000Z","at":"2026-01-01T00:00:00.000000000Z","node":"node-1"}
            """)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "firing")
        #expect((object["labels"] as? [String: String])?["host"] == "web-\"1\"")
        let resolved = rig.step(7, [:])
        let r = try #require(resolved.first?.events.first)
        #expect(r.status == .resolved)
        #expect(r.since == T.at(0), "since: when it started firing")
        #expect(r.at == T.at(7))
        #expect(r.value == 97.5, "the last value it had")
        #expect(r.json.contains("\"status\":\"resolved\""))
    }

    @Test func restoredSendTimesPreventDuplicates() {
        let rule = metricRule("r", .avg, AlertCondition(.greater, 90))
        var machine = AlertStateMachine(rules: [rule])
        let key = AlertKey(rule: "r")
        machine.restore([.init(key: key, state: .firing, activeSince: T.at(-30), firingSince: T.at(-30), value: 95)], now: T.at(0))
        var notifier = Notifier(repeatInterval: 3600 * T.s, nodeName: "n")
        notifier.restore(lastSent: [key: T.at(-30)])
        let t = machine.evaluate(now: T.at(5), values: [key: 96])
        #expect(notifier.plan(now: T.at(5), transitions: t, firing: machine.firing, rules: { _ in rule }).isEmpty)
        // But the repeat interval still runs from the restored time.
        let later = machine.evaluate(now: T.at(3570), values: [key: 96])
        #expect(notifier.plan(now: T.at(3570), transitions: later, firing: machine.firing, rules: { _ in rule }).map(\.rule) == ["r"])
    }
}
