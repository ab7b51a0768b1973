import Platform
import Foundation

/// Rebuilds the control state from a ``ControlStore`` after a start or a crash.
enum ControlPersistence {
    /// The books as stored, with every lease given one lease duration of grace from `now`.
    /// - Throws: ``ControlStoreError`` naming the first entry that cannot be decoded.
    static func restore(from store: any ControlStore, settings: ControlCoordinator.Settings, now: Int64) throws -> ControlState {
        let decoder = JSONDecoder()
        func decode<T: Decodable>(_: T.Type, _ entry: (key: String, value: [UInt8])) throws(ControlStoreError) -> T {
            do { return try decoder.decode(T.self, from: Data(entry.value)) } catch {
                throw ControlStoreError(.corrupt, path: entry.key, "the entry cannot be decoded: \(error)")
            }
        }
        var records: [TaskRecord] = []
        for entry in store.values(under: ControlKeys.tasks) { records.append(try decode(TaskRecord.self, entry)) }
        var checkpoints: [String: [String: String]] = [:]
        for entry in store.values(under: ControlKeys.checkpoints) {
            guard let pairs = CheckpointCodec.decode(entry.value) else {
                throw ControlStoreError(.corrupt, path: entry.key, "the entry is not a valid checkpoint")
            }
            checkpoints[String(entry.key.dropFirst(ControlKeys.checkpoints.count))] = pairs
        }
        for i in records.indices { if let c = checkpoints[records[i].id] { records[i].checkpoint = c } }
        var documents: [ConfigDocument] = []
        for entry in store.values(under: ControlKeys.configs) { documents.append(try decode(ConfigDocument.self, entry)) }
        var rollouts: [Rollout] = []
        for entry in store.values(under: ControlKeys.rollouts) { rollouts.append(try decode(Rollout.self, entry)) }
        let lease = settings.leaseDuration.clampedNanoseconds
        // The book takes at least the highest restored serial + 1 itself.
        let nextSerial = store.contents[ControlKeys.nextTaskSerial].flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 1
        return ControlState(
            tasks: TaskBook(restoring: records, leaseDuration: lease, now: now, maxTasks: settings.maxTasks, nextSerial: nextSerial),
            configs: ConfigBook(restoring: documents, rollouts: rollouts), now: now)
    }
}
