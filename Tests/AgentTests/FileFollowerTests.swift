import Foundation
import Ingest
import Platform
import TestSupport
import Testing
import WAL

@testable import Agent

/// The tail reader on real files: growth, rotation, truncation, deletion, recycled inodes, new
/// files, partial and long lines, multiline records and bounded polls. Time is a manual clock;
/// nothing sleeps.
@Suite struct FileFollowerTests {
    @Test func readsAFileWhileItIsAppendedTo() throws {
        let t = try TailHarness("app.log")
        TestFile.write(t.path("app.log"), "one\ntwo\r\n\nthree\n")
        try t.poll()
        #expect(t.take() == [Line("one", ["path": t.path("app.log")]), Line("two", ["path": t.path("app.log")]), Line("three", ["path": t.path("app.log")])])
        TestFile.append(t.path("app.log"), "four\nfi")
        try t.poll()
        #expect(t.takeMessages() == ["four"], "the unfinished line waits for its LF")
        TestFile.append(t.path("app.log"), "ve\n")
        try t.poll()
        #expect(t.takeMessages() == ["five"])
        let record = try #require(t.sink.logs.last)
        #expect(record.host == "host-1" && record.app == "app.log" && record.timestamp == t.clock.now.wall && record.severity == 255)
    }

    @Test func renameRotationReadsTheOldFileToItsEndThenTheNewOneFromItsStart() throws {
        let t = try TailHarness("app.log")
        TestFile.write(t.path("app.log"), "a1\na2\n")
        try t.poll()
        #expect(t.takeMessages() == ["a1", "a2"])
        TestFile.append(t.path("app.log"), "a3\n")
        TestFile.rename(t.path("app.log"), t.path("app.log.1"))
        TestFile.write(t.path("app.log"), "b1\nb2\n")
        // The writer has not reopened yet: it still appends to the renamed file.
        TestFile.append(t.path("app.log.1"), "a4\n")
        try t.poll()
        #expect(t.takeMessages() == ["a3", "a4", "b1", "b2"], "every line once, the old file first")
        #expect(t.follower.openFileCount == 2)
        TestFile.append(t.path("app.log.1"), "a5\n")
        TestFile.append(t.path("app.log"), "b3\n")
        t.clock.advance(by: .seconds(4))
        try t.poll()
        #expect(t.takeMessages() == ["a5", "b3"])
        t.clock.advance(by: .seconds(5))
        try t.poll()
        #expect(t.follower.openFileCount == 1 && t.follower.followedPaths == [t.path("app.log")], "the old file is closed once it stopped growing for the rotate wait")
        #expect(t.follower.checkpoint.files.count == 1)
    }

    @Test func renameRotationWithinThePatternKeepsFollowingTheFileUnderItsNewName() throws {
        let t = try TailHarness("app.log*")
        TestFile.write(t.path("app.log"), "a1\n")
        try t.poll()
        TestFile.rename(t.path("app.log"), t.path("app.log.1"))
        TestFile.append(t.path("app.log.1"), "a2\n")
        TestFile.write(t.path("app.log"), "b1\n")
        try t.poll()
        let lines = t.take()
        #expect(lines.map(\.message) == ["a1", "a2", "b1"])
        #expect(lines[1].fields["path"] == t.path("app.log.1"), "records carry the file's current name")
        #expect(Set(t.follower.followedPaths) == [t.path("app.log"), t.path("app.log.1")])
    }

    @Test(arguments: [false, true])
    func copytruncateStartsOverAtTheFirstByte(refilledPastTheOldPosition: Bool) throws {
        let t = try TailHarness("app.log")
        TestFile.write(t.path("app.log"), "old line one\nold line two\n")
        try t.poll()
        #expect(t.takeMessages() == ["old line one", "old line two"])
        // copytruncate: copy, then truncate in place (same inode), then the writer goes on.
        let copy = try #require(try FileSystem.read(t.path("app.log")))
        TestFile.write(t.path("app.log.1"), String(decoding: copy, as: UTF8.self))
        TestFile.truncate(t.path("app.log"), to: 0)
        let fresh = refilledPastTheOldPosition ? (1 ... 5).map { "new line \($0)\n" }.joined() : "new\n"
        TestFile.append(t.path("app.log"), fresh)
        try t.poll()
        #expect(t.takeMessages() == fresh.split(separator: "\n").map(String.init))
    }

