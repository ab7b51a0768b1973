import Foundation
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// Configuration files, /health, /metrics and backpressure of the real node.
@Suite struct NodeEndToEndTests {
    @Test func aConfigFileSetsTheNodeUpAndUnknownKeysAreErrors() throws {
        let dir = TemporaryDirectory("hypha-config").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bad = dir + "/bad.yaml"
        try "shards: 2\nlimits:\n  line_kib: 8\n  conections: 10\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try runHypha(["serve", "--config", bad])
        #expect(refused.status != 0 && refused.stderr.contains("limits.conections"), "names the unknown key: \(refused.stderr)")
        try "flow_lease_ms: 5\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let short = try runHypha(["serve", "--config", bad])
        #expect(short.status != 0 && short.stderr.contains("'flow_lease_ms' must be between 100 and 3600000"), "\(short.stderr)")

        let good = dir + "/good.yaml"
        try """
            data: \(dir)/data
            shards: 3
            durability: batch
            codec: zstd
            ports: {native: 0, syslog: off, json: 0, influx: off, graphite: off, http: 0}
            limits: {line_kib: 8, connections: 100}
            flow_lease_ms: 3000
            heartbeat_interval_ms: 1000
            max_tasks: 2
            """.write(toFile: good, atomically: true, encoding: .utf8)
        let node = try HyphaNode(data: dir + "/data", arguments: ["--config", good], shards: 3, ephemeralPorts: false)
        #expect(node.listeners["syslog"] == nil && node.listeners["json"] != nil, "ports from the file: \(node.listeners)")
        let client = try LineClient(port: node.port("json"))
        client.send(#"{"message":"configured"}"# + "\n" + String(repeating: "y", count: 9000) + "\n")
        client.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 1, seconds: 10))
        let spec = #"{"kind":"hostmetrics","stream":"host"}"#
        let (full, fullBody) = try node.http("/api/v1/tasks", method: "POST", body: #"{"tasks":[\#(spec),\#(spec),\#(spec)]}"#)
        #expect(full == 429 && fullBody.contains("limit"), "max_tasks from the file: \(fullBody)")
        let health = try node.http("/health")
        let shards = (try JSONSerialization.jsonObject(with: Data(health.1.utf8)) as? [String: Any])?["shards"] as? [[String: Any]]
        #expect(health.0 == 200 && shards?.count == 3, "three shards in /health: \(health.1)")
        node.stop()
        #expect(FileManager.default.fileExists(atPath: dir + "/data/wal/shard-0002"))
        let inspect = try runHypha(["wal", "inspect", "--data", dir + "/data"])
        #expect(inspect.stdout.contains("zstd=1") || inspect.stdout.contains("none=1"), "codec from the file: \(inspect.stdout)")
    }

    @Test func metricsExposeListenersShardsWALAndInFlight() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        let client = try LineClient(port: node.port("json"))
        for i in 0 ..< 500 { client.send(#"{"message":"m\#(i)","host":"host\#(i % 5)"}"# + "\n") }
        client.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 500, seconds: 10))
        // The EMA needs a tick or two to show.
        #expect(try eventuallyBlocking(timeout: .seconds(5)) {
            let text = try node.http("/metrics").1
            return text.split(separator: "\n").contains { $0.hasPrefix("hypha_shard_records_per_second") && !$0.hasSuffix(" 0") }
        })
        let (status, text) = try node.http("/metrics")
        #expect(status == 200)
        for family in [
            "hypha_listener_records_total", "hypha_listener_bytes_total", "hypha_listener_rejects_total", "hypha_shard_records_per_second",
            "hypha_shard_bytes_per_second", "hypha_wal_bytes", "hypha_wal_segments", "hypha_wal_sync_seconds_max", "hypha_wal_shard_stopped", "hypha_in_flight_bytes",
        ] {
            #expect(text.contains("# TYPE \(family) "), "exposes \(family)")
        }
        #expect(metric(text, #"hypha_listener_records_total{listener="json"}"#) == 500)
        #expect(metric(text, #"hypha_listener_connections_total{listener="json"}"#) == 1, "the one connection is counted")
        #expect((metric(text, "hypha_sources") ?? 0) >= 5, "per-source tracking")
        node.stop()
    }

    @Test func theRegistryBoundIsAFlag() throws {
        let node = try HyphaNode(arguments: ["--max-sources", "3"])
        defer { node.remove() }
        let client = try LineClient(port: node.port("json"))
        for i in 0 ..< 50 { client.send(#"{"message":"m","host":"host\#(i)"}"# + "\n") }
        client.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 50))
        var sources = 0
        #expect(eventuallyBlocking(timeout: .seconds(10)) {
            let body = (try? node.http("/api/v1/daemons").1) ?? ""
            sources = ((try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["sources"] as? [Any])?.count ?? 0
            return sources >= 3
        })
        #expect(sources == 3, "at most --max-sources sources are kept: \(sources)")
        node.stop()
    }

    @Test func backpressureBoundsWhatIsInFlight() throws {
        // A tiny in-flight limit and synced batches: the listeners must stop reading rather
        // than buffer, and nothing is lost.
        let node = try HyphaNode(arguments: ["--max-in-flight-mib", "1", "--max-in-flight-shard-mib", "1", "--durability", "batch", "--batch-kib", "64"])
        defer { node.remove() }
        let line = #"{"message":"\#(String(repeating: "p", count: 400))","host":"bp"}"# + "\n"
        let lines = 30_000
        let client = try LineClient(port: node.port("json"))
        client.send(String(repeating: line, count: lines))
        client.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: Double(lines), seconds: 60))
        let text = try node.http("/metrics").1
        let peak = metric(text, "hypha_in_flight_bytes_peak") ?? .infinity
        // One batch per shard and loop may be sealed past the limit before reading stops.
        #expect(peak <= Double((1 << 20) + 16 * (64 << 10 + 2048)), "peak in flight \(peak) stays near the 1 MiB limit")
        node.stop()
        #expect(try node.records().count == lines)
    }
}

@Suite struct ConnectionLimitTests {
    @Test func connectionsPastTheLimitAreClosedAndCounted() throws {
        let node = try HyphaNode(arguments: ["--max-connections", "2"])
        defer { node.remove() }
        let a = try LineClient(port: node.port("json"))
        let b = try LineClient(port: node.port("graphite"))
        // The node has accepted both (each listener counted its connection) before the third.
        var counted = ""
        #expect(eventuallyBlocking(every: .milliseconds(100)) {
            counted = (try? node.http("/metrics").1) ?? ""
            return metric(counted, #"hypha_listener_connections_total{listener="json"}"#) == 1
                && metric(counted, #"hypha_listener_connections_total{listener="graphite"}"#) == 1
        }, "both connections accepted: \(counted.split(separator: "\n").filter { $0.hasPrefix("hypha_listener_connections_total") })")
        let c = try LineClient(port: node.port("json"))
        #expect(c.waitForClose(seconds: 5), "the third connection is closed at once")
        a.send(#"{"message":"a still works"}"# + "\n")
        a.close()
        b.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 1))
        node.stop()
        #expect(try node.records().count == 1)
    }
}
