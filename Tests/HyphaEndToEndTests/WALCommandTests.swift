import Foundation
import Testing
import TestSupport

/// `hypha wal verify|inspect|dump` on a real data directory, through the real binary.
@Suite struct WALCommandTests {
    func filledDirectory() throws -> String {
        let data = TemporaryDirectory("hypha-cli").path
        let fill = try runHypha(["wal", "stress-writer", "--data", data, "--shards", "2", "--batches", "12", "--segment-mib", "1", "--durability", "none"])
        #expect(fill.status == 0, "stress-writer: \(fill.stderr)")
        return data
    }

    @Test func verifyIsCleanThenFindsCorruptionWithPathAndOffset() throws {
        let data = try filledDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let clean = try runHypha(["wal", "verify", "--data", data])
        #expect(clean.status == 0)
        #expect(clean.stdout.contains("shards 2") && clean.stdout.contains("batches 12") && clean.stdout.contains("clean"), "\(clean.stdout)")
        let records = clean.stdout.split(separator: "\n").first { $0.hasPrefix("records ") }.flatMap { Int($0.dropFirst(8)) } ?? 0
        #expect(records > 12)

        // Flip a payload byte of the first batch of shard 1.
        let segment = data + "/wal/shard-0001/00000000000000000000.seg"
        let handle = FileHandle(forUpdatingAtPath: segment)!
        try handle.seek(toOffset: 64 + 72 + 100)
        let byte = try handle.read(upToCount: 1)!
        try handle.seek(toOffset: 64 + 72 + 100)
        try handle.write(contentsOf: [byte[0] ^ 0x01])
        try handle.close()
        let bad = try runHypha(["wal", "verify", "--data", data])
        #expect(bad.status == 1, "verify exits 1 on corruption")
        #expect(bad.stdout.contains("\(segment) offset 64") && bad.stdout.contains("payload checksum mismatch"), "\(bad.stdout)")
    }

    @Test func inspectShowsSegmentsRangesCodecAndRatio() throws {
        let data = try filledDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let out = try runHypha(["wal", "inspect", "--data", data])
        #expect(out.status == 0)
        for expected in ["shard 0: 1 segment(s)", "shard 1: 1 segment(s)", "seq 0 ..< ", "time 20", "codec lz4=6", "ratio "] {
            #expect(out.stdout.contains(expected), "inspect shows \(expected): \(out.stdout)")
        }
    }

    @Test func dumpPrintsRecordsAsJSONLinesWithShardSequenceAndLimit() throws {
        let data = try filledDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let out = try runHypha(["wal", "dump", "--data", data, "--shard", "1", "--from-seq", "10", "--limit", "5"])
        #expect(out.status == 0)
        let lines = out.stdout.split(separator: "\n")
        #expect(lines.count == 5)
        for (i, line) in lines.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["shard"] as? Int == 1)
            #expect(object?["seq"] as? Int == 10 + i)
            #expect(object?["kind"] as? String == "log")
            #expect((object?["message"] as? String)?.isEmpty == false)
            #expect((object?["time"] as? String)?.hasSuffix("Z") == true)
        }
        let bad = try runHypha(["wal", "dump", "--data", data, "--shard", "7"])
        #expect(bad.status != 0 && bad.stderr.contains("--shard must be between 0 and 1"), "\(bad.stderr)")
        let missing = try runHypha(["wal", "verify", "--data", data + "/nope"])
        #expect(missing.status != 0 && missing.stderr.contains("no write-ahead log"), "\(missing.stderr)")
    }
}
