import Foundation
import Testing
import TestSupport

/// `hypha serve` and `hypha wal stress-writer` take their settings from one table: flags and the
/// file agree, errors read well, and the source bounds reach ingest.
@Suite struct SettingsEndToEndTests {
    /// The sources a node reports in `/api/v1/daemons`.
    private func registrySources(_ node: HyphaNode) -> Int? {
        guard let body = try? node.http("/api/v1/daemons").1,
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        else { return nil }
        return (object["sources"] as? [Any])?.count
    }

    @Test func maxSourcesAndSourceExpiryBoundWhatIngestTracks() throws {
        let node = try HyphaNode(arguments: ["--max-sources", "3", "--source-expiry-s=1"])
        defer { node.remove() }
        let client = try LineClient(port: node.port("json"))
        var mostTracked = 0.0
        var mostInRegistry = 0
        // Twenty hosts keep sending until the node reports sources; meanwhile neither count may
        // pass 3.
        let tracked = eventuallyBlocking(timeout: .seconds(20)) {
            for host in 0 ..< 20 { client.send(#"{"message":"m","host":"host\#(host)"}"# + "\n") }
            let sources = (try? node.http("/metrics").1).flatMap { metric($0, "hypha_sources") } ?? 0
            mostTracked = max(mostTracked, sources)
            mostInRegistry = max(mostInRegistry, registrySources(node) ?? 0)
            return sources >= 3 && mostInRegistry >= 2
        }
        client.close()
        #expect(tracked, "the node tracked sources from the twenty hosts (most seen \(mostTracked), \(mostInRegistry) in the registry)")
        #expect(mostTracked <= 3, "hypha_sources stayed within --max-sources 3: \(mostTracked)")
        #expect(mostInRegistry <= 3, "/api/v1/daemons listed at most 3 sources: \(mostInRegistry)")
        // Silent for longer than --source-expiry-s 1, every source is forgotten.
        var left = (tracked: -1.0, registry: -1)
        let forgotten = eventuallyBlocking(timeout: .seconds(15)) {
            left.tracked = (try? node.http("/metrics").1).flatMap { metric($0, "hypha_sources") } ?? -1
            left.registry = registrySources(node) ?? -1
            return left == (0, 0)
        }
        #expect(forgotten, "sources silent past --source-expiry-s are forgotten: \(left) left")
        node.stop()
    }

    @Test func flagsWinOverTheConfigFileAndTakeBothForms() throws {
        let dir = TemporaryDirectory("hypha-settings").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/node.yaml"
        try "shards: 5\nlog_level: warning\n".write(toFile: file, atomically: true, encoding: .utf8)
        // HyphaNode passes --shards 2 and --log-level info before these arguments.
        let node = try HyphaNode(data: dir + "/data", arguments: ["--config", file, "--shards=3"])
        let health = try node.http("/health")
        let shards = (try JSONSerialization.jsonObject(with: Data(health.1.utf8)) as? [String: Any])?["shards"] as? [Any]
        #expect(shards?.count == 3, "the last flag, --shards=3, wins over --shards 2 and the file's 5: \(health.1)")
        let (status, log) = node.stop()
        #expect(status == 0 && log.contains("hypha node ready"), "--log-level info wins over the file's warning: \(log)")
    }

    @Test(arguments: [
        (["--segment-mib", "0"], "--segment-mib must be between 1 and 4096, got 0"),
        (["--max-source", "3"], "unknown flag '--max-source'; did you mean '--max-sources'?"),
        (["--native-port=http"], "--native-port must be a port number or off, got 'http'"),
    ])
    func serveRefusesABadFlagNamingIt(arguments: [String], expected: String) throws {
        let refused = try runHypha(["serve", "--data", "/nonexistent/hypha-refused"] + arguments)
        #expect(refused.status != 0 && refused.stderr.contains(expected), "status \(refused.status), stderr: \(refused.stderr)")
    }

    @Test func helpListsEverySettingGroupedWithItsKeyDefaultAndRange() throws {
        let help = try runHypha(["serve", "--help"])
        #expect(help.status == 0)
        for expected in [
            "WRITE-AHEAD LOG", "  --segment-mib <MiB>", "YAML: segment_mib", "Default: 64.", "Allowed: 1 to 4096 MiB.",
            "  --max-in-flight-shard-mib <MiB>", "YAML: limits.in_flight_shard_mib", "  --token <token>",
            "Repeat the flag for several.", "  topology: {<shard>: <region>, ...}", "--config <config>",
        ] {
            #expect(help.stdout.contains(expected), "serve --help shows '\(expected)':\n\(help.stdout)")
        }
        #expect(!help.stdout.contains("--settings-markdown"), "the documentation flag stays hidden")
    }

    @Test func theSettingsMarkdownFlagPrintsTheTableOfTheDocs() throws {
        let printed = try runHypha(["serve", "--settings-markdown"])
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "docs/api.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        #expect(printed.status == 0 && !printed.stdout.isEmpty, "\(printed.stderr)")
        #expect(text.contains(printed.stdout), "docs/api.md contains what `hypha serve --settings-markdown` prints:\n\(printed.stdout)")
    }

    @Test func stressWriterTakesTheSameWALFlagsWithTheirUpperBounds() throws {
        let data = TemporaryDirectory("hypha-stress").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let tooBig = try runHypha(["wal", "stress-writer", "--data", data, "--segment-mib", "5000", "--batches", "1"])
        #expect(tooBig.status != 0 && tooBig.stderr.contains("--segment-mib must be between 1 and 4096, got 5000"), "\(tooBig.stderr)")
        let fill = try runHypha(["wal", "stress-writer", "--data", data, "--shards=3", "--batches", "3", "--durability", "none", "--quiet"])
        #expect(fill.status == 0, "stress-writer with WAL flags from the table: \(fill.stderr)")
        #expect(FileManager.default.fileExists(atPath: data + "/wal/shard-0002"), "three shards from --shards=3")
    }
}
