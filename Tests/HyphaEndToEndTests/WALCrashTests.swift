import Foundation
import Platform
import WAL
import Wire
import Logging
import Testing

/// Kills a real writer process at random moments and checks that nothing it was told is
/// durable is ever lost.
@Suite struct WALCrashTests {
    @Test func everyAcknowledgedBatchSurvivesSIGKILL() throws {
        let data = makeTemporaryDirectory("hypha-crash")
        defer { try? FileManager.default.removeItem(atPath: data) }
        var rng = SystemRandomNumberGenerator()
        var acknowledged: [(shard: Int, base: UInt64, count: Int)] = []
        let rounds = 24
        for round in 0 ..< rounds {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: hyphaBinary())
            process.arguments = [
                "wal", "stress-writer", "--data", data, "--durability", "batch", "--shards", "2",
                "--segment-mib", "1", "--batch-bytes", "6000", "--seed", "\(round + 1)",
                "--retention-mib", "0", "--retention-hours", "0",
            ]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 30_000 ... 400_000, using: &rng))
            kill(process.processIdentifier, SIGKILL)
            let printed = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "round \(round): the writer was killed, not finished")
            // Only complete lines count: the last one may have been cut by the kill.
            var text = String(decoding: printed, as: UTF8.self)
            if let lastNewline = text.lastIndex(of: "\n") { text = String(text[...lastNewline]) } else { text = "" }
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ").compactMap { UInt64($0) }
                #expect(parts.count == 3, "round \(round): malformed line \(line)")
                if parts.count == 3 { acknowledged.append((Int(parts[0]), parts[1], Int(parts[2]))) }
            }

            // Recover (as the next node start would), then the log must verify clean.
            var logger = Logger(label: "crash-test")
            logger.logLevel = .critical
            let wal = try WriteAheadLog.open(
                dataDirectory: data, options: WALOptions(shardCount: 2, segmentSize: 1 << 20, durability: .batch, retention: .unlimited),
                logger: logger)
            #expect(wal.recovery.problems.allSatisfy { $0.action == .truncated || $0.action == .removedEmpty },
                    "round \(round): only torn tails to cut: \(wal.recovery.problems)")
            try wal.close()
            let verify = try runHypha(["wal", "verify", "--data", data])
            #expect(verify.status == 0, "round \(round): verify after recovery: \(verify.stdout.split(separator: "\n").filter { $0.hasPrefix("problem") })")

            // Every batch the writer printed is present, whole.
            let reader = try WALReader(dataDirectory: data)
            var present: [Int: [UInt64: Int]] = [:]
            for shard in 0 ..< 2 {
                try reader.forEachBatch(shard: shard) { batch in
                    var cursor = try reader.records(of: batch)
                    var n = 0
                    while try cursor.nextBody() != nil { n += 1 }
                    present[shard, default: [:]][batch.header.baseSequence] = n
                    return true
                }
            }
            for ack in acknowledged {
                #expect(present[ack.shard]?[ack.base] == ack.count, "round \(round): acknowledged batch shard \(ack.shard) seq \(ack.base) (\(ack.count) records) is present")
            }
        }
        #expect(acknowledged.count > rounds, "the writers acknowledged \(acknowledged.count) batches in \(rounds) rounds")
        // Appends continue after the last crash.
        let after = try runHypha([
            "wal", "stress-writer", "--data", data, "--durability", "batch", "--shards", "2", "--segment-mib", "1",
            "--batches", "4", "--retention-mib", "0", "--retention-hours", "0",
        ])
        #expect(after.status == 0 && after.stdout.split(separator: "\n").count == 4, "appends continue: \(after.stdout) \(after.stderr)")
        #expect(try runHypha(["wal", "verify", "--data", data]).status == 0)
    }
}
