import Foundation
import Testing
import TestSupport

@testable import Control

/// Round trips through ``FileControlStore`` and back from disk.
@Suite struct ControlStoreFileTests {
    @Test func putDeleteAndDeletePrefixSurviveReopen() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        do {
            let store = try FileControlStore(directory: dir.store)
            try store.commit([
                .put(key: "tasks/t-1", value: [1]), .put(key: "tasks/t-2", value: [2]), .put(key: "tasks/t-3", value: [3]),
                .put(key: "checkpoints/t-1", value: Array("offset=42".utf8)), .put(key: "configs/app/3", value: []),
            ])
            try store.commit([.delete(key: "tasks/t-2"), .delete(key: "tasks/absent")])
            try store.commit([.deletePrefix("checkpoints/"), .put(key: "rollouts/r-2", value: [9, 9])])
            try store.commit([.put(key: "tasks/t-1", value: [10]), .delete(key: "tasks/t-1"), .put(key: "tasks/t-1", value: [11])])
        }
        let reopened = try FileControlStore(directory: dir.store)
        let expected: [String: [UInt8]] = [
            "tasks/t-1": [11], "tasks/t-3": [3], "configs/app/3": [], "rollouts/r-2": [9, 9],
        ]
        #expect(reopened.contents == expected, "reopened \(reopened.contents), expected \(expected)")
        #expect(reopened.recovery.recordsReplayed == 4, "replayed \(reopened.recovery.recordsReplayed) records, expected 4")
        #expect(reopened.recovery.changesReplayed == 12, "replayed \(reopened.recovery.changesReplayed) changes, expected 12")
        #expect(reopened.recovery.bytesTruncated == 0, "truncated \(reopened.recovery.bytesTruncated) bytes of a clean log")
        #expect(reopened.recovery.snapshotGeneration == nil, "a fresh store has no snapshot")
    }

    @Test func createsMissingParentDirectories() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let nested = dir.path + "/a/b/c/control"
        let store = try FileControlStore(directory: nested)
        try store.commit([.put(key: "k", value: [1])])
        #expect(try FileControlStore(directory: nested).contents == ["k": [1]], "the nested store reopens")
    }

    @Test func valuesUnderPrefixAreSortedByKeyBytes() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store)
        try store.commit([
            .put(key: "tasks/t-2", value: [2]), .put(key: "tasks/t-10", value: [10]), .put(key: "tasks/t-1", value: [1]),
            .put(key: "tasksX", value: [0]), .put(key: "leases/t-1", value: [7]),
        ])
        let keys = store.values(under: "tasks/").map(\.key)
        #expect(keys == ["tasks/t-1", "tasks/t-10", "tasks/t-2"], "got \(keys)")
        #expect(store.values(under: "").count == 5, "the empty prefix matches every key")
        #expect(store.values(under: "nothing/").isEmpty, "an unknown prefix matches nothing")
    }

    @Test func emptyCommitWritesNothing() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store)
        try store.commit([])
        #expect(store.diskBytes == 0, "diskBytes \(store.diskBytes) after an empty commit")
    }

    @Test func diskBytesMatchesTheFiles() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store, compactAfterBytes: 200)
        for i in 0 ..< 20 { try store.commit([.put(key: "k\(i % 5)", value: [UInt8](repeating: UInt8(i), count: 30))]) }
        #expect(store.generation > 0, "the store compacted (generation \(store.generation))")
        #expect(store.diskBytes == dir.bytesOnDisk(), "diskBytes \(store.diskBytes), files \(dir.bytesOnDisk())")
        #expect(MemoryControlStore().diskBytes == 0, "the memory store occupies no disk")
    }

    /// A flush of 10,000 checkpoints is one record: one write, one sync, one frame on disk.
    @Test func tenThousandChangesAreOneRecord() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store)
        let changes = (0 ..< 10_000).map { i in
            ControlChange.put(key: "checkpoints/t-\(i)", value: [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: 60))
        }
        try store.commit(changes)
        try store.commit(changes)
        let reopened = try FileControlStore(directory: dir.store)
        #expect(reopened.recovery.recordsReplayed == 2, "two commits replay as \(reopened.recovery.recordsReplayed) records")
        #expect(reopened.contents.count == 10_000, "\(reopened.contents.count) keys after reopen")
    }

    @Test func openingUnderAFileNamesPathAndErrno() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let file = dir.path + "/plain-file"
        _ = FileManager.default.createFile(atPath: file, contents: Data([1]))
        #expect {
            try FileControlStore(directory: file + "/control")
        } throws: { error in
            let e = error as! ControlStoreError
            return e.code == .io && e.description.contains(file) && e.description.contains("Not a directory")
        }
    }
}
