import Platform
import WAL
import Wire
import Testing
import TestSupport
import Workload

@testable import Control

/// What reopening makes of logs cut or damaged by a crash, and of damage no crash explains.
@Suite struct ControlStoreRecoveryTests {
    static let before: [String: [UInt8]] = ["tasks/t-1": [1, 1], "tasks/t-2": [2, 2], "leases/t-1": [5]]
    static let last: [ControlChange] = [
        .put(key: "tasks/t-3", value: Array("third task".utf8)), .delete(key: "tasks/t-1"),
        .deletePrefix("leases/"), .put(key: "tasks/t-2", value: [2, 2, 2]),
    ]

    /// A store holding ``before`` in two records, then ``last``; returns the log and where its last record starts.
    func storeWithLastRecord(_ dir: TemporaryDirectory) throws -> (log: [UInt8], lastStart: Int, after: [String: [UInt8]]) {
        let store = try FileControlStore(directory: dir.store)
        try store.commit([.put(key: "tasks/t-1", value: [1, 1]), .put(key: "leases/t-1", value: [5])])
        try store.commit([.put(key: "tasks/t-2", value: [2, 2])])
        let lastStart = store.diskBytes
        try store.commit(Self.last)
        return (try dir.read("log-0"), lastStart, store.contents)
    }

    /// Cutting the log anywhere inside the last record loses the whole commit, never part of it, and never fails.
    @Test func aTornLastRecordIsAllOrNothing() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let (log, lastStart, after) = try storeWithLastRecord(dir)
        for cut in lastStart ... log.count {
            try dir.write("log-0", Array(log[..<cut]))
            let store = try FileControlStore(directory: dir.store)
            let expected = cut == log.count ? after : Self.before
            #expect(store.contents == expected, "cut at \(cut) of \(log.count): got \(store.contents)")
            #expect(store.recovery.bytesTruncated == cut - (cut == log.count ? log.count : lastStart),
                "cut at \(cut): truncated \(store.recovery.bytesTruncated)")
        }
    }

    /// The same with the missing bytes zero-filled, as a file system may leave them.
    @Test func aZeroFilledLastRecordIsDropped() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let (log, lastStart, _) = try storeWithLastRecord(dir)
        for cut in stride(from: lastStart, to: log.count, by: 7) {
            try dir.write("log-0", Array(log[..<cut]) + [UInt8](repeating: 0, count: log.count - cut + 4096))
            let store = try FileControlStore(directory: dir.store)
            #expect(store.contents == Self.before, "zero-filled from \(cut): got \(store.contents)")
        }
    }

    @Test func garbageAfterTheLastRecordIsTruncatedAndReported() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let (log, _, after) = try storeWithLastRecord(dir)
        var random = SplitMix64(seed: 7)
        let garbage = (0 ..< 300).map { _ in UInt8.random(in: 0 ... 255, using: &random) }
        try dir.write("log-0", log + garbage)
        let store = try FileControlStore(directory: dir.store)
        #expect(store.contents == after, "garbage changed the contents")
        #expect(store.recovery.bytesTruncated == 300, "truncated \(store.recovery.bytesTruncated), expected 300")
        #expect(store.recovery.truncatedAt?.offset == log.count, "tail reported at \(String(describing: store.recovery.truncatedAt))")
        #expect(try dir.read("log-0").count == log.count, "the file was cut back to the last record")
        try store.commit([.put(key: "after-repair", value: [1])])
        let reopened = try FileControlStore(directory: dir.store)
        #expect(reopened.contents["after-repair"] == [1], "a commit after the repair survives")
        #expect(reopened.recovery.bytesTruncated == 0, "the repaired log is clean")
    }

    /// A flipped byte in an earlier record, with valid records after it, is reported, never dropped.
    @Test(arguments: [0, 1, 3, 4, 8, 12, 20])
    func damageInTheMiddleIsAnError(byteInFirstRecord: Int) throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        var (log, _, _) = try storeWithLastRecord(dir)
        log[byteInFirstRecord] ^= 0x41
        try dir.write("log-0", log)
        #expect {
            try FileControlStore(directory: dir.store)
        } throws: { error in
            let e = error as! ControlStoreError
            return e.code == .corrupt && e.offset == 0 && e.path.hasSuffix("/log-0") && e.description.contains("valid record follows")
        }
        #expect(try dir.read("log-0") == log, "a failed open must not modify the log")
    }

    @Test func damageInTheSnapshotIsAnError() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store)
        try store.commit([.put(key: "a", value: [1, 2, 3]), .put(key: "b", value: [4])])
        try store.compact()
        var snapshot = try dir.read("snapshot-1")
        for index in [0, 5, 10, 20, 26, snapshot.count - 1] {
            snapshot[index] ^= 0x10
            try dir.write("snapshot-1", snapshot)
            #expect {
                try FileControlStore(directory: dir.store)
            } throws: { error in
                let e = error as! ControlStoreError
                return e.code == .corrupt && e.path.hasSuffix("/snapshot-1") && e.offset != nil
            }
            snapshot[index] ^= 0x10
        }
        try dir.write("snapshot-1", snapshot)
        #expect(try FileControlStore(directory: dir.store).contents == ["a": [1, 2, 3], "b": [4]], "the repaired snapshot loads")
    }

    @Test func aLogWithoutItsSnapshotIsAnError() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let store = try FileControlStore(directory: dir.store)
        try store.commit([.put(key: "a", value: [1])])
        try store.compact()
        try store.commit([.put(key: "b", value: [2])])
        try dir.write("log-2", try dir.read("log-1"))
        #expect {
            try FileControlStore(directory: dir.store)
        } throws: { error in
            let e = error as! ControlStoreError
            return e.code == .corrupt && e.path.hasSuffix("/log-2") && e.description.contains("no snapshot-2")
        }
    }

    /// A record whose checksum matches but whose body is not a valid change list is not a crash artefact.
    @Test func aValidChecksumOverABadBodyIsAnError() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        _ = try storeWithLastRecord(dir)
        var body: [UInt8] = []
        body.appendLittleEndian(UInt32(1))
        body += [9, 1, 0, 0, 0, 65, 0, 0, 0, 0]  // op 9 does not exist
        var record: [UInt8] = []
        record.appendLittleEndian(UInt32(body.count))
        record.appendLittleEndian(CRC32C.checksum(body))
        record += body
        try dir.write("log-0", try dir.read("log-0") + record)
        #expect {
            try FileControlStore(directory: dir.store)
        } throws: { error in
            (error as! ControlStoreError).description.contains("do not decode")
        }
    }
}
