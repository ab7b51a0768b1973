import Foundation
import Ingest
import Platform
import Testing
import TestSupport
import WAL

/// Retention ages segments by when they were written, never by the timestamps senders put in
/// their records, and producers' high-water marks outlive the segments that carried them.
@Suite struct WALRetentionTests {
    static let day: Int64 = 86_400
    static var nowSeconds: Int64 { WallClock.nanoseconds() / 1_000_000_000 }

    /// A week's age limit, 16 KiB segments, no size limit.
    static func options() -> WALOptions {
        var options = testOptions(segmentSize: 16 << 10)
        options.retention = RetentionPolicy(maxBytesPerShard: nil, maxAgeSeconds: 7 * day)
        return options
    }

    /// Appends `count` batches of 20 records stamped `daysAgo` days ago (a replayed spool, a
    /// host with a wrong clock), as producer `producer` from sequence 1.
    static func appendOld(_ wal: WriteAheadLog, count: Int, daysAgo: Int64, producer: UInt64 = 0) throws -> [Record] {
        var all: [Record] = []
        let stamp = (nowSeconds - daysAgo * day) * 1_000_000_000
        for i in 0 ..< count {
            var (draft, records) = makeBatch(20, tag: "old\(i)", codec: .none, time: stamp + Int64(i) * 1000)
            draft.producerID = producer
            draft.producerSequence = producer == 0 ? 0 : UInt64(i + 1)
            guard case .appended = try wal.shard(0).append(draft) else {
                Issue.record("batch \(i) was not written")
                continue
            }
            all += records
        }
        return all
    }

