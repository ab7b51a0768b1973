import Foundation
import Testing
import TestSupport

/// Alert rules in the real node: metrics over Influx and JSON lines cross thresholds, the file
/// hook gets exactly one firing and one resolved notification per alert, state survives a
/// restart, rules reload on SIGHUP and over the API, and a hanging exec hook never slows ingest.
@Suite struct AlertsEndToEndTests {
    func notifications(_ path: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func count(_ list: [[String: Any]], rule: String, status: String) -> Int {
        list.filter { $0["rule"] as? String == rule && $0["status"] as? String == status }.count
    }

    func rules(hookFile: String, extraHook: String = "") -> String {
        """
        rules:
          - name: HotCPU
            severity: critical
            select: {metric: cpu_usage}
            aggregate: max
            window: 2s
            condition: "> 90"
            group_by: [host]
          - name: QueueDeep
            select: {metric: queue_depth}
            aggregate: last
            window: 3s
            condition: ">= 100"
        hooks:
          - file: {path: \(hookFile)}
        \(extraHook)
        """
    }

    /// Sends `influx` over Influx and `json` over JSON lines every 300 ms until both HotCPU and
    /// QueueDeep have a `status` notification in `hookFile`, or `seconds` pass.
    func feed(_ node: HyphaNode, influx: String, json: String, until status: String, in hookFile: String, seconds: Int64) throws {
        _ = try eventuallyBlocking(timeout: .seconds(seconds), every: .milliseconds(300)) {
            let seen = notifications(hookFile)
            if count(seen, rule: "HotCPU", status: status) > 0 && count(seen, rule: "QueueDeep", status: status) > 0 { return true }
            let influxClient = try LineClient(port: node.port("influx"))
            influxClient.send(influx)
            influxClient.close()
            let jsonClient = try LineClient(port: node.port("json"))
            jsonClient.send(json)
            jsonClient.close()
            return false
        }
    }

    /// The evaluation rounds the node has run since it started.
    func evaluations(_ node: HyphaNode) -> Double {
        (try? node.http("/metrics").1).flatMap { metric($0, "hypha_alert_evaluations_total") } ?? 0
    }

    @Test func thresholdsFireOnceResolveOnceAndSurviveARestart() throws {
        let dir = TemporaryDirectory("hypha-alerts").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hookFile = dir + "/alerts.jsonl"
        try rules(hookFile: hookFile).write(toFile: dir + "/rules.yaml", atomically: true, encoding: .utf8)
        let args = ["--rules", dir + "/rules.yaml", "--evaluation-interval-s", "1"]
        var node = try HyphaNode(data: dir + "/data", arguments: args)

        // Cross both thresholds: CPU over Influx, queue depth over JSON lines.
        try feed(
            node, influx: "cpu,host=web1 usage=97.5\ncpu,host=web2 usage=20\n",
            json: #"{"metric":"queue_depth","value":150,"labels":{"queue":"mail"}}"# + "\n", until: "firing", in: hookFile, seconds: 20)
        var seen = notifications(hookFile)
        #expect(count(seen, rule: "HotCPU", status: "firing") == 1, "one firing HotCPU: \(seen)")
        #expect(count(seen, rule: "QueueDeep", status: "firing") == 1)
        let hot = seen.first { $0["rule"] as? String == "HotCPU" }
        #expect((hot?["labels"] as? [String: String])?["host"] == "web1", "grouped by host: only web1 fires")
        let (_, active) = try node.http("/api/v1/alerts")
        #expect(active.contains("HotCPU") && active.contains("firing"), "\(active)")

        // A restart keeps the state: no second firing notification, checked all through the
        // restarted node's first three evaluation rounds (a duplicate would come from one of them).
        node.stop()
        node = try HyphaNode(data: dir + "/data", arguments: args)
        #expect(holdsBlocking({
            let now = notifications(hookFile)
            return count(now, rule: "HotCPU", status: "firing") == 1 && count(now, rule: "QueueDeep", status: "firing") == 1
        }, until: { evaluations(node) >= 3 }), "no duplicate after restart (\(evaluations(node)) rounds): \(notifications(hookFile))")

