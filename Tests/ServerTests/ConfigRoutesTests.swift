import Control
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

/// Configuration versions and rollouts (docs/api.md, "Configuration and rollouts").
@Suite struct ConfigRoutesTests {
    /// `PUT /api/v1/config/{name}`.
    struct PutReply: Decodable {
        var document: ConfigDocument
        var rollout: Rollout?
        var unchanged: Bool
    }

    /// One entry of `GET /api/v1/config`, with the documented snake_case key.
    struct SummaryReply: Decodable, Equatable {
        var name: String
        var current: UInt64?
        var lastKnownGood: UInt64?
        var versions: Int

        enum CodingKeys: String, CodingKey {
            case name, current, versions
            case lastKnownGood = "last_known_good"
        }
    }

    /// `GET /api/v1/config/{name}`.
    struct DetailReply: Decodable {
        var name: String
        var current: UInt64?
        var lastKnownGood: UInt64?
        var versions: [ConfigDocument]
        var daemons: [String: DaemonConfigState]

        enum CodingKeys: String, CodingKey {
            case name, current, versions, daemons
            case lastKnownGood = "last_known_good"
        }
    }

    @Test func aDocumentWithItsSelectorFromTheQueryCreatesAVersion() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(
                .put, "/api/v1/config/agent?labels=env=prod,tier=web&region=eu&comment=first", body: "level: info\n", contentType: "application/yaml")
            #expect(response.status == .created)
            let reply = try response.decoded(PutReply.self)
            #expect(reply.document.name == "agent" && reply.document.version == 1 && reply.document.content == "level: info\n", "\(response.text)")
            #expect(reply.document.selector == DaemonSelector(labels: ["env": "prod", "tier": "web"], region: "eu") && reply.document.comment == "first")
            #expect(reply.rollout == nil && !reply.unchanged)