    @Test func truncationToNothingWaitsAndThenReadsFromTheStart() throws {
        let t = try TailHarness("app.log")
        TestFile.write(t.path("app.log"), "a\nb\n")
        try t.poll()
        _ = t.take()
        TestFile.truncate(t.path("app.log"), to: 0)
        try t.poll()
        #expect(t.take().isEmpty)
        #expect(t.follower.checkpoint.files.map(\.offset) == [0])
        TestFile.append(t.path("app.log"), "c\n")
        try t.poll()
        #expect(t.takeMessages() == ["c"])
    }

    @Test func aDeletedFileIsReadToItsEndThenClosed() throws {
        let t = try TailHarness("app.log")
        TestFile.write(t.path("app.log"), "a\n")
        try t.poll()
        _ = t.take()
        TestFile.append(t.path("app.log"), "b\nunfinished")
        TestFile.remove(t.path("app.log"))
        try t.poll()
        #expect(t.takeMessages() == ["b"])
        #expect(t.follower.openFileCount == 1, "still open: it may still grow")
        t.clock.advance(by: .seconds(5))
        try t.poll()
        #expect(t.takeMessages() == ["unfinished"], "a file that will not grow again gives its last line without LF")
        #expect(t.follower.openFileCount == 0 && t.follower.checkpoint.files.isEmpty)
    }

    @Test func aRecycledInodeWithOtherContentIsReadFromItsStart() throws {
        let directory = TemporaryDirectory("hypha-tail")
        defer { directory.remove() }
        let path = directory.file("app.log")
        TestFile.write(path, "hello\nworld\n")
        let (device, inode) = TestFile.identity(path)
        // A checkpoint taken on another file that had this inode: same device and inode, other
        // first bytes.
        let other = CRC32C.checksum(Array("HELLO\n".utf8))
        let mine = CRC32C.checksum(Array("hello\n".utf8))
        for (fingerprint, expected) in [(other, ["hello", "world"]), (mine, ["world"])] {
            var options = TailOptions(path: path, host: "h", from: .end)
            options.rescanInterval = .zero
            let checkpoint = TailCheckpoint(files: [.init(device: device, inode: inode, fingerprint: fingerprint, offset: 6)])
            let follower = try FileFollower(options: options, checkpoint: checkpoint, logger: quietLogger)
            var sink = CollectingSink()
            _ = try follower.poll(into: &sink, budget: ReadBudget(), now: ManualClock().now)
            #expect(sink.logs.map(\.message) == expected, "fingerprint \(String(fingerprint, radix: 16))")
        }
    }

    @Test func theGlobPicksUpNewFilesFromTheirStart() throws {
        let t = try TailHarness("*.log", from: .end)
        TestFile.write(t.path("a.log"), "old\n")
        TestFile.write(t.path("ignored.txt"), "x\n")
        try t.poll()
        #expect(t.take().isEmpty, "from end: what was there at the first look is skipped")
        TestFile.append(t.path("a.log"), "a1\n")
        TestFile.write(t.path("b.log"), "b1\nb2\n")
        try t.poll()
        #expect(Set(t.takeMessages()) == ["a1", "b1", "b2"])
        #expect(t.follower.followedPaths == [t.path("a.log"), t.path("b.log")])
    }

    @Test func fromEndStartsAfterTheLastCompleteLine() throws {
        let t = try TailHarness("app.log", from: .end)
        TestFile.write(t.path("app.log"), "old\nhalf")
        try t.poll()
        TestFile.append(t.path("app.log"), " done\n")
        try t.poll()
        #expect(t.takeMessages() == ["half done"])
    }

    @Test func multilineRecordsJoinUntilTheNextStartOrTheFlushTimeout() throws {
        let t = try TailHarness("app.log") { $0.multilineStart = "^[0-9]{4}-" }
        TestFile.write(t.path("app.log"), "2024-05-01 boom\n  at a()\n  at b()\n2024-05-01 next\n")
        try t.poll()
        #expect(t.takeMessages() == ["2024-05-01 boom\n  at a()\n  at b()"])
        t.clock.advance(by: .seconds(1))
        try t.poll()
        #expect(t.take().isEmpty, "the last record may still get lines")
        TestFile.append(t.path("app.log"), "  at c()\n")
        t.clock.advance(by: .seconds(1.5))
        try t.poll()
        #expect(t.take().isEmpty, "a new line restarts the timeout")
        t.clock.advance(by: .seconds(2))
        try t.poll()
        #expect(t.takeMessages() == ["2024-05-01 next\n  at c()"])
        TestFile.append(t.path("app.log"), "  late\n2024-05-02 x\n")
        try t.poll()
        #expect(t.takeMessages() == ["  late"], "a line after a flushed record starts a record of its own")
    }

