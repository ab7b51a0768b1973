import Foundation
import Testing
import TestSupport

/// A real Prometheus client against a real node: samples go in over Influx's `POST /write`,
/// and Debian's `promtool` (package prometheus, installed by scripts/setup.sh) queries them
/// through the Prometheus API.
@Suite struct PromtoolEndToEndTests {
    static let promtool = "/usr/bin/promtool"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: promtool), "promtool is installed by scripts/setup.sh"))
    func promtoolQueriesInstantAndRange() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        // requests_total{host="a"} resets after 40; temp is a gauge (docs/promql.md's mapping:
        // the Influx field "value" keeps the measurement's name).
        var lines: [String] = []
        for (i, v) in [0, 10, 20, 30, 40, 5, 15].enumerated() { lines.append("requests_total,host=a value=\(v) \(1_700_000_000 + i * 10)") }
        for i in 0 ..< 5 { lines.append("temp,host=a,room=x value=\(i + 1) \(1_700_000_000 + i * 10)") }
        for i in 0 ..< 5 { lines.append("temp,host=b,room=y value=\((i + 1) * 10) \(1_700_000_000 + i * 10)") }
        let write = try node.http("/write?precision=s", method: "POST", body: lines.joined(separator: "\n"))
        #expect(write.0 == 204, "\(write)")
        let url = "http://127.0.0.1:\(node.port("http"))"

        let increase = try runProcess(Self.promtool, ["query", "instant", "--time=1700000060", url, "increase(requests_total[70s])"])
        #expect(increase.status == 0 && increase.stdout.contains(#"{host="a"} => 55 @[1700000060]"#), "\(increase.stdout) \(increase.stderr)")

        let selector = try runProcess(Self.promtool, ["query", "instant", "--time=1700000040", url, #"temp{room=~"x|z"}"#])
        #expect(selector.stdout.contains(#"temp{host="a", room="x"} => 5 @[1700000040]"#), "\(selector.stdout) \(selector.stderr)")

        let range = try runProcess(
            Self.promtool, ["query", "range", "--start=1700000000", "--end=1700000040", "--step=20s", url, "sum by (room) (temp) * 2"])
        let expected = [#"{room="x"} =>"#, "2 @[1700000000]", "6 @[1700000020]", "10 @[1700000040]", #"{room="y"} =>"#, "100 @[1700000040]"]
        #expect(range.status == 0 && expected.allSatisfy(range.stdout.contains), "\(range.stdout) \(range.stderr)")

        // hypha's own client asks the same API and prints what promtool printed.
        let ours = try runHypha(["query", "metrics", "--server", url, "--time", "1700000060", "--format", "csv", "increase(requests_total[70s])"])
        #expect(ours.status == 0 && ours.stdout.contains(#"{host=""a""}"#) && ours.stdout.hasSuffix(",55\n"), "\(ours.stdout) \(ours.stderr)")
        let refused = try runHypha(["query", "metrics", "--server", url, "histogram_quantile(0.9, temp)"])
        #expect(refused.status != 0 && refused.stderr.contains("not supported"), "\(refused.stdout) \(refused.stderr)")

        let unsupported = try runProcess(Self.promtool, ["query", "instant", url, "histogram_quantile(0.9, temp)"])
        #expect(unsupported.status != 0 && unsupported.stderr.contains("not supported"), "\(unsupported.stdout) \(unsupported.stderr)")
        node.stop()
    }
}
