import Control
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import Server
import TestSupport
import Testing

/// Daemons, alerts, rules and topology (docs/api.md, "Daemons", "Topology", "Alerts").
@Suite struct ControlRoutesTests {
    /// `GET /api/v1/daemons`.
    struct DaemonListReply: Decodable {
        var daemons: [DaemonHealth]
        var sources: [SourceRecord]
    }

    /// `GET /api/v1/daemons/{id}`.
    struct DaemonDetailReply: Decodable {
        var health: DaemonHealth
        var record: DaemonRecord
        var tasks: [TaskRecord]
        var configs: [DaemonConfigState]
    }

    /// One alert of `GET /api/v1/alerts` (the fields this suite reads).
    struct AlertReply: Decodable {
        var rule: String
        var severity: String
        var state: String
        var value: Double?
        var sinceTime: String
    }

    /// `GET /api/v1/rules` (each rule by its name).
    struct RuleListReply: Decodable {
        struct Rule: Decodable { var name: String }
        var path: String?
        var rules: [Rule]
    }

    /// `GET` and `PUT /api/v1/topology`.
    struct TopologyReply: Decodable, Equatable {
        var shards: [String: String]
    }

    static let hotCPU = """
        rules:
          - name: HotCPU
            severity: critical
            select: {metric: cpu_hot}
            aggregate: max
            window: 1m
            condition: "> 90"
        """

    /// A node whose rules file (`rules.yaml` in its directory) holds ``hotCPU``.
    static func withRules(_ configuration: inout ServeConfiguration, _ directory: TemporaryDirectory) throws {
        try hotCPU.write(toFile: directory.file("rules.yaml"), atomically: true, encoding: .utf8)
        configuration.rulesPath = directory.file("rules.yaml")
    }

    @Test func daemonsListsNativeDaemonsWithTheirHealthAndPlainSources() async throws {
        try await TestNode.run { node, client in
            let empty = try await client.send(.get, "/api/v1/daemons")
            #expect(empty.status == .ok && empty.text == #"{"daemons":[],"sources":[]}"#, "\(empty.text)")
            try await node.connectDaemon("d1", labels: ["rack": "r1"])
            let response = try await client.send(.get, "/api/v1/daemons")
            #expect(response.status == .ok)
            let list = try response.decoded(DaemonListReply.self)
            #expect(list.daemons.map(\.id) == ["d1"] && list.daemons.first?.labels == ["rack": "r1"], "\(response.text)")
            #expect(list.daemons.first?.connected == true && list.sources.isEmpty)
        }
    }

