import Bench
import Foundation
import Testing
import TestSupport

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite(.serialized) struct ThroughputEndToEndTests {
    @Test(arguments: LoadProtocol.allCases)
    func benchThroughputReportsEveryRecordDurable(proto: LoadProtocol) throws {
        let j = try hyphaJSON(["bench", "throughput", "--protocol", proto.rawValue, "--records", "20000", "--connections", "2", "--json"])
        #expect(j["benchmark"] as? String == "throughput")
        #expect(j["protocol"] as? String == proto.rawValue && j["mode"] as? String == "local")
        #expect(j["records"] as? Int == 20000, "records: \(j)")
        #expect(j["durable_records"] as? Int == 20000, "the node's counter: \(j)")
        #expect(j["durable_confirmed"] as? Bool == true)
        for key in ["records_per_second", "mb_per_second", "seconds", "server_cpu_seconds", "server_cpu_seconds_per_million_records",
            "server_cpu_us_per_record", "server_peak_rss_mib", "payload_bytes", "bytes_per_record"]
        {
            #expect((j[key] as? Double ?? 0) > 0, "\(key) > 0 in \(j)")
        }
        #expect(j["durability"] as? String == "interval" && j["codec"] as? String == "lz4" && j["shards"] as? Int == 4)
        if proto == .native {
            #expect(j["acked_records"] as? Int == 20000)
            let p50 = try #require(j["ack_latency_p50_us"] as? Double)
            let p99 = try #require(j["ack_latency_p99_us"] as? Double)
            let p999 = try #require(j["ack_latency_p999_us"] as? Double)
            let max = try #require(j["ack_latency_max_us"] as? Double)
            #expect(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max, "p50 \(p50) ≤ p99 \(p99) ≤ p99.9 \(p999) ≤ max \(max)")
        } else {
            #expect(j["ack_latency_p50_us"] == nil && j["acked_records"] == nil)
        }
    }

    @Test func nativeRunWritesAPlotWithBothSeries() throws {
        let dir = TemporaryDirectory("hypha-plot")
        defer { dir.remove() }
        let path = dir.file("run.svg")
        let j = try hyphaJSON([
            "bench", "throughput", "--protocol", "native", "--records", "30000", "--connections", "1", "--batch-records", "100",
            "--durability", "batch", "--codec", "zstd", "--shards", "2", "--json", "--plot", path,
        ])
        #expect(j["plot"] as? String == path && j["durability"] as? String == "batch" && j["codec"] as? String == "zstd")
        let svg = try String(contentsOfFile: path, encoding: .utf8)
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "well-formed SVG")
        #expect(svg.contains("id=\"throughput\"") && svg.contains("id=\"latency\"") && svg.contains("data-label=\"p99.9\""))
    }

    @Test func targetModeRunsOnlyTheLoadAndSaysSo() throws {
        let dir = TemporaryDirectory("hypha-target")
        defer { dir.remove() }
        let server = try ServerProcess(binary: hyphaBinary(), dataDirectory: dir.path + "/data", arguments: [])
        defer { server.stop() }
        let port = try #require(server.ports["native"])
        let j = try hyphaJSON(["bench", "throughput", "--protocol", "native", "--records", "5000", "--target", "127.0.0.1:\(port)", "--json"])
        #expect(j["mode"] as? String == "target" && j["target"] as? String == "127.0.0.1:\(port)")
        #expect(j["records"] as? Int == 5000 && j["acked_records"] as? Int == 5000)
        #expect(j["durable_confirmed"] as? Bool == true, "native: every batch was acknowledged")
        #expect(j["server_cpu_seconds"] == nil && j["server_peak_rss_mib"] == nil, "no server figures for an external target")
        #expect((j["records_per_second"] as? Double ?? 0) > 0)

        let syslog = try #require(server.ports["syslog"])
        let text = try runHypha(["bench", "throughput", "--protocol", "syslog", "--records", "5000", "--target", "127.0.0.1:\(syslog)"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("NOT confirmed durable"), "says the rate is the loader's own: \(text.stdout)")
    }

    @Test func anUnreachableTargetIsAClearErrorNotAHang() throws {
        // A port nobody listens on: bind one, close it, use it.
        let r = try runHypha(["bench", "throughput", "--protocol", "syslog", "--records", "100", "--target", "127.0.0.1:1", "--timeout", "30"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("cannot connect to 127.0.0.1:1"), "\(r.stderr)")
    }
}

/// Runs `hypha arguments…` and decodes the one JSON object it prints.
private func hyphaJSON(_ arguments: [String]) throws -> [String: Any] {
    let r = try runHypha(arguments)
    try #require(r.status == 0, "exit \(r.status): \(r.stderr)")
    let lines = r.stdout.split(separator: "\n")
    try #require(lines.count == 1, "exactly one line on stdout: \(r.stdout)")
    return try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any], "not an object: \(r.stdout)")
}
