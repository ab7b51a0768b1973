import Testing
import TestSupport
import Workload

@testable import Control

/// ``MemoryControlStore`` and ``FileControlStore`` agree on a seeded random run of commits,
/// failed commits, compactions and reopens.
@Suite struct ControlStoreModelTests {
    static let keys = ["tasks/t-1", "tasks/t-2", "tasks/t-10", "tasks/x/1", "leases/t-1", "leases/t-2", "checkpoints/t-1",
        "checkpoints/t-2", "configs/app/1", "configs/app/2", "configs/db/1", "rollouts/r-1", "rollouts/r-2", "tasks", "z"]
    static let prefixes = ["tasks/", "tasks", "leases/", "checkpoints/", "configs/app/", "configs/", "rollouts/", "nothing/", ""]

    static func randomChange(_ random: inout SplitMix64) -> ControlChange {
        let key = keys.randomElement(using: &random)!
        switch Int.random(in: 0 ..< 100, using: &random) {
        case 0 ..< 60:
            let count = Int.random(in: 0 ... 40, using: &random)
            return .put(key: key, value: (0 ..< count).map { _ in UInt8.random(in: 0 ... 255, using: &random) })
        case 60 ..< 90: return .delete(key: key)
        case 90 ..< 99: return .deletePrefix(prefixes.dropLast().randomElement(using: &random)!)
        default: return .deletePrefix("")
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func memoryAndFileAgree(seed: UInt64) throws {
        let dir = TemporaryDirectory("hypha-model\(seed)")
        defer { dir.remove() }
        var random = SplitMix64(seed: seed)
        let memory = MemoryControlStore()
        var file = try FileControlStore(directory: dir.store, compactAfterBytes: 1024)
        for step in 0 ..< 300 {
            var changes = (0 ..< Int.random(in: 0 ... 8, using: &random)).map { _ in Self.randomChange(&random) }
            let invalid = Int.random(in: 0 ..< 20, using: &random) == 0
            if invalid { changes.insert(.put(key: "", value: [1]), at: Int.random(in: 0 ... changes.count, using: &random)) }
            let memoryFailed = (try? memory.commit(changes)) == nil
            let fileFailed = (try? file.commit(changes)) == nil
            #expect(memoryFailed == invalid && fileFailed == invalid, "step \(step): invalid \(invalid), memory failed \(memoryFailed), file failed \(fileFailed)")
            if Int.random(in: 0 ..< 25, using: &random) == 0 {
                file = try FileControlStore(directory: dir.store, compactAfterBytes: 1024)
            }
            #expect(file.contents == memory.contents, "step \(step) (seed \(seed)): contents differ")
            for prefix in Self.prefixes {
                let f = file.values(under: prefix)
                let m = memory.values(under: prefix)
                #expect(f.map(\.key) == m.map(\.key) && f.map(\.value) == m.map(\.value), "step \(step): values(under: \"\(prefix)\") differ")
            }
        }
        #expect(file.generation > 0, "the run never compacted (seed \(seed))")
        #expect(try FileControlStore(directory: dir.store).contents == memory.contents, "final reopen differs (seed \(seed))")
    }
}