    @Test func longLinesAreSplitIntoMarkedPiecesAtUTF8Boundaries() throws {
        let t = try TailHarness("app.log") { $0.maxLineBytes = 15 }
        let long = String(repeating: "x", count: 40)
        let accented = String(repeating: "é", count: 10)  // 20 bytes, 2 per character
        TestFile.write(t.path("app.log"), long + "\n" + accented + "\nshort\n")
        try t.poll()
        let lines = t.take()
        let x = { String(repeating: "x", count: $0) }
        let e = { String(repeating: "é", count: $0) }
        #expect(lines.map(\.message) == [x(15), x(15), x(10), e(7), e(3), "short"], "the accented line is cut at 14 bytes, before a character")
        #expect(lines.map { $0.fields["partial"] } == ["true", "true", nil, "true", nil, nil])
    }

    @Test func aLongUnfinishedLineIsSplitBeforeItsEnd() throws {
        let t = try TailHarness("app.log") { $0.maxLineBytes = 8 }
        TestFile.write(t.path("app.log"), "0123456789abcdefghij")
        try t.poll()
        #expect(t.takeMessages() == ["01234567", "89abcdef"], "pieces are cut once the line is known to be longer than the limit")
        TestFile.append(t.path("app.log"), "\n")
        try t.poll()
        #expect(t.take() == [Line("ghij", ["path": t.path("app.log")])])
    }

    @Test func linesThatAreNotUTF8AreRepaired() throws {
        let t = try TailHarness("app.log")
        _ = FileManager.default.createFile(atPath: t.path("app.log"), contents: Data([0x61, 0xFF, 0x62, 0x0A]))
        try t.poll()
        #expect(t.takeMessages() == ["a\u{FFFD}b"])
    }

    @Test(arguments: [1, 7, 100])
    func aBoundedPollStopsAtItsBudgetAndLosesNothing(records: Int) throws {
        let t = try TailHarness("*.log")
        let expected = (0 ..< 100).map { "line \($0)" }
        TestFile.write(t.path("a.log"), expected.prefix(60).map { $0 + "\n" }.joined())
        TestFile.write(t.path("b.log"), expected.suffix(40).map { $0 + "\n" }.joined())
        var polls = 0
        var lastOffsets: [Int64] = []
        while true {
            let progress = try t.poll(ReadBudget(records: records))
            polls += 1
            #expect(progress.records <= records)
            let offsets = progress.checkpoint.files.map(\.offset)
            if lastOffsets.count == offsets.count { #expect(zip(lastOffsets, offsets).allSatisfy { $0 <= $1 }, "checkpoints only move forward") }
            lastOffsets = offsets
            if !progress.isMoreWaiting { break }
        }
        let lines = t.take()
        #expect(lines.filter { $0.fields["path"] == t.path("a.log") }.map(\.message) == Array(expected.prefix(60)))
        #expect(lines.filter { $0.fields["path"] == t.path("b.log") }.map(\.message) == Array(expected.suffix(40)))
        #expect(polls >= 100 / records)
    }

    @Test func aByteBudgetStopsAfterTheRecordThatCrossesIt() throws {
        let t = try TailHarness("app.log")
        TestFile.write(t.path("app.log"), "aaaa\nbbbb\ncccc\n")
        let progress = try t.poll(ReadBudget(records: 100, bytes: 6))
        #expect(progress.records == 2 && progress.bytes == 8 && progress.isMoreWaiting)
        #expect(t.takeMessages() == ["aaaa", "bbbb"])
    }

    @Test func atMostMaxOpenFilesAreOpenAndEveryFileIsRead() throws {
        let t = try TailHarness("*.log") { $0.maxOpenFiles = 2 }
        for i in 0 ..< 5 { TestFile.write(t.path("\(i).log"), "file \(i)\n") }
        try t.poll()
        #expect(t.follower.openFileCount <= 2)
        for round in 0 ..< 3 {
            for i in 0 ..< 5 { TestFile.append(t.path("\(i).log"), "round \(round) file \(i)\n") }
            try t.poll()
            #expect(t.follower.openFileCount <= 2)
        }
        let expected = (0 ..< 5).map { "file \($0)" } + (0 ..< 3).flatMap { r in (0 ..< 5).map { "round \(r) file \($0)" } }
        #expect(t.takeMessages().sorted() == expected.sorted())
    }

    @Test func aBadMultilinePatternIsRefusedNamingIt() throws {
        var options = TailOptions(path: "/tmp/x.log", host: "h")
        options.multilineStart = "([0-9]"
        #expect {
            _ = try FileFollower(options: options, logger: quietLogger)
        } throws: { error in
            let text = "\(error)"
            return text.contains("multiline_start \"([0-9]\"") && text.contains("regular expression")
        }
    }
}
