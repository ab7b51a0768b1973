import Control
import Testing

/// The pure state machine: `for`, `keep_firing_for`, flapping input, group_by keys, holds.
@Suite struct AlertStateMachineTests {
    typealias T = TestTime
    static let over90 = AlertCondition(.greater, 90)

    /// (from, to) of each transition.
    static func moves(_ t: [AlertTransition]) -> [String] { t.map { "\($0.from.rawValue)→\($0.to.rawValue)" } }

    @Test func firesAtOnceWithoutFor() {
        let rule = metricRule("r", .avg, Self.over90)
        var m = AlertStateMachine(rules: [rule])
        let key = AlertKey(rule: "r")
        #expect(Self.moves(m.evaluate(now: T.at(0), values: [key: 50])) == [])
        let t = m.evaluate(now: T.at(5), values: [key: 95])
        #expect(Self.moves(t) == ["inactive→firing"])
        #expect(t.first?.firingSince == T.at(5))
        #expect(m.alerts[key]?.state == .firing)
        #expect(Self.moves(m.evaluate(now: T.at(10), values: [key: 96])) == [], "no transition while it keeps firing")
        #expect(m.alerts[key]?.value == 96)
        #expect(Self.moves(m.evaluate(now: T.at(15), values: [key: 10])) == ["firing→resolved"])
        #expect(m.alerts.isEmpty, "resolved alerts are forgotten")
    }

    @Test func pendingUntilTheConditionHeldForFor() {
        let rule = metricRule("r", .avg, Self.over90, for: 10)
        var m = AlertStateMachine(rules: [rule])
        let key = AlertKey(rule: "r")
        #expect(Self.moves(m.evaluate(now: T.at(0), values: [key: 95])) == ["inactive→pending"])
        #expect(m.alerts[key]?.since == T.at(0))
        #expect(Self.moves(m.evaluate(now: T.at(5), values: [key: 95])) == [], "5 s of 10")
        #expect(m.alerts[key]?.state == .pending)
        let t = m.evaluate(now: T.at(10), values: [key: 97])
        #expect(Self.moves(t) == ["pending→firing"], "held for exactly `for`")
        #expect(t.first?.activeSince == T.at(0))
        #expect(t.first?.firingSince == T.at(10))
        #expect(t.first?.value == 97)
        #expect(m.alerts[key]?.since == T.at(10), "since is the firing time once firing")
    }

    @Test func flappingInputResetsPending() {
        let rule = metricRule("r", .avg, Self.over90, for: 10)
        var m = AlertStateMachine(rules: [rule])
        let key = AlertKey(rule: "r")
        var log: [String] = []
        // Above, above, below, above, above, above: the break at 10 s restarts `for`.
        for (t, v) in [(0.0, 95.0), (5, 95), (10, 50), (15, 95), (20, 95), (25, 95)] {
            log += Self.moves(m.evaluate(now: T.at(t), values: [key: v])).map { "\(Int(t)):\($0)" }
        }
        #expect(log == ["0:inactive→pending", "10:pending→inactive", "15:inactive→pending", "25:pending→firing"])
        #expect(m.alerts[key]?.activeSince == T.at(15))
        // A missing value counts as "does not hold" too.
        var n = AlertStateMachine(rules: [rule])
        _ = n.evaluate(now: T.at(0), values: [key: 95])
        #expect(Self.moves(n.evaluate(now: T.at(5), values: [:])) == ["pending→inactive"])
        _ = n.evaluate(now: T.at(10), values: [key: 95])
        #expect(Self.moves(n.evaluate(now: T.at(15), values: [key: nil])) == ["pending→inactive"])
    }

    @Test func keepFiringForHoldsAfterTheConditionStops() {
        let rule = metricRule("r", .avg, Self.over90, keep: 10)
        var m = AlertStateMachine(rules: [rule])
        let key = AlertKey(rule: "r")
        var log: [String] = []
        // Fires at 0; stops holding at 5; back at 10 (the keep restarts); stops at 15 for good.
        for (t, v) in [(0.0, 95.0), (5, 50), (10, 95), (15, 50), (20, 50), (25, 50)] {
            log += Self.moves(m.evaluate(now: T.at(t), values: [key: v])).map { "\(Int(t)):\($0)" }
        }
        #expect(log == ["0:inactive→firing", "25:firing→resolved"], "keep_firing_for 10 s counted from 15 s")
    }

