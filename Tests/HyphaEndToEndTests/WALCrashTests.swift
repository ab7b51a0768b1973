import Foundation
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// Kills a real writer process at random moments and checks that nothing it was told is
/// durable is ever lost.
@Suite struct WALCrashTests {
    @Test func everyAcknowledgedBatchSurvivesSIGKILL() throws {
        let data = TemporaryDirectory("hypha-crash").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        var rng = SystemRandomNumberGenerator()
        var acknowledged: [(shard: Int, base: UInt64, count: Int)] = []
        let rounds = 24
        for round in 0 ..< rounds {
            let writer = try ChildProcess(hyphaBinary(), [
                "wal", "stress-writer", "--data", data, "--durability", "batch", "--shards", "2",
                "--segment-mib", "1", "--batch-bytes", "6000", "--seed", "\(round + 1)",
                "--retention-mib", "0", "--retention-hours", "0",
            ])
            // The pause is what is under test: a kill at a random moment of the writer's work.
            usleep(UInt32.random(in: 30_000 ... 400_000, using: &rng))
            let ended = try writer.stop(SIGKILL)
            #expect(ended.signal == SIGKILL, "round \(round): the writer was killed, not finished: \(ended)")
            // Only complete lines count: the last one may have been cut by the kill.
            var text = ended.stdout
            if let lastNewline = text.lastIndex(of: "\n") { text = String(text[...lastNewline]) } else { text = "" }
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ").compactMap { UInt64($0) }
                #expect(parts.count == 3, "round \(round): malformed line \(line)")
                if parts.count == 3 { acknowledged.append((Int(parts[0]), parts[1], Int(parts[2]))) }
            }

            // Recover (as the next node start would), then the log must verify clean.
            let wal = try WriteAheadLog.open(
                dataDirectory: data, options: WALOptions(shardCount: 2, segmentSize: 1 << 20, durability: .batch, retention: .unlimited),
                logger: quietLogger)
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
