import Foundation
import Ingest
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// Recovery: torn tails, bit flips, damaged middle segments; the node always opens.
@Suite struct WALRecoveryTests {
    /// Three small batches in one segment; returns the directory, the records, and the
    /// offsets where each batch starts.
    func threeBatches(codec: WALCodec = .lz4) throws -> (TemporaryDirectory, [[Record]], [Int]) {
        let dir = TemporaryDirectory()
        let wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(), logger: quietLogger)
        var all: [[Record]] = []
        for i in 0 ..< 3 {
            let (draft, records) = makeBatch(3, tag: "batch\(i)", codec: codec)
            try appendOK(wal.shard(0), draft)
            all.append(records)
        }
        try wal.close()
        var offsets: [Int] = []
        try WALReader(dataDirectory: dir.path).forEachBatch(shard: 0) { offsets.append($0.offset); return true }
        return (dir, all, offsets)
    }

    func reopen(_ path: String, shards: Int = 1) throws -> WriteAheadLog {
        try WriteAheadLog.open(dataDirectory: path, options: testOptions(shards: shards), logger: quietLogger)
    }

    @Test func truncatingTheLastBatchAtEveryOffsetRecoversTheBatchesBefore() throws {
        let (base, records, offsets) = try threeBatches(codec: .none)
        defer { base.remove() }
        let segment = segmentPaths(base.path)[0]
        let batchEnd = try WALVerifier.scan(dataDirectory: base.path).shards[0][0].dataEnd
        for cut in offsets[2] ..< batchEnd {
            let dir = try base.copy()
            defer { dir.remove() }
            let path = segmentPaths(dir.path)[0]
            #expect(truncate(path, off_t(cut)) == 0)
            let wal = try reopen(dir.path)
            #expect(wal.recovery.problems.allSatisfy { $0.action == .truncated }, "cut at \(cut): \(wal.recovery.problems)")
            #expect(wal.shard(0).nextSequence == 6, "cut at \(cut): sequences rebuilt")
            // Appends continue after the cut, with the next sequence.
            let (draft, extra) = makeBatch(2, tag: "after")
            #expect(try appendOK(wal.shard(0), draft) == 6)
            try wal.close()
            let back = try readAll(dir.path)
            #expect(back.map(\.1) == records[0] + records[1] + extra, "cut at \(cut)")
            #expect(back.map(\.0) == Array(0 ..< 8))
            #expect(try WALVerifier.scan(dataDirectory: dir.path).problems.isEmpty, "cut at \(cut) verifies clean")
        }
        _ = segment
    }

    @Test func zeroingATornTailAtManyOffsets() throws {
        let (base, records, offsets) = try threeBatches()
        defer { base.remove() }
        let batchEnd = try WALVerifier.scan(dataDirectory: base.path).shards[0][0].dataEnd
        for cut in stride(from: offsets[2], to: batchEnd, by: 5) {
            let dir = try base.copy()
            defer { dir.remove() }
            let handle = FileHandle(forUpdatingAtPath: segmentPaths(dir.path)[0])!
            try handle.seek(toOffset: UInt64(cut))
            try handle.write(contentsOf: [UInt8](repeating: 0, count: batchEnd - cut))
            try handle.close()
            let wal = try reopen(dir.path)
            try wal.close()
            #expect(try readAll(dir.path).map(\.1) == records[0] + records[1], "torn at \(cut)")
        }
    }

    @Test func garbageAfterTheLastBatchIsZeroedSoItCanNeverResurface() throws {
        let (dir, records, _) = try threeBatches()
        defer { dir.remove() }
        let path = segmentPaths(dir.path)[0]
        let end = try WALVerifier.scan(dataDirectory: dir.path).shards[0][0].dataEnd
        // A killed writer leaves payload bytes whose header was never written.
        let (draft, _) = makeBatch(3, tag: "ghost")
        let ghost = BatchHeader(codec: .none, recordCount: 3, baseSequence: 9, uncompressedLength: UInt32(draft.payload.count), storedLength: UInt32(draft.payload.count), payloadCRC: CRC32C.checksum(draft.payload)).encoded()
        let handle = FileHandle(forUpdatingAtPath: path)!
        try handle.seek(toOffset: UInt64(end + 72 + 40))
        try handle.write(contentsOf: ghost + draft.payload)
        try handle.close()
        #expect(try !WALVerifier.scan(dataDirectory: dir.path).problems.isEmpty, "verify sees the stray bytes")
        let wal = try reopen(dir.path)
        #expect(wal.recovery.problems.count == 1)
        try wal.close()
        #expect(try readAll(dir.path).map(\.1) == records.flatMap { $0 })
        #expect(try WALVerifier.scan(dataDirectory: dir.path).problems.isEmpty)
    }

    @Test func singleBitFlipsInAMiddleBatchAreQuarantinedAndNeighboursStayReadable() throws {
        for codec in [WALCodec.none, .lz4] {
            let (base, records, offsets) = try threeBatches(codec: codec)
            defer { base.remove() }
            let end = offsets[2]
            var positions = Array(offsets[1] ..< offsets[1] + 72).flatMap { byte in (0 ..< 8).map { (byte, $0) } }
            positions += (offsets[1] + 72 ..< end).map { ($0, $0 % 8) }
            for (byte, bit) in positions {
                let dir = try base.copy()
                defer { dir.remove() }
                patch(segmentPaths(dir.path)[0], at: byte) { $0 ^ (1 << UInt8(bit)) }
                let found = try WALVerifier.scan(dataDirectory: dir.path)
                #expect(found.newProblems.map(\.offset) == [offsets[1]], "\(codec) flip at \(byte).\(bit): verify finds it")
                let wal = try reopen(dir.path)
                #expect(wal.recovery.problems.map(\.offset) == [offsets[1]] && wal.recovery.problems[0].action == .quarantined,
                        "\(codec) flip at \(byte).\(bit): \(wal.recovery.problems)")
                try wal.close()
                let back = try readAll(dir.path)
                #expect(back.map(\.1) == records[0] + records[2], "\(codec) flip at \(byte).\(bit)")
                #expect(back.map(\.0) == [0, 1, 2, 6, 7, 8])
                let after = try WALVerifier.scan(dataDirectory: dir.path)
                #expect(after.newProblems.isEmpty && after.problems.count == 1 && after.problems[0].known,
                        "quarantined range is known afterwards")
            }
        }
    }

    @Test func aCorruptBatchInAMiddleSegmentIsQuarantinedAndLaterSegmentsStayReadable() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(segmentSize: 4 << 10), logger: quietLogger)
        var expected: [Record] = []
        var damagedRecords: [Record] = []
        for i in 0 ..< 60 {
            let (draft, records) = makeBatch(4, tag: "b\(i)", codec: .none)
            try appendOK(wal.shard(0), draft)
            expected += records
        }
        try wal.close()
        let segments = segmentPaths(dir.path)
        #expect(segments.count >= 4, "rolled into \(segments.count) segments")
        // Damage the second batch of the second segment.
        var batchOffsets: [(String, Int, UInt64)] = []
        try WALReader(dataDirectory: dir.path).forEachBatch(shard: 0) { batchOffsets.append(($0.path, $0.offset, $0.header.baseSequence)); return true }
        let victim = batchOffsets.filter { $0.0 == segments[1] }[1]
        patch(victim.0, at: victim.1 + 72 + 10) { $0 ^ 0x10 }
        damagedRecords = Array(expected[Int(victim.2) ..< Int(victim.2) + 4])
        #expect(try WALVerifier.scan(dataDirectory: dir.path).newProblems.map(\.path) == [victim.0])
        wal = try reopen(dir.path)
        #expect(wal.recovery.problems.count == 1)
        #expect(wal.recovery.problems.first.map { $0.path == victim.0 && $0.offset == victim.1 } == true)
        #expect(wal.shard(0).nextSequence == 240)
        try wal.close()
        let back = try readAll(dir.path)
        #expect(back.count == 236)
        #expect(back.map(\.1) == expected.filter { !damagedRecords.contains($0) })
        let log = try String(contentsOfFile: WALLayout(dataDirectory: dir.path).shardDirectory(0) + "/quarantine.log", encoding: .utf8)
        #expect(log.contains("offset=\(victim.1)"), "quarantine.log names the range: \(log)")
    }

    @Test func aSegmentWithADamagedHeaderIsMovedAsideAndTheNodeStillStarts() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var wal = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(segmentSize: 8 << 10), logger: quietLogger)
        for i in 0 ..< 20 { try appendOK(wal.shard(0), makeBatch(4, tag: "b\(i)", codec: .none).0) }
        try wal.close()
        let segments = segmentPaths(dir.path)
        patch(segments[0], at: 3) { $0 ^ 0xFF }
        wal = try reopen(dir.path)
        #expect(wal.recovery.problems.map(\.action) == [.segmentMovedAside])
        #expect(wal.shard(0).nextSequence == 80)
        try wal.close()
        // Even when the damaged segment is the last one, its sequences are not handed out again.
        let last = segmentPaths(dir.path).last!
        patch(last, at: 20) { $0 ^ 0x01 }
        wal = try reopen(dir.path)
        #expect(wal.recovery.problems.map(\.action) == [.segmentMovedAside])
        #expect(wal.shard(0).nextSequence == 80, "sequences of the set-aside segment stay used")
        #expect(try appendOK(wal.shard(0), makeBatch(1, tag: "next").0) == 80)
        try wal.close()
        #expect(FileManager.default.fileExists(atPath: WALLayout(dataDirectory: dir.path).shardDirectory(0) + "/quarantine/" + (segments[0] as NSString).lastPathComponent))
        #expect(try readAll(dir.path).first?.0 ?? 0 > 0, "the rest is readable")
    }

    @Test func anEmptySegmentFromAnInterruptedRollIsRemoved() throws {
        let (dir, records, _) = try threeBatches()
        defer { dir.remove() }
        let stray = WALLayout(dataDirectory: dir.path).shardDirectory(0) + "/00000000000000000009.seg"
        #expect(FileManager.default.createFile(atPath: stray, contents: Data(count: 4096)))
        let wal = try reopen(dir.path)
        #expect(wal.recovery.problems.map(\.action) == [.removedEmpty])
        try appendOK(wal.shard(0), makeBatch(1, tag: "x").0)
        try wal.close()
        #expect(try readAll(dir.path).count == records.flatMap { $0 }.count + 1)
    }

    @Test func aZeroLengthSegmentFileDoesNotStopTheNode() throws {
        let (dir, records, _) = try threeBatches()
        defer { dir.remove() }
        #expect(FileManager.default.createFile(atPath: WALLayout(dataDirectory: dir.path).shardDirectory(0) + "/00000000000000000009.seg", contents: Data()))
        let wal = try reopen(dir.path)
        #expect(wal.recovery.problems.map(\.action) == [.removedEmpty])
        try wal.close()
        #expect(try readAll(dir.path).map(\.1) == records.flatMap { $0 })
    }

    @Test func reopeningWithAnotherShardCountIsAClearError() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(shards: 4), logger: quietLogger).close()
        do {
            _ = try WriteAheadLog.open(dataDirectory: dir.path, options: testOptions(shards: 8), logger: quietLogger)
            Issue.record("opened with another shard count")
        } catch {
            #expect(error.code == .shardCountMismatch)
            #expect(error.message.contains("4 shards") && error.message.contains("8"), "message names both counts: \(error.message)")
        }
    }
}
