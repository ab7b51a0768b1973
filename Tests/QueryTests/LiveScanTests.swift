import Platform
import Query
import Synchronization
import Testing
import TestSupport
import WAL

/// Scans beside a writer that appends and deletes old segments (as retention does) the whole
/// time: every scan finishes, sees only whole batches, and answers in order.
@Suite struct LiveScanTests {
    @Test func scansBesideAppendsAndSegmentDeletions() async throws {
        let directory = TemporaryDirectory("hypha-query-live")
        defer { directory.remove() }
        let options = WALOptions(shardCount: 2, segmentSize: 8 << 10, durability: .none, retention: .unlimited)
        let wal = try WriteAheadLog.open(dataDirectory: directory.path, options: options, logger: quietLogger)
        let t0: Int64 = 1_796_198_131_000_000_000
        let finished = Finished()
        let writer = Task.detached {
            defer { finished.flag.withLock { $0 = true } }
            for n in 0 ..< 600 {
                // Every 100 batches the writer waits for one more scan to end, so scans run between
                // appends however loaded the machine is (at most 30 s each).
                if n % 100 == 50 {
                    let seen = finished.scans.withLock { $0 }
                    for _ in 0 ..< 3000 where finished.scans.withLock({ $0 }) == seen { try await Task.sleep(for: .milliseconds(10)) }
                }
                var payload: [UInt8] = []
                for k in 0 ..< 10 {
                    let i = n * 10 + k
                    RecordEncoder.append(
                        LogRecord(timestamp: t0 + Int64(i), host: "h", app: "a", message: "record \(i) " + String(repeating: "x", count: 80)),
                        to: &payload)
                }
                let shard = wal.shard(n % 2)
                _ = try shard.append(BatchDraft(payload: payload, recordCount: 10, minTimestamp: t0 + Int64(n * 10), maxTimestamp: t0 + Int64(n * 10 + 9), codec: .none))
                if n % 25 == 24 { _ = try shard.deleteSegments(below: shard.nextSequence - 100) }
            }
        }
        let scanner = LogScanner(dataDirectory: directory.path, threads: 2)
        var scans = 0
        var problems: [String] = []
        repeat {
            let newest = try await scanner.search(LogQuery(filter: try LogFilter("record")), order: .newestFirst, limit: 50)
            let oldest = try await scanner.search(LogQuery(), order: .oldestFirst, limit: 50)
            for (name, result, ascending) in [("newest", newest, false), ("oldest", oldest, true)] {
                let times = result.records.map(\.record.timestamp)
                if times != times.sorted(by: ascending ? (<) : (>)) { problems.append("\(name) out of order: \(times)") }
                // Batches hold ten consecutive records: a scan sees whole batches or none.
                let counts = Dictionary(grouping: times) { ($0 - t0) / 10 }.values.map(\.count)
                if result.records.count < 50, counts.contains(where: { $0 != 10 }) { problems.append("\(name) saw a partial batch") }
            }
            scans += 1
            finished.scans.withLock { $0 = scans }
        } while !finished.flag.withLock({ $0 })
        try await writer.value
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        #expect(scans > 5, "scans ran while the writer did: \(scans)")
        let final = try await scanner.search(LogQuery(), order: .newestFirst, limit: 1)
        #expect(final.records.first?.record.timestamp == t0 + 5999)
        try wal.close()
    }
}

/// Set once the writer is done; the scans ended so far.
private final class Finished: Sendable {
    let flag = Mutex(false)
    let scans = Mutex(0)
}
