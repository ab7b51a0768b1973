import Foundation
import Hummingbird
import HummingbirdTesting
import Platform
@testable import Server
import Testing
import WAL

/// `/api/v1/logs/query`, `/top` and `/histogram` on a real server on loopback, over records
/// written into the node's own WAL.
@Suite struct LogsRoutesTests {
    static let t0: Int64 = 1_796_197_200 * 1_000_000_000

    /// 40 records one second apart, alternating between the two shards, ten per batch; every
    /// fourth says "needle"; hosts h0 … h3.
    static func fill(_ node: TestNode) throws {
        for batch in 0 ..< 4 {
            var payload: [UInt8] = []
            let indexes = (0 ..< 10).map { batch * 10 + $0 }
            for i in indexes {
                RecordEncoder.append(LogRecord(
                    timestamp: t0 + Int64(i) * 1_000_000_000, severity: UInt8(i % 8), host: "h\(i % 4)", app: "app",
                    message: "line \(i)\(i % 4 == 0 ? " needle" : "")", fields: [("n", "\(i)")]), to: &payload)
            }
            let draft = BatchDraft(
                payload: payload, recordCount: 10, minTimestamp: t0 + Int64(indexes.first!) * 1_000_000_000,
                maxTimestamp: t0 + Int64(indexes.last!) * 1_000_000_000)
            _ = try node.parts.wal.shard(batch % 2).append(draft)
        }
    }

    struct Search: Decodable {
        struct Record: Decodable { var shard: Int; var seq: Int; var ts: Int64; var host: String; var message: String }
        struct Statistics: Decodable { var batchesRead: Int; var batchesSkipped: Int; var recordsMatched: Int }
        var records: [Record]
        var truncated: Bool
        var statistics: Statistics
    }

    struct Top: Decodable {
        struct Value: Decodable { var value: String; var count: Int; var share: Double }
        var by: String
        var total: Int
        var values: [Value]
    }

    struct Histogram: Decodable {
        struct Bucket: Decodable { var start: Int64; var count: Int }
        var width: Int64
        var buckets: [Bucket]
    }

    @Test func searchTopAndHistogramAnswerJSON() async throws {
        try await TestNode.run(setup: .live) { node, client in
            try Self.fill(node)
            let search = try await client.send(.get, "/api/v1/logs/query?query=needle&limit=3")
            #expect(search.status == .ok, "\(search.text)")
            let found = try search.decoded(Search.self)
            #expect(found.records.map(\.message) == ["line 36 needle", "line 32 needle", "line 28 needle"])
            #expect(found.truncated && found.statistics.recordsMatched >= 3)
            let oldest = try await client.send(.get, "/api/v1/logs/query?query=needle&reverse=true&limit=2").decoded(Search.self)
            #expect(oldest.records.map(\.message) == ["line 0 needle", "line 4 needle"])
            let from = RecordJSON.rfc3339(Self.t0 + 20_000_000_000)
            let window = try await client.send(.get, "/api/v1/logs/query?from=\(from)&to=\(Self.t0 + 29_000_000_000)&limit=100").decoded(Search.self)
            #expect(window.records.count == 10 && window.statistics.batchesRead == 1 && window.statistics.batchesSkipped == 3, "\(window.statistics)")

            let encoded = "host:h1%20or%20host:h2"
            let top = try await client.send(.get, "/api/v1/logs/top?by=host&query=\(encoded)").decoded(Top.self)
            #expect(top.by == "host" && top.total == 20 && top.values.map(\.value) == ["h1", "h2"] && top.values.map(\.count) == [10, 10])
            let histogram = try await client.send(.get, "/api/v1/logs/histogram?bucket=10s&query=needle").decoded(Histogram.self)
            #expect(histogram.width == 10_000_000_000 && histogram.buckets.map(\.count) == [3, 2, 3, 2], "\(histogram.buckets)")
        }
    }

    @Test func badRequestsAndLimitsAreClearErrors() async throws {
        try await TestNode.run(configure: { configuration, _ in
            configuration.queries.maxRows = 10
        }) { node, client in
            try Self.fill(node)
            let parse = try await client.send(.get, "/api/v1/logs/query?query=%28host:h1")
            #expect(parse.status == .badRequest && parse.errorMessage?.contains("column 9: expected ')'") == true, "\(parse.text)")
            let time = try await client.send(.get, "/api/v1/logs/query?from=yesterday")
            #expect(time.status == .badRequest && time.errorMessage?.contains("invalid time 'yesterday'") == true, "\(time.text)")
            let rows = try await client.send(.get, "/api/v1/logs/query?limit=11")
            #expect(rows.status == .unprocessableContent && rows.errorMessage?.contains("query.max_rows") == true, "\(rows.text)")
            let by = try await client.send(.get, "/api/v1/logs/top?by=colour")
            #expect(by.status == .badRequest, "\(by.text)")
        }
        try await TestNode.run(configure: { configuration, _ in
            configuration.queries.maxResponseBytes = 200
        }) { node, client in
            try Self.fill(node)
            let big = try await client.send(.get, "/api/v1/logs/query?limit=10")
            #expect(big.status == .contentTooLarge && big.errorMessage?.contains("query.response_mib") == true, "\(big.text)")
        }
        try await TestNode.run(configure: { configuration, _ in
            configuration.queries.timeout = .nanoseconds(1)
        }) { node, client in
            try Self.fill(node)
            let slow = try await client.send(.get, "/api/v1/logs/query")
            #expect(slow.status == .serviceUnavailable && slow.errorMessage?.contains("query.timeout_s") == true, "\(slow.text)")
        }
    }

    @Test func theGateAdmitsUpToItsLimit() {
        let gate = QueryGate(limit: 2)
        #expect(gate.enter() && gate.enter())
        #expect(!gate.enter(), "a third query is refused")
        gate.leave()
        #expect(gate.enter() && gate.count == 2)
    }
}
