import Control
import Hummingbird
import HummingbirdTesting
import Ingest
@testable import Server
import Testing

/// `GET /health`, `GET /metrics` and `POST /write` (docs/api.md, "Health" and "Ingest").
@Suite struct HealthAndIngestRoutesTests {
    @Test func healthIsTheClusterHealthInItsOwnJSON() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.get, "/health")
            #expect(response.status == .ok && response.headers[.contentType]?.hasPrefix("application/json") == true)
            let health = try ClusterHealth(jsonString: response.text)
            #expect(health.shards.map(\.shard) == [0, 1], "both shards: \(response.text)")
            #expect(try health.jsonString() == response.text, "the body is ClusterHealth.jsonString(), byte for byte")
        }
    }

    @Test func metricsArePrometheusText() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let lines = response.text.split(separator: "\n")
            for start in ["# TYPE hypha_wal_segments gauge", #"hypha_wal_segments{shard="1"} "#, #"hypha_control_tasks{state="pending"} 0"#] {
                #expect(lines.contains { $0.hasPrefix(start) }, "a line starting \(start) in:\n\(response.text)")
            }
        }
    }

    @Test func writeAnswers204OnceEverySampleIsDurable() async throws {
        try await TestNode.run { node, client in
            let response = try await client.send(.post, "/write?precision=s", body: "mem,host=db1 used=42i 1700000000\nmem,host=db2 used=43i 1700000001")
            #expect(response.status == .noContent && response.body.readableBytes == 0, "\(response.status) \(response.text)")
            #expect(node.parts.ingest.durableRecordsSinceStart == 2)
        }
    }

    @Test func writeNamesTheFirstBadLineAndStoresTheGoodOnes() async throws {
        try await TestNode.run { node, client in
            let body = "net,host=db1 rx=1i 1700000000000\nnet,host=db1 rx=??? 1700000000000\nnet,host=db1 tx=2i 1700000000000\n"
            let partial = try await client.send(.post, "/write?precision=ms", body: body)
            #expect(partial.status == .badRequest)
            let reply = try partial.decoded(ErrorReply.self)
            #expect(reply.accepted == 2 && reply.dropped == 1, "\(partial.text)")
            #expect(reply.error.hasPrefix("partial write: unable to parse line 2 'net,host=db1 rx=??? 1700000000000': ") && reply.error.hasSuffix(" dropped=1"), "\(reply.error)")
            #expect(node.parts.ingest.durableRecordsSinceStart == 2, "the good lines are stored")

            let bad = try await client.send(.post, "/write", body: "garbage\n")
            #expect(bad.status == .badRequest)
            let none = try bad.decoded(ErrorReply.self)
            #expect(none.accepted == 0 && none.dropped == 1 && none.error.hasPrefix("unable to parse line 1 'garbage': "), "\(bad.text)")
        }
    }

    @Test func writeRefusesAnUnknownPrecision() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.post, "/write?precision=fortnights", body: "x v=1")
            #expect(response.status == .badRequest)
            #expect(response.errorMessage == "invalid precision fortnights: use ns, u, ms, s, m or h", "\(response.text)")
        }
    }

    @Test func writeRefusesABodyPastTheLimit() async throws {
        try await TestNode.run(configure: { configuration, _ in configuration.maxBodyBytes = 64 }) { _, client in
            let response = try await client.send(.post, "/write", body: String(repeating: "x v=1\n", count: 20))
            #expect(response.status == .contentTooLarge)
            #expect(response.errorMessage == "request body exceeds 64 bytes", "\(response.text)")
        }
    }
}