    @Test func groupByKeysAreSeparateAlerts() {
        let rule = metricRule("r", .avg, Self.over90, for: 5, groupBy: ["host"])
        var m = AlertStateMachine(rules: [rule])
        let a = AlertKey(rule: "r", labels: ["host": "a"])
        let b = AlertKey(rule: "r", labels: ["host": "b"])
        #expect(a.fingerprint != b.fingerprint)
        #expect(Self.moves(m.evaluate(now: T.at(0), values: [a: 95, b: 10])) == ["inactive→pending"])
        let t = m.evaluate(now: T.at(5), values: [a: 95, b: 99])
        #expect(Set(t.map(\.key)) == [a, b])
        #expect(t.count == 2)
        #expect(m.alerts[a]?.state == .firing)
        #expect(m.alerts[b]?.state == .pending)
    }

    @Test func fingerprintsAreStable() {
        let k1 = AlertKey(rule: "HighCPU", labels: ["host": "web-1", "dc": "x"])
        let k2 = AlertKey(rule: "HighCPU", labels: ["dc": "x", "host": "web-1"])
        #expect(k1 == k2 && k1.fingerprint == k2.fingerprint)
        #expect(k1.fingerprintHex.count == 16)
        // FNV-1a 64 of "HighCPU" 0xFF "dc" 0x00 "x" 0xFF "host" 0x00 "web-1" 0xFF: fixed across runs and machines.
        #expect(k1.fingerprintHex == "28c42a74642c637b", "\(k1.fingerprintHex)")
        #expect(AlertKey(rule: "a").fingerprintHex == "089bc907b544c769")
        #expect(AlertKey(rule: "HighCPU").fingerprint != AlertKey(rule: "HighCPU", labels: ["host": ""]).fingerprint)
    }

    @Test func restoredAlertsAreHeldWhileTheWindowRefills() {
        let rule = metricRule("r", .avg, window: 60, Self.over90, for: 30)
        var m = AlertStateMachine(rules: [rule])
        let pendingKey = AlertKey(rule: "r", labels: ["host": "a"])
        let firingKey = AlertKey(rule: "r", labels: ["host": "b"])
        let taken = m.restore([
            .init(key: pendingKey, state: .pending, activeSince: T.at(-20), value: 95),
            .init(key: firingKey, state: .firing, activeSince: T.at(-100), firingSince: T.at(-70), value: 99),
            .init(key: AlertKey(rule: "gone"), state: .firing, activeSince: T.at(-100)),
        ], now: T.at(0), holdFor: 10 * T.s)
        #expect(taken.count == 2, "the alert of a removed rule is skipped")
        // No data yet: both held (hold = max(window 60 s, 10 s)).
        #expect(Self.moves(m.evaluate(now: T.at(5), values: [:])) == [])
        // Data for the pending one: `for` counts from its original start (-20 s), so it fires at 10 s.
        let t = m.evaluate(now: T.at(10), values: [pendingKey: 96])
        #expect(Self.moves(t) == ["pending→firing"])
        #expect(t.first?.activeSince == T.at(-20))
        // After the hold, a missing value ends the firing one.
        #expect(Self.moves(m.evaluate(now: T.at(59), values: [pendingKey: 96])) == [])
        #expect(Self.moves(m.evaluate(now: T.at(60), values: [pendingKey: 96])) == ["firing→resolved"])
    }

    @Test func removedRulesResolveTheirAlerts() {
        let a = metricRule("a", .avg, Self.over90)
        let b = metricRule("b", .avg, Self.over90, for: 60)
        var m = AlertStateMachine(rules: [a, b])
        _ = m.evaluate(now: T.at(0), values: [AlertKey(rule: "a"): 95, AlertKey(rule: "b"): 95])
        let t = m.updateRules([], now: T.at(5))
        #expect(Self.moves(t) == ["firing→resolved", "pending→inactive"])
        #expect(m.alerts.isEmpty)
    }
}
