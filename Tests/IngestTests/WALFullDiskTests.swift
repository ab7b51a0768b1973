import Foundation
@testable import Ingest
import Platform
import Synchronization
import Testing
import TestSupport
import WAL

/// When the WAL cannot take batches (a full disk), nothing accepted is dropped: the line
/// protocols' batches are held and retried while their bytes keep the in-flight gate full (so
/// the listeners stop reading), batches whose sender waits for an answer are answered at once,
/// and appends resume by themselves when the disk takes writes again.
@Suite struct WALFullDiskTests {
    static let diskFull = WALError(SystemError(.io, "cannot create segment", path: "/fake/segment", errno: ENOSPC))

    @Test(arguments: [Durability.none, .interval, .batch])
    func heldBatchesAreWrittenOnceTheDiskTakesWritesAgain(durability: Durability) async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = FullDisk()
        var options = testOptions(durability: durability)
        options.syncIntervalMilliseconds = 5
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: options, logger: quietLogger, faults: faults)
        let writers = ShardWriters(wal: wal, limits: IngestLimits(), threads: 1, logger: quietLogger)
        let flusher = WALFlusher(wal: wal, logger: quietLogger) { writers.durable(shard: $0, upTo: $1) }
        defer {
            flusher.stop()
            try? wal.close()
        }
        let writer = writers.writers[0]
        let answers = Answers()

        faults.full.withLock { $0 = true }
        var expected: [Record] = []
        for i in 0 ..< 5 {
            let (draft, records) = makeBatch(10, tag: "line\(i)")
            expected += records
            writers.gate.reserve(bytes: draft.payload.count, shard: 0)
            writer.submit(draft)  // a line protocol's batch: nobody waits for an answer
        }
        let (native, _) = makeBatch(3, tag: "native")
        writers.gate.reserve(bytes: native.payload.count, shard: 0)
        writer.submit(native, completion: answers.add)

        #expect(await eventually { answers.count == 1 }, "the waiting sender is answered while the disk is full")
        guard case .failed(let reason)? = answers.all.first else {
            Issue.record("expected a failure answer, got \(answers.all)")
            return
        }
        #expect(reason.contains("No space left on device"), "the answer says why: \(reason)")
        #expect(writer.blocked != nil && writer.lostRecords == 0, "the line batches are held, none lost")
        #expect(writers.gate.usage.total > 0, "their bytes stay in flight, so listeners stop reading")
        #expect(wal.shard(0).nextSequence == 0, "nothing was written")

        faults.full.withLock { $0 = false }
        #expect(await eventually { writer.blocked == nil && writers.gate.usage.total == 0 }, "retried and written once space returned")
        #expect(await eventually { wal.shard(0).durableSequence == 50 }, "durable: \(wal.shard(0).durableSequence)")
        #expect(writer.lostRecords == 0)
        writers.drain()
        #expect(try readAll(dir.path).map(\.1) == expected, "every held record, once, in order")
    }

    @Test func batchesStillHeldWhenTheWriterStopsAreCountedAsLost() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = FullDisk()
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(), logger: quietLogger, faults: faults)
        defer { try? wal.close() }
        let writers = ShardWriters(wal: wal, limits: IngestLimits(), threads: 1, logger: quietLogger)
        faults.full.withLock { $0 = true }
        for i in 0 ..< 3 {
            let draft = makeBatch(7, tag: "b\(i)").0
            writers.gate.reserve(bytes: draft.payload.count, shard: 0)
            writers.writers[0].submit(draft)
        }
        writers.drain()
        #expect(writers.lostRecords == 21, "the truth: 21 accepted records were not written, got \(writers.lostRecords)")
        #expect(writers.gate.usage.total == 0, "their bytes were given back")
    }
}

/// Fails every append with ENOSPC while `full` is set.
private final class FullDisk: WALFaults {
    let full = Mutex(false)
    func appendFailure(shard: Int) -> WALError? { full.withLock { $0 } ? WALFullDiskTests.diskFull : nil }
}

/// Answers collected from writer threads.
private final class Answers: Sendable {
    private let results = Mutex<[WriteResult]>([])
    var add: ShardWriter.Completion { { result in self.results.withLock { $0.append(result) } } }
    var all: [WriteResult] { results.withLock { $0 } }
    var count: Int { all.count }
}
