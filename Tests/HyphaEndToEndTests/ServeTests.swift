import Foundation
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// `hypha serve` on a real data directory: recovery at start, a clean exit on SIGTERM/SIGINT.
@Suite struct ServeTests {
    func serveUntil(_ signal: Int32, arguments: [String], shards: Int) throws -> (Int32, String) {
        let data = arguments[arguments.firstIndex(of: "--data")! + 1]
        let node = try HyphaNode(data: data, shards: shards)
        return node.stop(signal)
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func startsOnAFreshDirectoryAndExitsCleanlyOnSignal(signal: Int32) throws {
        let data = TemporaryDirectory("hypha-serve").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (status, log) = try serveUntil(signal, arguments: ["--data", data], shards: 3)
        #expect(status == 0, "exit status after signal \(signal): \(log)")
        #expect(log.contains("hypha node ready") && log.contains("shards=3"), "\(log)")
        #expect(log.contains("write-ahead log synced and closed"), "\(log)")
        #expect(FileManager.default.fileExists(atPath: data + "/wal/shard-0002"))
    }

    @Test func recoversATornLogAtStartAndRefusesAnotherShardCount() throws {
        let data = TemporaryDirectory("hypha-serve").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let fill = try runHypha(["wal", "stress-writer", "--data", data, "--shards", "2", "--batches", "6", "--segment-mib", "1", "--quiet"])
        #expect(fill.status == 0)
        // Tear the last batch of shard 0: zero its header, leave its payload behind.
        let report = try WALVerifier.scan(dataDirectory: data)
        let lastOffset = report.shards[0][0].dataEnd - 200
        let handle = FileHandle(forUpdatingAtPath: report.shards[0][0].path)!
        try handle.seek(toOffset: UInt64(lastOffset))
        try handle.write(contentsOf: [UInt8](repeating: 0xAB, count: 16))
        try handle.close()
        #expect(try runHypha(["wal", "verify", "--data", data]).status == 1)
        let (status, log) = try serveUntil(SIGTERM, arguments: ["--data", data], shards: 2)
        #expect(status == 0, "\(log)")
        #expect(log.contains("wal recovery repaired damage"), "\(log)")
        #expect(try runHypha(["wal", "verify", "--data", data]).status == 0, "clean after the node recovered it")

        let wrong = try runHypha(["serve", "--data", data, "--shards", "5", "--native-port", "0", "--syslog-port", "0", "--json-port", "0", "--influx-port", "0", "--graphite-port", "0", "--http-port", "0"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("created with 2 shards") && wrong.stderr.contains("5"), "\(wrong.stderr)")
    }

    @Test func aSecondNodeOnTheSameDataDirectoryIsRefused() throws {
        let first = try HyphaNode()
        defer { first.stop(); first.remove() }
        let second = try runHypha(["serve", "--data", first.data, "--native-port", "0", "--syslog-port", "0", "--json-port", "0", "--influx-port", "0", "--graphite-port", "0", "--http-port", "0"])
        #expect(second.status != 0)
        #expect(second.stderr.contains("in use by another hypha process (pid \(first.process.pid))"), "\(second.stderr)")
        #expect(first.process.isRunning, "the first node is unaffected")
    }

    @Test func helpExplainsEveryFlag() throws {
        let help = try runHypha(["serve", "--help"])
        #expect(help.status == 0)
        for flag in [
            "--config", "--data", "--bind", "--native-port", "--syslog-port", "--json-port", "--influx-port", "--graphite-port",
            "--http-port", "--shards", "--durability", "--sync-interval-ms", "--segment-mib", "--retention-mib", "--retention-hours",
            "--codec", "--batch-kib", "--linger-ms", "--max-line-kib", "--max-frame-mib", "--max-connections", "--idle-timeout-s",
            "--max-in-flight-mib", "--max-in-flight-shard-mib", "--max-body-mib", "--token", "--admin-token",
        ] {
            #expect(help.stdout.contains(flag), "serve --help mentions \(flag)")
        }
    }
}
