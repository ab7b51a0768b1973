import ArgumentParser
import Bench
import Foundation

struct BenchRecovery: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery",
        abstract: "Crash a node holding a large WAL, restart it, and measure how fast it is back.",
        discussion: """
            Starts `hypha serve` (--durability interval) on a temporary data directory and fills its \
            write-ahead log to about --size bytes (batch headers + compressed payloads) THROUGH THE \
            SERVER: one native-protocol connection per shard sends realistic syslog records \
            (Workload's SyslogCorpus) in 256 KiB batches, and every batch is counted only once the \
            server has acknowledged it (so only durable, acknowledged records are in the log). Then \
            the server is killed with SIGKILL and restarted on the same directory and native port.

            Reported: the time from launching the restarted server until a TCP connect to its \
            native port succeeds (it binds only after recovery) and until its ready line; recovery \
            MB/s and records/s (WAL bytes and records, as scanned offline afterwards, divided by \
            the time to accept); peak RSS of the restarted server (VmHWM, read right after its \
            ready line); and an offline check with the WAL reader that every acknowledged batch \
            is at the shard and sequence its ACK named, with the records that were sent. The page \
            cache is warm (the log was just written). Exit status 1 when the check fails.
            """
    )

    @Option(help: "WAL size to write, e.g. 1GiB (the default), 512MiB, 8MiB or a number of bytes.", transform: { text in
        guard let bytes = RecoveryBenchmark.parseByteSize(text) else { throw ValidationError("cannot read '\(text)' as a size (e.g. 1GiB, 512MiB, 1073741824)") }
        return bytes
    })
    var size: Int = 1 << 30

    @Option(help: "WAL shards of the node (one sending connection per shard, up to 64).")
    var shards: Int = 4

    @Option(help: "Batch compression: lz4, zstd or none.")
    var codec: String = "lz4"

    @Option(help: "Use this data directory (must be empty or absent) instead of a temporary one.")
    var data: String?

    @Flag(help: "Keep the data directory afterwards.")
    var keep = false

    @Option(help: .hidden) var batchKib: Int = 256
    @Flag(help: .hidden) var syncBeforeRestart = false
    @Option(help: .hidden) var restartDelay: Double = 0

    @Flag(help: "Print one JSON object (snake_case keys) instead of text.")
    var json = false

    func run() async throws {
        var options = RecoveryOptions(targetBytes: size, shards: shards, codec: codec)
        options.batchBytes = batchKib << 10
        options.dataDirectory = data
        options.keep = keep || data != nil
        options.syncBeforeRestart = syncBeforeRestart
        options.restartDelay = restartDelay
        let line = ProgressLine()
        let result: RecoveryResult
        do {
            result = try RecoveryBenchmark.run(options, progress: line.update)
        } catch {
            line.finish()
            throw error
        }
        line.finish()
        if json {
            try printJSONLine(result)
        } else {
            let r = result
            print("WAL written through the server: \(mib(r.walBytes)) in \(r.walSegments) segment(s) on \(r.shards) shard(s), \(r.codec), \(r.walRecords) records")
            print(String(format: "  fill: %d acknowledged records in %.1f s (%.0f records/s, %.0f MB/s uncompressed) over %d connection(s)",
                r.acknowledgedRecords, r.fillSeconds, r.fillRecordsPerSecond, r.fillMBPerSecond, r.connections))
            print(String(format: "restart after SIGKILL: accepting connections after %.3f s (ready line after %.3f s)", r.secondsToAccept, r.secondsToReady))
            print(String(format: "  recovery: %.0f MB/s of WAL, %.0f records/s, ", r.recoveryMBPerSecond, r.recoveryRecordsPerSecond)
                + "peak RSS \(mib(r.peakRSSBytes)), " + String(format: "%.2f CPU s", r.recoveryCPUSeconds))
            if r.verified {
                print("check: every acknowledged record is present (\(r.presentRecords) of \(r.acknowledgedRecords), \(r.presentBatches) batches; verified in \(String(format: "%.1f", r.verifySeconds)) s)")
            } else {
                print("check FAILED: \(r.presentRecords) of \(r.acknowledgedRecords) acknowledged records present, \(r.missingRecords) missing, \(r.unacknowledgedRecords) unacknowledged records in the WAL, \(r.walProblems) WAL problem(s)")
            }
        }
        if !result.verified { throw ExitCode(1) }
    }

    private func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}
