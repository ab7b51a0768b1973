import Foundation
import Testing
import TestSupport

/// `hypha query` through the real binary: on the data directory a real node wrote (syslog
/// over TCP), and through the node's HTTP API with `--server` while it runs.
@Suite struct QueryEndToEndTests {
    /// 20 RFC 5424 lines, one second apart from 2026-12-02T07:55:00Z; every fifth says
    /// "connection reset"; hosts web-00 and web-01 alternate; severity i % 8.
    static func send(to node: HyphaNode) throws {
        let client = try LineClient(port: node.port("syslog"))
        var text = ""
        for i in 0 ..< 20 {
            let second = String(i < 10 ? "0\(i)" : "\(i)")
            let message = "request \(i)" + (i % 5 == 0 ? " connection reset by peer" : " ok")
            text += "<\(8 + i % 8)>1 2026-12-02T07:55:\(second).000Z web-0\(i % 2) nginx - - - \(message)\n"
        }
        client.send(text)
    }

    @Test func queryLogsReadsWhatANodeWroteLocallyAndThroughTheServer() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        try Self.send(to: node)
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 20, seconds: 20), "all 20 lines became durable")

        let remote = try runHypha([
            "query", "logs", "--server", "http://127.0.0.1:\(node.port("http"))", "--limit", "2", "--from", "2026-12-02T07:55:00Z",
            "\"connection reset\"",
        ])
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(remote.stdout.split(separator: "\n") == [
            "2026-12-02T07:55:15.000Z web-01 nginx[debug]: request 15 connection reset by peer",
            "2026-12-02T07:55:10.000Z web-00 nginx[crit]: request 10 connection reset by peer",
        ], "\(remote.stdout)")
        let (status, log) = node.stop()
        #expect(status == 0, "\(log)")

        let local = try runHypha(["query", "logs", "--data", node.data, "--limit", "2", "\"connection reset\""])
        #expect(local.status == 0, "\(local.stderr)")
        #expect(local.stdout == remote.stdout, "the same lines locally and through the server")
        let oldest = try runHypha(["query", "logs", "--data", node.data, "--reverse", "--format", "json", "--limit", "3", "host:web-01"])
        let objects = oldest.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.map { $0["message"] as? String } == ["request 1 ok", "request 3 ok", "request 5 connection reset by peer"], "\(oldest.stdout)")
        let top = try runHypha(["query", "top", "--data", node.data, "--by", "host", "not reset"])
        #expect(top.status == 0 && top.stdout.contains("web-00") && top.stdout.contains("16 matching records"), "\(top.stdout)\(top.stderr)")
        let histogram = try runHypha(["query", "histogram", "--data", node.data, "--bucket", "10s", "request"])
        #expect(histogram.stdout.contains("2026-12-02T07:55:00.000Z  10 ") && histogram.stdout.contains("20 matching records in 2 buckets of 10s"), "\(histogram.stdout)")
        let bad = try runHypha(["query", "logs", "--data", node.data, "(host:web-01"])
        #expect(bad.status != 0 && bad.stderr.contains("column 13: expected ')'"), "\(bad.stderr)")
    }
}
