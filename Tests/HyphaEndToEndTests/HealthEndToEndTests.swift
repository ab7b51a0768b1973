import Foundation
import Platform
import WAL
import Testing
import TestSupport

/// Cluster health, daemons and topology through the real node's HTTP API, with daemons
/// simulated by the native Python client.
@Suite struct HealthEndToEndTests {
    func heartbeat(_ node: HyphaNode, _ id: String, region: String, lagMs: Int = 0) throws {
        let result = try runProcess("/usr/bin/python3", [
            NativeEndToEndTests.client, "heartbeat", "--port", "\(node.port("native"))", "--daemon-id", id, "--region", region,
            "--oldest-unacked-age-ms", "\(lagMs)", "--records-sent", "10",
        ])
        #expect(result.status == 0, "heartbeat \(id): \(result.stdout) \(result.stderr)")
    }

    func health(_ node: HyphaNode) throws -> [String: Any] {
        let (status, body) = try node.http("/health")
        #expect(status == 200)
        return try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
    }

    func state(_ health: [String: Any], _ list: String, _ key: String, _ value: String) -> String? {
        (health[list] as? [[String: Any]])?.first { $0[key] as? String == value }?["state"] as? String
    }

    @Test func daemonsGoOfflineAfterTheThresholdAndTheirRegionDegrades() throws {
        let node = try HyphaNode(arguments: ["--offline-after-s", "3", "--degraded-lag-s", "2"])
        defer { node.remove() }
        let healthy = try health(node)
        #expect(healthy["state"] as? String == "healthy", "a node with no daemons is healthy: \(healthy)")

        for (id, region) in [("d1", "eu"), ("d2", "eu"), ("d3", "us")] { try heartbeat(node, id, region: region) }
        var h = try health(node)
        #expect(["d1", "d2", "d3"].allSatisfy { state(h, "daemons", "id", $0) == "healthy" }, "all healthy: \(h)")
        #expect(state(h, "regions", "name", "eu") == "healthy" && state(h, "regions", "name", "us") == "healthy")

        // d2 reports a lag past the threshold: Degraded, and so is its region.
        try heartbeat(node, "d2", region: "eu", lagMs: 2500)
        h = try health(node)
        #expect(state(h, "daemons", "id", "d2") == "degraded" && state(h, "regions", "name", "eu") == "degraded", "\(h)")

        // d1 and d2 keep heartbeating; d3 stops and goes Offline, and with it region "us".
        let offline = try eventuallyBlocking(every: .milliseconds(300)) {
            try heartbeat(node, "d1", region: "eu")
            try heartbeat(node, "d2", region: "eu")
            h = try health(node)
            return state(h, "daemons", "id", "d3") == "offline"
        }
        #expect(offline, "d3 went offline after 3 s: \(h)")
        #expect(state(h, "regions", "name", "us") == "offline", "its only daemon is offline")
        #expect(state(h, "regions", "name", "eu") == "healthy" && state(h, "daemons", "id", "d1") == "healthy")
        #expect(h["state"] as? String == "offline" || h["state"] as? String == "degraded")

        let (status, one) = try node.http("/api/v1/daemons/d3")
        #expect(status == 200 && one.contains("\"offline\""), "\(one)")
        #expect(try node.http("/api/v1/daemons/nobody").0 == 404)
        let (_, list) = try node.http("/api/v1/daemons")
        #expect(list.contains("\"d1\"") && list.contains("\"d2\"") && list.contains("\"d3\""), "\(list)")
        node.stop()
    }

    @Test func topologyUpdatesShowInTheNextSnapshotAndNeedTheAdminToken() throws {
        let node = try HyphaNode(arguments: ["--admin-token", "adm1n"], shards: 2)
        defer { node.remove() }
        var h = try health(node)
        #expect((h["regions"] as? [[String: Any]])?.map { $0["name"] as? String } == ["default"], "one region by default: \(h)")

        let body = #"{"shards":{"0":"eu-west","1":"us-east"}}"#
        let refused = try runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "http://127.0.0.1:\(node.port("http"))/api/v1/topology", "--data-binary", body])
        #expect(refused.stdout == "401", "no token: \(refused.stdout)")
        let wrong = try runProcess("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "-X", "PUT", "-H", "Authorization: Bearer adm1n", "http://127.0.0.1:\(node.port("http"))/api/v1/topology", "--data-binary", #"{"shards":{"9":"x"}}"#])
        #expect(wrong.stdout.hasSuffix("400") && wrong.stdout.contains("shard 9"), "\(wrong.stdout)")
        let ok = try runProcess("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", "-X", "PUT", "-H", "Authorization: Bearer adm1n", "http://127.0.0.1:\(node.port("http"))/api/v1/topology", "--data-binary", body])
        #expect(ok.stdout.hasSuffix("200"), "\(ok.stdout)")

        h = try health(node)
        let regions = (h["regions"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(regions == ["eu-west", "us-east"], "the next snapshot uses the new topology: \(String(describing: regions))")
        let shardRegions = (h["shards"] as? [[String: Any]])?.map { $0["region"] as? String }
        #expect(shardRegions == ["eu-west", "us-east"])
        let (_, topology) = try node.http("/api/v1/topology")
        #expect(topology.contains("eu-west") && topology.contains("us-east"), "\(topology)")
        node.stop()
    }
}
