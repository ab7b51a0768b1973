import Platform
import Testing
import TestSupport

@testable import Control

/// Compaction into snapshot generations: when it happens, what survives, and crashes half way.
@Suite struct ControlStoreCompactionTests {
    @Test func compactsPastTheThresholdAndSurvivesReopen() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store, compactAfterBytes: 4096)
        for i in 0 ..< 200 {
            try store.commit([.put(key: "tasks/t-\(i % 40)", value: [UInt8](repeating: UInt8(i), count: 50))])
        }
        #expect(store.generation >= 2, "generation \(store.generation) after ~14 KiB of log")
        let files = dir.files()
        #expect(files == ["log-\(store.generation)", "snapshot-\(store.generation)"], "files \(files)")
        let reopened = try FileControlStore(directory: dir.store, compactAfterBytes: 4096)
        #expect(reopened.contents == store.contents, "contents differ after reopen")
        #expect(reopened.recovery.snapshotGeneration == store.generation, "opened \(reopened.recovery)")
        #expect(reopened.recovery.snapshotEntries == 40, "snapshot held \(reopened.recovery.snapshotEntries) keys")
    }

    @Test func belowTheThresholdNothingIsCompacted() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store, compactAfterBytes: 1 << 20)
        for i in 0 ..< 100 { try store.commit([.put(key: "k\(i)", value: [1])]) }
        #expect(store.generation == 0, "compacted at generation \(store.generation) below the threshold")
    }

    /// 100,000 overwrites of the same 100 keys: the disk holds about one threshold, not the history.
    @Test func diskStaysBoundedUnderChurn() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let threshold = 64 << 10
        let store = try FileControlStore(directory: dir.store, compactAfterBytes: threshold)
        var largest = 0
        for round in 0 ..< 1000 {
            let changes = (0 ..< 100).map { key in
                ControlChange.put(key: "checkpoints/t-\(key)", value: [UInt8](repeating: UInt8(truncatingIfNeeded: round), count: 16))
            }
            try store.commit(changes)
            largest = max(largest, store.diskBytes)
        }
        // One threshold of log, plus the record that crossed it, plus a snapshot of ~3.4 KiB.
        #expect(largest < threshold + 8 << 10, "disk reached \(largest) bytes with a \(threshold)-byte threshold")
        #expect(store.generation > 10, "only \(store.generation) compactions for ~3.4 MB of log")
        #expect(dir.bytesOnDisk() == store.diskBytes, "files \(dir.bytesOnDisk()), diskBytes \(store.diskBytes)")
        let reopened = try FileControlStore(directory: dir.store)
        #expect(reopened.contents == store.contents, "contents differ after reopen")
        #expect(reopened.contents["checkpoints/t-5"] == [UInt8](repeating: UInt8(truncatingIfNeeded: 999), count: 16), "last round wins")
    }

    /// The snapshot is at least half the trigger: a big state is not rewritten on every commit.
    @Test func theThresholdGrowsWithTheSnapshot() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store, compactAfterBytes: 1024)
        try store.commit((0 ..< 100).map { .put(key: "k\($0)", value: [UInt8](repeating: 1, count: 100)) })
        #expect(store.generation == 1, "the first big commit compacts (generation \(store.generation))")
        let snapshot = store.diskBytes
        for _ in 0 ..< 10 { try store.commit([.put(key: "small", value: [UInt8](repeating: 2, count: 100))]) }
        #expect(store.generation == 1, "compacted again after \(store.diskBytes - snapshot) log bytes, snapshot is \(snapshot)")
    }

    /// A crash after each step of compaction reopens to the same contents, then keeps working.
    @Test(arguments: FileControlStore.CompactionStep.allCases)
    func aCrashDuringCompactionRecovers(step: FileControlStore.CompactionStep) throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store)
        try store.commit([.put(key: "a", value: [1]), .put(key: "b", value: [2])])
        try store.compact()  // generation 1: snapshot-1 exists, so removing an old snapshot is exercised
        try store.commit([.put(key: "c", value: [3]), .delete(key: "a")])
        let expected = store.contents
        store.compactionCrash = step
        #expect(throws: ControlStoreError.self, "compaction stops at \(step)") { try store.compact() }
        #expect(throws: ControlStoreError.self, "the crashed instance refuses commits") {
            try store.commit([.put(key: "lost", value: [0])])
        }

        let reopened = try FileControlStore(directory: dir.store)
        #expect(reopened.contents == expected, "after a crash at \(step): \(reopened.contents)")
        let generation: UInt64 = [.partialTemporary, .temporaryWritten].contains(step) ? 1 : 2
        #expect(reopened.generation == generation, "after a crash at \(step): generation \(reopened.generation)")
        #expect(dir.files() == ["log-\(generation)", "snapshot-\(generation)"], "after a crash at \(step): \(dir.files())")
        try reopened.commit([.put(key: "d", value: [4])])
        #expect(try FileControlStore(directory: dir.store).contents["d"] == [4], "commits work after recovery from \(step)")
    }

    /// Hand-made leftovers: an unrelated temporary file and an old generation next to a new one.
    @Test func leftoverFilesAreRemovedAtOpen() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store)
        try store.commit([.put(key: "a", value: [1])])
        let oldLog = try dir.read("log-0")
        try store.compact()
        try store.commit([.put(key: "b", value: [2])])
        try dir.write("log-0", oldLog + [1, 2, 3])  // stale and even torn: never replayed
        try dir.write("snapshot-9.tmp", [0xFF, 0xFF])
        try dir.write("unrelated.txt", [1])
        let reopened = try FileControlStore(directory: dir.store)
        #expect(reopened.contents == ["a": [1], "b": [2]], "got \(reopened.contents)")
        #expect(reopened.recovery.removedFiles == ["snapshot-9.tmp", "log-0"], "removed \(reopened.recovery.removedFiles)")
        #expect(dir.files() == ["log-1", "snapshot-1", "unrelated.txt"], "files \(dir.files())")
    }
}