    @Test func aDaemonsPageShowsItsHealthRecordAndTheTasksItHolds() async throws {
        try await TestNode.run { node, client in
            try await node.connectDaemon("d1")
            let created = try await client.send(.post, "/api/v1/tasks", body: #"{"kind":"hostmetrics","stream":"host"}"#)
            let task = try created.decoded(TaskRecord.self)
            let placed = try await eventually { try await client.send(.get, "/api/v1/tasks/\(task.id)").decoded(TaskRecord.self).state == .running }
            #expect(placed, "the task is placed on d1")

            let response = try await client.send(.get, "/api/v1/daemons/d1")
            #expect(response.status == .ok)
            let detail = try response.decoded(DaemonDetailReply.self)
            #expect(detail.health.id == "d1" && detail.record.id == "d1" && detail.record.agentVersion == "test", "\(response.text)")
            #expect(detail.tasks.map(\.id) == [task.id] && detail.tasks.first?.lease?.holder == "d1", "\(response.text)")
            #expect(detail.configs.isEmpty, "d1 reported no configuration")
        }
    }

    @Test func anUnknownDaemonIs404() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.get, "/api/v1/daemons/nobody")
            #expect(response.status == .notFound && response.errorMessage == "no daemon nobody", "\(response.text)")
        }
    }

    @Test func alertsListsWhatIsPendingOrFiring() async throws {
        try await TestNode.run(configure: Self.withRules) { node, client in
            let none = try await client.send(.get, "/api/v1/alerts")
            #expect(none.status == .ok && none.text == #"{"alerts":[]}"#, "\(none.text)")

            #expect(try await client.send(.post, "/write", body: "cpu_hot value=99").status == .noContent)
            let engine = node.parts.alerts.engine
            #expect(await eventually { _ = engine.evaluate(); return engine.activeAlerts.contains { $0.rule == "HotCPU" } }, "HotCPU fires")

            let response = try await client.send(.get, "/api/v1/alerts")
            #expect(response.status == .ok)
            struct AlertList: Decodable { var alerts: [AlertReply] }
            let alert = try #require(try response.decoded(AlertList.self).alerts.first { $0.rule == "HotCPU" }, "\(response.text)")
            #expect(alert.state == "firing" && alert.severity == "critical" && alert.value == 99 && !alert.sinceTime.isEmpty, "\(response.text)")
        }
    }

    @Test func rulesShowWhatIsInForceAndAReloadReadsTheFileAgain() async throws {
        try await TestNode.run(adminToken: "t0k", configure: Self.withRules) { node, client in
            let path = node.directory.file("rules.yaml")
            let before = try await client.send(.get, "/api/v1/rules")
            #expect(before.status == .ok)
            let rules = try before.decoded(RuleListReply.self)
            #expect(rules.path == path && rules.rules.map(\.name).contains("HotCPU"), "\(before.text)")
            #expect(rules.rules.map(\.name).contains("DaemonOffline"), "built-in rules are listed too: \(before.text)")

            try Self.hotCPU.replacingOccurrences(of: "HotCPU", with: "HotterCPU").write(toFile: path, atomically: true, encoding: .utf8)
            let reloaded = try await client.send(.post, "/api/v1/rules/reload", token: "t0k")
            #expect(reloaded.status == .ok)
            let names = try reloaded.decoded(RuleListReply.self).rules.map(\.name)
            #expect(names.contains("HotterCPU") && !names.contains("HotCPU"), "the reply holds the new rules: \(reloaded.text)")
        }
    }

    @Test func aBadRulesFileIsRefusedAndThePreviousRulesStay() async throws {
        try await TestNode.run(configure: Self.withRules) { node, client in
            try "rules:\n  - name: Broken\n    window: forever\n".write(toFile: node.directory.file("rules.yaml"), atomically: true, encoding: .utf8)
            let refused = try await client.send(.post, "/api/v1/rules/reload")
            #expect(refused.status == .badRequest)
            let reply = try refused.decoded(ErrorReply.self)
            #expect(reply.kept == "the previous rules" && reply.error.contains("line"), "\(refused.text)")
            let names = try await client.send(.get, "/api/v1/rules").decoded(RuleListReply.self).rules.map(\.name)
            #expect(names.contains("HotCPU"))
        }
    }

    @Test func topologyIsReplacedByAPutAndShowsInTheNextHealth() async throws {
        try await TestNode.run { _, client in
            let before = try await client.send(.get, "/api/v1/topology")
            #expect(before.status == .ok && before.text == #"{"shards":{}}"#, "\(before.text)")

            let map = TopologyReply(shards: ["0": "eu-west", "1": "us-east"])
            let put = try await client.send(.put, "/api/v1/topology", body: #"{"shards":{"0":"eu-west","1":"us-east"}}"#)
            try #expect(put.status == .ok && (try put.decoded(TopologyReply.self)) == map, "\(put.text)")
            #expect(try await client.send(.get, "/api/v1/topology").decoded(TopologyReply.self) == map)
            let health = try ClusterHealth(jsonString: try await client.send(.get, "/health").text)
            #expect(health.regions.map(\.name) == ["eu-west", "us-east"])
        }
    }

    @Test(arguments: [
        (#"{"shards":["eu"]}"#, #"expected {"shards":{"0":"region",...}}"#),
        (#"{"shards":{"zero":"eu"}}"#, "shard keys must be shard numbers"),
        (#"{"shards":{"9":"eu"}}"#, "shard 9 does not exist (this node has shards 0...1)"),
        (#"{"shards":{"1":""}}"#, "shard 1 has an empty region name"),
    ])
    func aTopologyThatDoesNotFitIsRefused(body: String, error: String) async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.put, "/api/v1/topology", body: body)
            #expect(response.status == .badRequest && response.errorMessage == error, "\(response.text)")
            #expect(try await client.send(.get, "/api/v1/topology").text == #"{"shards":{}}"#, "the map is unchanged")
        }
    }
}
