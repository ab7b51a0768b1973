import Foundation
import Ingest
import Testing

/// `hypha serve` on a real data directory: recovery at start, a clean exit on SIGTERM/SIGINT.
@Suite struct ServeTests {
    /// Starts `hypha serve`, waits until it logs that it is ready, sends `signal`, and returns
    /// its exit status and everything it logged.
    func serveUntil(_ signal: Int32, arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: hyphaBinary())
        process.arguments = ["serve"] + arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = err
        try process.run()
        var logged = Data()
        let deadline = Date().addingTimeInterval(30)
        while !String(decoding: logged, as: UTF8.self).contains("hypha node ready") && Date() < deadline && process.isRunning {
            logged += err.fileHandleForReading.availableData
        }
        kill(process.processIdentifier, signal)
        logged += err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: logged, as: UTF8.self))
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func startsOnAFreshDirectoryAndExitsCleanlyOnSignal(signal: Int32) throws {
        let data = makeTemporaryDirectory("hypha-serve")
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (status, log) = try serveUntil(signal, arguments: ["--data", data, "--shards", "3"])
        #expect(status == 0, "exit status after signal \(signal): \(log)")
        #expect(log.contains("hypha node ready") && log.contains("shards=3"), "\(log)")
        #expect(log.contains("write-ahead log synced and closed"), "\(log)")
        #expect(FileManager.default.fileExists(atPath: data + "/wal/shard-0002"))
    }

    @Test func recoversATornLogAtStartAndRefusesAnotherShardCount() throws {
        let data = makeTemporaryDirectory("hypha-serve")
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
        let (status, log) = try serveUntil(SIGTERM, arguments: ["--data", data, "--shards", "2"])
        #expect(status == 0, "\(log)")
        #expect(log.contains("wal recovery repaired damage"), "\(log)")
        #expect(try runHypha(["wal", "verify", "--data", data]).status == 0, "clean after the node recovered it")

        let wrong = try runHypha(["serve", "--data", data, "--shards", "5"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("created with 2 shards") && wrong.stderr.contains("5"), "\(wrong.stderr)")
    }

    @Test func helpExplainsEveryFlag() throws {
        let help = try runHypha(["serve", "--help"])
        #expect(help.status == 0)
        for flag in ["--data", "--shards", "--durability", "--sync-interval-ms", "--segment-mib", "--retention-mib", "--retention-hours", "--bind"] {
            #expect(help.stdout.contains(flag), "serve --help mentions \(flag)")
        }
    }
}
