import Foundation
@testable import Ingest
import Platform
import WAL
import Wire
import Synchronization
import Testing
import TestSupport

/// A failed msync may already have cost the unsynced pages, and a later sync that succeeds
/// proves nothing about them: the shard must stop, fail what waits, and acknowledge nothing more.
@Suite struct WALSyncFailureTests {
    static let diskError = WALError(SystemError(.io, "msync failed", path: "/fake/segment", errno: EIO))

    @Test(arguments: [Durability.interval, .batch])
    func aFailedSyncStopsTheShardAndOnlyIt(durability: Durability) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = FailNextSync()
        let wal = try WriteAheadLog.open(
            dataDirectory: dir.path, options: testOptions(shards: 2, durability: durability), logger: quietLogger, faults: faults)
        let synced = makeBatch(5, tag: "synced")
        _ = try wal.shard(0).append(synced.0, deferSync: true)
        try wal.shard(0).sync()
        let durableBefore = wal.shard(0).durableSequence
        #expect(durableBefore == 5)

        _ = try wal.shard(0).append(makeBatch(5, tag: "lost").0, deferSync: true)
        faults.failNextSync(with: Self.diskError)
        let failure = try #require(throws: WALError.self) { try wal.shard(0).sync() }
        #expect(failure.code == .shardStopped && "\(failure)".contains("errno 5") && failure.message.contains("restart the node"), "\(failure)")
        #expect(failure.systemErrno == EIO, "the errno travels with the error: \(failure)")
        #expect(wal.shard(0).failure?.code == .shardStopped)
        #expect(wal.shard(0).durableSequence == durableBefore, "nothing more is claimed durable")
        let lag = wal.shard(0).syncLagNanoseconds
        #expect(eventuallyBlocking(every: .milliseconds(1)) { wal.shard(0).syncLagNanoseconds > lag },
                "the sync lag keeps growing, so health sees the shard: still \(wal.shard(0).syncLagNanoseconds) ns, was \(lag) ns")

        // From now on: appends and syncs throw the same error, even though the disk "works" again.
        let append = try #require(throws: WALError.self) { try wal.shard(0).append(makeBatch(1, tag: "after").0) }
        #expect(append.code == .shardStopped)
        #expect(throws: WALError.self) { try wal.shard(0).sync() }
        // The other shard goes on.
        _ = try wal.shard(1).append(makeBatch(3, tag: "other").0, deferSync: true)
        try wal.shard(1).sync()
        #expect(wal.shard(1).durableSequence == 3 && wal.shard(1).failure == nil)
        try wal.close()

        // A restart recovers what reached the disk; the shard works again.
        let reopened = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(shards: 2, durability: durability), logger: quietLogger)
        #expect(reopened.shard(0).failure == nil)
        #expect(try readAll(dir.path).prefix(5).map(\.1) == synced.1, "the synced batch is there after the restart")
        try reopened.close()
    }

    @Test func batchModeWaitersFailAndLaterBatchesAreRefused() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let faults = FailNextSync()
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(durability: .batch), logger: quietLogger, faults: faults)
        let writer = makeWriter(wal)
        defer {
            writer.stop()
            try? wal.close()
        }
        let results = Results()
        writer.submit(makeBatch(4, tag: "ok").0, completion: results.add)
        #expect(results.wait(count: 1) == [.written(shard: 0, firstSequence: 0, count: 4)])

        faults.failNextSync(with: Self.diskError)
        writer.submit(makeBatch(4, tag: "lost").0, completion: results.add)
        writer.submit(makeBatch(4, tag: "refused").0, completion: results.add)
        let all = results.wait(count: 3)
        #expect(all.count == 3)
        for result in all.dropFirst() {
            guard case .failed(let message) = result else {
                Issue.record("a batch after the failed sync was answered \(result)")
                continue
            }
            #expect(message.contains("stopped after a failed sync"), "\(message)")
        }
    }

    @Test func intervalModeWaitersFailWhenTheFlusherSyncFails() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var options = testOptions(durability: .interval)
        options.syncIntervalMilliseconds = 5
        let faults = FailNextSync()
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: options, logger: quietLogger, faults: faults)
        let writer = makeWriter(wal)
        let flusher = WALFlusher(wal: wal, logger: quietLogger) { writer.durable(upTo: $1) }
        defer {
            writer.stop()
            flusher.stop()
            try? wal.close()
        }
        let results = Results()
        writer.submit(makeBatch(2, tag: "ok").0, completion: results.add)
        #expect(results.wait(count: 1).first.map { if case .written = $0 { true } else { false } } == true)

        faults.failNextSync(with: Self.diskError)
        writer.submit(makeBatch(2, tag: "lost").0, completion: results.add)
        let all = results.wait(count: 2)
        #expect(all.count == 2)
        guard case .failed(let message)? = all.last else {
            Issue.record("the batch behind the failed group commit was answered \(String(describing: all.last))")
            return
        }
        #expect(message.contains("restart the node"), "\(message)")
    }

    private func makeWriter(_ wal: WriteAheadLog) -> ShardWriter {
        ShardWriter(
            shard: wal.shard(0), gate: InFlightGate(shardCount: 1, maxTotalBytes: 1 << 30, maxShardBytes: 1 << 30),
            pool: PayloadPool(limit: 4, capacity: 1 << 16), tap: nil, logger: quietLogger)
    }
}

/// Fails the next sync of any shard with the given error, as a failed msync would.
private final class FailNextSync: WALFaults {
    private let next = Mutex<WALError?>(nil)

    func failNextSync(with error: WALError) { next.withLock { $0 = error } }

    func syncFailure(shard: Int, path: String) -> WALError? { next.withLock { e in defer { e = nil }; return e } }
}

/// Completions collected from writer threads.
private final class Results: Sendable {
    private let results = Mutex<[WriteResult]>([])

    var add: ShardWriter.Completion { { result in self.results.withLock { $0.append(result) } } }

    /// The results once `count` arrived, or what came within 10 s.
    func wait(count: Int) -> [WriteResult] {
        _ = eventuallyBlocking(every: .milliseconds(2)) { results.withLock { $0.count } >= count }
        return results.withLock { $0 }
    }
}
