import Foundation
import Ingest
import Platform
import WAL
import Wire
import Testing
import TestSupport
import Workload

@Suite struct WALWriteTests {
    @Test(arguments: Durability.allCases, WALCodec.allCases)
    func appendAndReadBack(durability: Durability, codec: WALCodec) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(durability: durability), logger: quietLogger)
        var expected: [Record] = []
        for i in 0 ..< 5 {
            let (draft, records) = makeBatch(10, tag: "b\(i)", codec: codec)
            guard case .appended(let base, let count, let durable) = try wal.shard(0).append(draft) else {
                Issue.record("duplicate")
                return
            }
            #expect(base == UInt64(i * 10) && count == 10)
            #expect(durable == (durability != .interval))
            expected += records
        }
        if durability == .interval {
            try wal.syncAll()
        }
        #expect(wal.shard(0).durableSequence == 50)
        try wal.close()
        #expect(try readAll(dir.path).map(\.1) == expected)
        let report = try WALVerifier.scan(dataDirectory: dir.path)
        #expect(report.problems.isEmpty)
        let stored = report.shards[0][0].codecBatches
        if codec == .none { #expect(stored[0] == 5) } else { #expect(stored[Int(codec.rawValue)] == 5, "batches stored as \(stored)") }
    }

    @Test func intervalModeGroupCommitsInTheBackground() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let notified = NotificationBox()
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(durability: .interval), logger: quietLogger)
        let flusher = WALFlusher(wal: wal, logger: quietLogger) { shard, seq in notified.record(shard, seq) }
        defer { flusher.stop() }
        try appendOK(wal.shard(0), makeBatch(7, tag: "x").0)
        let durable = await eventually { wal.shard(0).durableSequence >= 7 }
        #expect(durable && wal.shard(0).durableSequence == 7, "the flusher made the batch durable: at \(wal.shard(0).durableSequence), expected 7")
        #expect(notified.last.map { $0 == (0, 7) } == true, "onDurable reported shard 0 at 7: \(String(describing: notified.last))")
        try wal.close()
    }

    @Test func incompressibleBatchesAreStoredRaw() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(), logger: quietLogger)
        var payload: [UInt8] = []
        var rng = SplitMix64(seed: 5)
        let message = String((0 ..< 2000).map { _ in Character(UnicodeScalar(UInt8(33 + rng.next() % 90))) })
        let record = LogRecord(timestamp: 1, host: "h", app: "a", message: message)
        RecordEncoder.append(record, to: &payload)
        try appendOK(wal.shard(0), BatchDraft(payload: payload, recordCount: 1, minTimestamp: 1, maxTimestamp: 1, codec: .lz4))
        try wal.close()
        #expect(try readAll(dir.path).map(\.1) == [.log(record)])
    }

    @Test func segmentsRollWhenFullAndSequencesStayContiguous() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(segmentSize: 16 << 10), logger: quietLogger)
        for i in 0 ..< 40 { try appendOK(wal.shard(0), makeBatch(20, tag: "b\(i)", codec: .none).0) }
        let segments = wal.shard(0).segments
        #expect(segments.count > 3, "\(segments.count) segments")
        for (a, b) in zip(segments, segments.dropFirst()) {
            #expect(a.endSequence == b.baseSequence, "segment \(b.path) starts where \(a.path) ends")
            #expect(b.path.hasSuffix(String(format: "%020llu.seg", b.baseSequence)))
        }
        try wal.close()
        // A batch that can never fit in a segment is an error, not a loop.
        wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(segmentSize: 16 << 10), logger: quietLogger)
        #expect(throws: WALError.self) { try wal.shard(0).append(BatchDraft(payload: [UInt8](repeating: 1, count: 40_000), recordCount: 1, minTimestamp: 0, maxTimestamp: 0, codec: .none)) }
        try wal.close()
        #expect(try readAll(dir.path).map(\.0) == Array(0 ..< 800))
    }

    /// An lz4 batch that does not fit the rest of a segment is compressed before that is known;
    /// none of its bytes may land in the old segment (the verifier flags stray bytes after the
    /// last batch), and every batch is read back from the new one.
    @Test func aBatchThatDoesNotFitLeavesNothingInTheOldSegment() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(segmentSize: 16 << 10), logger: quietLogger)
        var rng = SplitMix64(seed: 11)
        var expected: [Record] = []
        for i in 0 ..< 12 {
            // Incompressible text: lz4 fills its whole output bound before giving up.
            let message = String((0 ..< 3000).map { _ in Character(UnicodeScalar(UInt8(33 + rng.next() % 90))) })
            let record = LogRecord(timestamp: Int64(i), host: "h", app: "a", message: message)
            var payload: [UInt8] = []
            RecordEncoder.append(record, to: &payload)
            try appendOK(wal.shard(0), BatchDraft(payload: payload, recordCount: 1, minTimestamp: Int64(i), maxTimestamp: Int64(i), codec: .lz4))
            expected.append(.log(record))
        }
        #expect(wal.shard(0).segments.count > 2, "the batches rolled over \(wal.shard(0).segments.count) segments")
        try wal.close()
        let report = try WALVerifier.scan(dataDirectory: dir.path)
        #expect(report.problems.isEmpty, "no stray bytes after any segment's last batch: \(report.problems)")
        #expect(try readAll(dir.path).map(\.1) == expected)
    }

    @Test func retentionDeletesOldestSegmentsBySizeAndAge() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var options = testOptions(segmentSize: 16 << 10)
        options.retention = RetentionPolicy(maxBytesPerShard: 48 << 10, maxAgeSeconds: nil)
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: options, logger: quietLogger)
        for i in 0 ..< 60 { try appendOK(wal.shard(0), makeBatch(20, tag: "b\(i)", codec: .none).0) }
        let kept = wal.shard(0).segments
        #expect(kept.reduce(0) { $0 + $1.dataEnd } <= (48 << 10) + (16 << 10), "size bound holds")
        #expect(kept.first!.baseSequence > 0, "oldest segments were deleted")
        #expect(segmentPaths(dir.path).count == kept.count)
        try wal.close()
        let back = try readAll(dir.path)
        #expect(back.last?.0 == 1199 && back.first?.0 == kept.first!.baseSequence, "what remains is a contiguous suffix")

        // Age: the segments closed just now; ten days from now every closed one is past a day.
        options.retention = RetentionPolicy(maxBytesPerShard: nil, maxAgeSeconds: 86_400)
        wal = try WriteAheadLog.open(dataDirectory: dir.path, options: options, logger: quietLogger)
        let deleted = try wal.applyRetention(now: WallClock.nanoseconds() / 1_000_000_000 + 10 * 86_400)
        #expect(deleted.count == kept.count - 1, "all but the active segment")
        #expect(wal.shard(0).segments.count == 1)
        try wal.close()
        // An interrupted deletion (renamed, not yet unlinked) is finished by recovery.
        let leftover = WALLayout(dataDirectory: dir.path).shardDirectory(0) + "/00000000000000000001.seg.deleting"
        #expect(FileManager.default.createFile(atPath: leftover, contents: Data([1, 2, 3])))
        try WriteAheadLog.open(dataDirectory: dir.path, options: options, logger: quietLogger).close()
        #expect(!FileManager.default.fileExists(atPath: leftover))
    }

    @Test func manyShardsAreIndependent() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let shards = 16
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(shards: shards, segmentSize: 64 << 10), logger: quietLogger)
        var expected: [[Record]] = Array(repeating: [], count: shards)
        for round in 0 ..< 3 {
            for s in 0 ..< shards {
                let (draft, records) = makeBatch(s + 1, tag: "s\(s)r\(round)")
                try appendOK(wal.shard(s), draft)
                expected[s] += records
            }
        }
        try wal.close()
        for s in 0 ..< shards {
            #expect(FileManager.default.fileExists(atPath: dir.path + "/wal/shard-" + String(format: "%04d", s)))
            #expect(try readAll(dir.path, shard: s).map(\.1) == expected[s], "shard \(s)")
        }
        wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(shards: shards, segmentSize: 64 << 10), logger: quietLogger)
        for s in 0 ..< shards { #expect(wal.shard(s).nextSequence == UInt64(3 * (s + 1))) }
        try wal.close()
    }

    @Test func producerHighWaterMarksDeduplicateAndAreRebuiltOnOpen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(), logger: quietLogger)
        for seq in [1, 2, 5] as [UInt64] {
            var draft = makeBatch(2, tag: "p\(seq)").0
            draft.producerID = 77
            draft.producerSequence = seq
            try appendOK(wal.shard(0), draft)
        }
        var again = makeBatch(2, tag: "dup").0
        again.producerID = 77
        again.producerSequence = 2
        #expect(try wal.shard(0).append(again) == .duplicate(highWaterMark: 5))
        try wal.close()
        wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(), logger: quietLogger)
        #expect(wal.shard(0).highWaterMark(producerID: 77) == 5)
        #expect(try wal.shard(0).append(again) == .duplicate(highWaterMark: 5), "still a duplicate after reopening")
        again.producerSequence = 6
        #expect(try wal.shard(0).append(again) == .appended(baseSequence: 6, count: 2, durable: true))
        try wal.close()
        #expect(try readAll(dir.path).count == 8)
    }

    @Test func readerSkipsBySequenceAndTime() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(segmentSize: 8 << 10), logger: quietLogger)
        for i in 0 ..< 20 {
            try appendOK(wal.shard(0), makeBatch(4, tag: "b\(i)", codec: .none, time: Int64(i) * 1000).0)
        }
        try wal.close()
        let reader = try WALReader(dataDirectory: dir.path)
        var bases: [UInt64] = []
        try reader.forEachBatch(shard: 0, fromSequence: 42) { bases.append($0.header.baseSequence); return true }
        #expect(bases == stride(from: 40, to: 80, by: 4).map { UInt64($0) })
        bases = []
        try reader.forEachBatch(shard: 0, timeRange: 5000 ... 7001) { bases.append($0.header.baseSequence); return true }
        #expect(bases == [20, 24, 28])
        bases = []
        try reader.forEachBatch(shard: 0) { bases.append($0.header.baseSequence); return bases.count < 3 }
        #expect(bases == [0, 4, 8], "visitor can stop early")
    }
}

final class NotificationBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Int, UInt64)?
    func record(_ shard: Int, _ seq: UInt64) { lock.withLock { value = (shard, seq) } }
    var last: (Int, UInt64)? { lock.withLock { value } }
}