    @Test func recordsStampedLongAgoAreKeptWhileTheirSegmentsAreYoung() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: Self.options(), logger: quietLogger)
        // Eight days old by their timestamps: with the old rule every roll deleted them at once.
        let written = try Self.appendOld(wal, count: 40, daysAgo: 8)
        let segments = wal.shard(0).segments.count
        #expect(segments > 3, "the batches filled several segments (\(segments))")
        #expect(try wal.applyRetention(now: Self.nowSeconds).isEmpty, "segments written just now are not a week old")
        try wal.close()
        #expect(try readAll(dir.path).map(\.1) == written, "every acknowledged record is still in the WAL")
    }

    @Test func segmentsAgeFromWhenTheyWereClosedAndTheActiveOneIsNeverDeleted() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: Self.options(), logger: quietLogger)
        _ = try Self.appendOld(wal, count: 40, daysAgo: 0)
        let before = wal.shard(0).segments
        #expect(try wal.applyRetention(now: Self.nowSeconds + 6 * Self.day).isEmpty, "six days after they closed: kept")
        let deleted = try wal.applyRetention(now: Self.nowSeconds + 8 * Self.day)
        #expect(deleted == before.dropLast().map(\.path), "eight days later every closed segment goes, oldest first")
        #expect(wal.shard(0).segments.map(\.path) == [before.last!.path], "the active segment stays")
        #expect(try wal.applyRetention(now: Self.nowSeconds + 1000 * Self.day).isEmpty, "the active segment is never deleted")
        try wal.close()
    }

    @Test func aResendOfABatchWhoseSegmentRetentionDeletedIsStillADuplicateAfterARestart() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: Self.options(), logger: quietLogger)
        _ = try Self.appendOld(wal, count: 40, daysAgo: 0, producer: 0xFEED)
        let deleted = try wal.applyRetention(now: Self.nowSeconds + 8 * Self.day)
        #expect(!deleted.isEmpty)
        let resend = { (wal: WriteAheadLog) throws -> AppendOutcome in
            var (draft, _) = makeBatch(20, tag: "old0", codec: .none)
            draft.producerID = 0xFEED
            draft.producerSequence = 1
            return try wal.shard(0).append(draft)
        }
        #expect(try resend(wal) == .duplicate(highWaterMark: 40), "a duplicate while the node runs")
        try wal.close()

        // Only the newest segment is left, and it may not carry the producer's batches at all:
        // its mark must come from the saved marks.
        let marksFile = WALLayout(dataDirectory: dir.path).shardDirectory(0) + "/producers"
        #expect(FileManager.default.fileExists(atPath: marksFile), "the marks were saved before the deletion")
        wal = try WriteAheadLog.open(dataDirectory: dir.path, options: Self.options(), logger: quietLogger)
        #expect(try resend(wal) == .duplicate(highWaterMark: 40), "and still a duplicate after a restart")
        #expect(wal.shard(0).highWaterMark(producerID: 0xFEED) == 40)
        try wal.close()
    }

    @Test func marksExpireOnlyWhenTheirProducerIsSilentPastTheExpiryAndHasNoBatchLeft() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let layout = WALLayout(dataDirectory: dir.path)
        var options = Self.options()
        options.retention.producerExpirySeconds = 30 * Self.day
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: options, logger: quietLogger)
        try wal.close()
        // Saved earlier: one producer silent for 40 days, one for 10.
        let marks = "hypha-producers 1\n00000000000000aa 7 \(Self.nowSeconds - 40 * Self.day)\n00000000000000bb 9 \(Self.nowSeconds - 10 * Self.day)\n"
        let crc = String(CRC32C.checksum(Array(marks.utf8)), radix: 16)
        let text = marks + "crc32c " + String(repeating: "0", count: 8 - crc.count) + crc + "\n"
        #expect(FileManager.default.createFile(atPath: layout.shardDirectory(0) + "/producers", contents: Data(text.utf8)))

        wal = try WriteAheadLog.open(dataDirectory: dir.path, options: options, logger: quietLogger)
        #expect(wal.shard(0).highWaterMark(producerID: 0xAA) == 7, "saved marks are loaded")
        _ = try Self.appendOld(wal, count: 40, daysAgo: 0, producer: 0xCC)
        _ = try wal.applyRetention(now: Self.nowSeconds + 8 * Self.day)
        let kept = wal.shard(0).highWaterMarks
        #expect(kept[0xAA] == nil, "silent for 48 days and no batch left: forgotten")
        #expect(kept[0xBB]?.sequence == 9, "silent for 18 days: kept")
        #expect(kept[0xCC]?.sequence == 40, "a producer with batches in the newest segment: kept")
        try wal.close()
        wal = try WriteAheadLog.open(dataDirectory: dir.path, options: options, logger: quietLogger)
        #expect(wal.shard(0).highWaterMark(producerID: 0xAA) == nil && wal.shard(0).highWaterMark(producerID: 0xBB) == 9,
            "the saved file agrees: \(wal.shard(0).highWaterMarks)")
        try wal.close()
    }

    @Test func aDamagedMarksFileIsReportedSetAsideAndRecoveryGoesOn() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: Self.options(), logger: quietLogger)
        _ = try Self.appendOld(wal, count: 3, daysAgo: 0, producer: 0xAB)
        try wal.close()
        let path = WALLayout(dataDirectory: dir.path).shardDirectory(0) + "/producers"
        #expect(FileManager.default.createFile(atPath: path, contents: Data("hypha-producers 1\nnot a mark\ncrc32c 00000000\n".utf8)))

        wal = try WriteAheadLog.open(dataDirectory: dir.path, options: Self.options(), logger: quietLogger)
        let problem = try #require(wal.recovery.problems.first { $0.path == path }, "reported: \(wal.recovery.problems)")
        #expect(problem.reason.contains("checksum") && problem.action == .segmentMovedAside, "\(problem)")
        #expect(FileManager.default.fileExists(atPath: path + ".damaged") && !FileManager.default.fileExists(atPath: path))
        #expect(wal.shard(0).highWaterMark(producerID: 0xAB) == 3, "the marks the segments carry still count")
        try wal.close()
    }
}