        // Back to normal: each alert resolves exactly once.
        try feed(
            node, influx: "cpu,host=web1 usage=12\n", json: #"{"metric":"queue_depth","value":3,"labels":{"queue":"mail"}}"# + "\n",
            until: "resolved", in: hookFile, seconds: 25)
        // No second resolved (or firing) notification follows in the next two rounds.
        let resolvedAt = evaluations(node)
        #expect(holdsBlocking({
            let now = notifications(hookFile)
            return ["HotCPU", "QueueDeep"].allSatisfy { count(now, rule: $0, status: "firing") == 1 && count(now, rule: $0, status: "resolved") <= 1 }
        }, until: { evaluations(node) >= resolvedAt + 2 }), "no notification after resolving: \(notifications(hookFile))")
        seen = notifications(hookFile)
        for rule in ["HotCPU", "QueueDeep"] {
            #expect(count(seen, rule: rule, status: "firing") == 1 && count(seen, rule: rule, status: "resolved") == 1,
                    "\(rule): exactly one firing and one resolved: \(seen)")
        }
        node.stop()
    }

    @Test func rulesReloadOnSIGHUPAndTheAPIAndBadFilesAreRefused() throws {
        let dir = TemporaryDirectory("hypha-rules").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let rulesFile = dir + "/rules.yaml"
        try rules(hookFile: dir + "/a.jsonl").write(toFile: rulesFile, atomically: true, encoding: .utf8)
        let node = try HyphaNode(data: dir + "/data", arguments: ["--rules", rulesFile, "--admin-token", "t0k"])
        #expect(try node.http("/api/v1/rules").1.contains("QueueDeep"))

        try rules(hookFile: dir + "/a.jsonl").replacingOccurrences(of: "QueueDeep", with: "QueueVeryDeep")
            .write(toFile: rulesFile, atomically: true, encoding: .utf8)
        node.process.send(SIGHUP)
        #expect(eventuallyBlocking { (try? node.http("/api/v1/rules").1.contains("QueueVeryDeep")) ?? false }, "SIGHUP reloaded the rules")

        try "rules:\n  - name: Broken\n    window: forever\n".write(toFile: rulesFile, atomically: true, encoding: .utf8)
        let (refused, refusal) = try node.http("/api/v1/rules/reload", method: "POST", headers: ["Authorization: Bearer t0k"])
        #expect(refused == 400 && refusal.contains("line"), "a bad file is refused with its line: \(refused) \(refusal)")
        #expect(try node.http("/api/v1/rules").1.contains("QueueVeryDeep"), "the previous rules stay")
        #expect(try node.http("/api/v1/rules/reload", method: "POST").0 == 401)
        #expect(node.process.isRunning, "the node survived SIGHUP and the bad file")
        node.stop()

        let bad = try runHypha(["serve", "--data", dir + "/data2", "--rules", rulesFile, "--native-port", "0", "--syslog-port", "0", "--json-port", "0", "--influx-port", "0", "--graphite-port", "0", "--http-port", "0"])
        #expect(bad.status != 0 && bad.stderr.contains("line"), "an invalid rules file at start is an error naming the line: \(bad.stderr)")
    }

    @Test func aHangingExecHookDoesNotSlowIngestion() throws {
        let dir = TemporaryDirectory("hypha-exec").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let hookFile = dir + "/alerts.jsonl"
        let exec = "  - exec: {command: [/bin/sleep, \"30\"], timeout: 20s}"
        try rules(hookFile: hookFile, extraHook: exec).write(toFile: dir + "/rules.yaml", atomically: true, encoding: .utf8)
        let node = try HyphaNode(data: dir + "/data", arguments: ["--rules", dir + "/rules.yaml", "--evaluation-interval-s", "1"])
        let json = try LineClient(port: node.port("json"))
        json.send(#"{"metric":"queue_depth","value":500}"# + "\n")
        json.close()
        #expect(eventuallyBlocking(timeout: .seconds(15)) { count(notifications(hookFile), rule: "QueueDeep", status: "firing") == 1 }, "fired")
        // The exec hook is now sleeping; ingest must carry on at full speed.
        let started = Date()
        let lines = 50_000
        let client = try LineClient(port: node.port("json"))
        client.send(String(repeating: #"{"message":"busy","host":"h"}"# + "\n", count: lines))
        client.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: Double(lines + 1), seconds: 20))
        let took = Date().timeIntervalSince(started)
        #expect(took < 15, "50,000 lines took \(took) s while the exec hook hung")
        #expect(try node.http("/api/v1/alerts").0 == 200, "the API answers too")
        let metrics = try node.http("/metrics").1
        #expect(metrics.contains(#"hypha_hook_notifications_total{hook="exec"#) && metrics.contains(#"hypha_alerts{state="firing"} 1"#), "hook and alert counters in /metrics")
        node.stop()
    }
}