            let again = try await client.send(
                .put, "/api/v1/config/agent?labels=env=prod,tier=web&region=eu", body: "level: info\n", contentType: "application/yaml")
            #expect(again.status == .ok)
            let same = try again.decoded(PutReply.self)
            #expect(same.unchanged && same.document.version == 1, "the same content and selector make no new version: \(again.text)")
        }
    }

    @Test func aJSONEnvelopeCarriesContentSelectorAndComment() async throws {
        try await TestNode.run { _, client in
            let body = #"{"content":"level: debug\n","selector":{"labels":{"env":"dev"}},"comment":"envelope"}"#
            let response = try await client.send(.put, "/api/v1/config/agent", body: body, contentType: "application/json")
            #expect(response.status == .created)
            let reply = try response.decoded(PutReply.self)
            #expect(reply.document.content == "level: debug\n" && reply.document.selector.labels == ["env": "dev"] && reply.document.comment == "envelope")
        }
    }

    @Test(arguments: [
        ("/api/v1/config/agent", "key: [unclosed\n", "text/yaml", "line "),
        ("/api/v1/config/agent", #"{"selector":{}}"#, "application/json", #"expected {"content": "#),
        ("/api/v1/config/agent?labels=env", "a: 1\n", "text/yaml", "labels must look like labels=env=prod,tier=web; got 'env'"),
        ("/api/v1/config/agent?batch_size=many", "a: 1\n", "text/yaml", "batch_size must be a number, got 'many'"),
        ("/api/v1/config/agent?batch_size=1&batch_percent=10", "a: 1\n", "text/yaml", "give batch_size or batch_percent, not both"),
        ("/api/v1/config/bad!name", "a: 1\n", "text/yaml", "configuration name 'bad!name' may only use A-Z a-z 0-9 . _ -"),
    ])
    func anInvalidDocumentOrStrategyIs400(uri: String, body: String, contentType: String, error: String) async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.put, uri, body: body, contentType: contentType)
            #expect(response.status == .badRequest && response.errorMessage?.hasPrefix(error) == true, "\(response.text)")
            #expect(try await client.send(.get, "/api/v1/config").text == #"{"configs":[]}"#, "nothing was stored")
        }
    }

    @Test func aDocumentOverOneMiBIs429() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.put, "/api/v1/config/agent", body: String(repeating: "a: b\n", count: 220_000), contentType: "text/yaml")
            #expect(response.status == .tooManyRequests && response.errorMessage?.hasPrefix("the document is 1100000 bytes") == true, "\(response.text)")
        }
    }

    @Test func theListAndTheHistoryShowEveryVersion() async throws {
        try await TestNode.run { node, client in
            for level in ["info", "debug"] {
                #expect(try await client.send(.put, "/api/v1/config/agent", body: "level: \(level)\n", contentType: "text/yaml").status == .created)
            }
            let lastKnownGood = try await node.parts.coordinator.perform { $0.configs.lastKnownGood("agent")?.version }
            let list = try await client.send(.get, "/api/v1/config")
            #expect(list.status == .ok)
            struct ListReply: Decodable { var configs: [SummaryReply] }
            #expect(try list.decoded(ListReply.self).configs == [SummaryReply(name: "agent", current: 2, lastKnownGood: lastKnownGood, versions: 2)], "\(list.text)")

            let response = try await client.send(.get, "/api/v1/config/agent")
            #expect(response.status == .ok)
            let detail = try response.decoded(DetailReply.self)
            #expect(detail.name == "agent" && detail.current == 2 && detail.lastKnownGood == lastKnownGood, "\(response.text)")
            #expect(detail.versions.map(\.content) == ["level: info\n", "level: debug\n"] && detail.daemons.isEmpty, "oldest first: \(response.text)")
        }
    }

    @Test func anUnknownConfigurationIs404() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.get, "/api/v1/config/nothing")
            #expect(response.status == .notFound && response.errorMessage == "no configuration named nothing", "\(response.text)")
        }
    }

    @Test func aRolloutIsListedPausedResumedAndAborted() async throws {
        try await TestNode.run { node, client in
            try await node.connectDaemon("d1", labels: ["env": "prod"])
            try await node.connectDaemon("d2", labels: ["env": "prod"])
            #expect(try await client.send(.put, "/api/v1/config/agent?labels=env=prod", body: "level: info\n", contentType: "text/yaml").status == .created)
            let started = try await client.send(
                .put, "/api/v1/config/agent?labels=env=prod&batch_size=1&gate_seconds=600", body: "level: warn\n", contentType: "text/yaml")
            #expect(started.status == .created)
            let rollout = try #require(try started.decoded(PutReply.self).rollout, "\(started.text)")
            #expect(rollout.state == .running && rollout.toVersion == 2 && rollout.batchCount == 2, "\(started.text)")

            let conflict = try await client.send(.put, "/api/v1/config/agent?labels=env=prod", body: "level: error\n", contentType: "text/yaml")
            #expect(conflict.status == .conflict && conflict.errorMessage?.hasPrefix("rollout \(rollout.id) of 'agent'") == true, "\(conflict.text)")

            let list = try await client.send(.get, "/api/v1/rollouts")
            struct ListReply: Decodable { var rollouts: [Rollout] }
            try #expect(list.status == .ok && (try list.decoded(ListReply.self)).rollouts.map(\.id) == [rollout.id], "\(list.text)")
            let one = try await client.send(.get, "/api/v1/rollouts/\(rollout.id)")
            try #expect(one.status == .ok && (try one.decoded(Rollout.self)).daemons.map(\.id) == ["d1", "d2"], "\(one.text)")

            for (action, state) in [("pause", RolloutState.paused), ("resume", .running), ("abort", .aborted)] {
                let response = try await client.send(.post, "/api/v1/rollouts/\(rollout.id)/\(action)")
                try #expect(response.status == .ok && (try response.decoded(Rollout.self)).state == state, "\(action): \(response.text)")
            }
            let finished = try await client.send(.post, "/api/v1/rollouts/\(rollout.id)/resume")
            #expect(finished.status == .conflict, "a finished rollout cannot be resumed: \(finished.text)")
        }
    }

    @Test func anUnknownRolloutOrActionIs404() async throws {
        try await TestNode.run { _, client in
            let get = try await client.send(.get, "/api/v1/rollouts/r-9")
            #expect(get.status == .notFound && get.errorMessage == "no rollout r-9", "\(get.text)")
            let pause = try await client.send(.post, "/api/v1/rollouts/r-9/pause")
            #expect(pause.status == .notFound, "\(pause.text)")
            let action = try await client.send(.post, "/api/v1/rollouts/r-9/restart")
            #expect(action.status == .notFound && action.errorMessage == "unknown action 'restart': use pause, resume or abort", "\(action.text)")
        }
    }
}
