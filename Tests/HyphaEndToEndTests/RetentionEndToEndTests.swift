import Foundation
import Testing
import TestSupport

/// Batches stamped a week and more in the past (a spool replayed after an outage, a host with a
/// wrong clock) are acknowledged, kept, and deduplicated after a restart: retention ages
/// segments by when they were written, not by the records' own timestamps.
@Suite struct RetentionEndToEndTests {
    @Test func oldTimestampsAreKeptAndResendsStayDuplicatesAfterARestart() throws {
        let data = TemporaryDirectory("hypha-retention").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        // 1 MiB uncompressed segments, so the batches below fill several and every roll runs retention.
        var node = try HyphaNode(data: data, arguments: ["--segment-mib", "1", "--codec", "none"], shards: 1)
        let eightDaysAgo = (Int(Date().timeIntervalSince1970) - 8 * 86_400) * 1_000_000_000
        func send(_ port: Int) throws -> [[String: Any]] {
            let result = try runProcess("/usr/bin/python3", [
                NativeEndToEndTests.client, "send", "--port", "\(port)", "--daemon-id", "replayer", "--producer-id", "9",
                "--first-seq", "1", "--batches", "60", "--records-per-batch", "1000", "--tag", "spool",
                "--timestamp", "\(eightDaysAgo)",
            ])
            #expect(result.status == 0, "client: \(result.stderr)")
            return result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        let acks = try send(node.port("native"))
        #expect(acks.count == 60 && acks.allSatisfy { $0["type"] as? String == "ACK" && $0["status"] as? Int == 0 }, "stored: \(acks.prefix(2))")
        node.stop()
        let stored = try node.records().count
        #expect(stored == 60_000, "every acknowledged record is still there, got \(stored)")
        let segments = try FileManager.default.contentsOfDirectory(atPath: data + "/wal/shard-0000").filter { $0.hasSuffix(".seg") }
        #expect(segments.count > 1, "the test filled several segments: \(segments)")

        node = try HyphaNode(data: data, arguments: ["--segment-mib", "1", "--codec", "none"], shards: 1)
        let again = try send(node.port("native"))
        #expect(again.count == 60 && again.allSatisfy { $0["status"] as? Int == 1 }, "a resend after the restart is a duplicate: \(again.prefix(2))")
        node.stop()
        #expect(try node.records().count == 60_000, "and nothing was written twice")
    }
}
