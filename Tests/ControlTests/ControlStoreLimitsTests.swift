import Testing
import TestSupport

@testable import Control

/// Keys, values and commits over their bounds fail the whole commit with a clear error.
@Suite struct ControlStoreLimitsTests {
    static let seed: [String: [UInt8]] = ["tasks/t-1": [1]]

    /// Both stores, holding ``seed``.
    func stores(_ dir: TemporaryDirectory) throws -> [any ControlStore] {
        let file = try FileControlStore(directory: dir.store)
        try file.commit([.put(key: "tasks/t-1", value: [1])])
        return [MemoryControlStore(contents: Self.seed), file]
    }

    @Test func keyOverOneKiBIsRejected() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        for store in try stores(dir) {
            let before = store.diskBytes
            let long = String(repeating: "k", count: ControlStoreLimits.maxKeyBytes + 1)
            #expect {
                try store.commit([.put(key: "ok", value: [1]), .put(key: long, value: [2])])
            } throws: { error in
                let e = error as! ControlStoreError
                return e.code == .limitExceeded && e.description.contains("1025") && e.description.contains("change 1")
            }
            #expect(store.contents == Self.seed, "a rejected commit changed \(type(of: store))")
            #expect(store.diskBytes == before, "a rejected commit wrote \(store.diskBytes - before) bytes")
            try store.commit([.put(key: String(repeating: "k", count: ControlStoreLimits.maxKeyBytes), value: [])])
        }
    }

    @Test func valueOverSixteenMiBIsRejected() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        for store in try stores(dir) {
            let big = [UInt8](repeating: 7, count: ControlStoreLimits.maxValueBytes + 1)
            #expect {
                try store.commit([.put(key: "big", value: big)])
            } throws: { error in
                let e = error as! ControlStoreError
                return e.code == .limitExceeded && e.description.contains("16 MiB")
            }
            #expect(store.contents == Self.seed, "a rejected commit changed \(type(of: store))")
        }
    }

    @Test func recordOverSixtyFourMiBIsRejected() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        for store in try stores(dir) {
            let value = [UInt8](repeating: 1, count: 15 << 20)  // shared, not copied, by the five puts
            let changes = (0 ..< 5).map { ControlChange.put(key: "v\($0)", value: value) }
            #expect {
                try store.commit(changes)
            } throws: { error in
                let e = error as! ControlStoreError
                return e.code == .limitExceeded && e.description.contains("64 MiB")
            }
            #expect(store.contents == Self.seed, "a rejected commit changed \(type(of: store))")
        }
    }

    @Test func emptyKeyIsRejectedButEmptyPrefixIsAllowed() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        for store in try stores(dir) {
            #expect {
                try store.commit([.delete(key: "")])
            } throws: { error in
                (error as! ControlStoreError).code == .invalidChange
            }
            try store.commit([.deletePrefix("")])
            #expect(store.contents.isEmpty, "deletePrefix(\"\") leaves \(store.contents.count) keys")
        }
        #expect(try FileControlStore(directory: dir.store).contents.isEmpty, "the empty prefix cleared the disk too")
    }
}
