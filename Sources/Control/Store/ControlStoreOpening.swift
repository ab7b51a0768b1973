#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Recovery of a ``FileControlStore`` directory: what the store holds after opening it.
struct ControlStoreOpening {
    var contents: [String: [UInt8]] = [:]
    var recovery = ControlStoreRecovery()
    var log: ControlFileHandle
    var logBytes: Int
    var snapshotBytes = 0

    /// Loads the newest snapshot and replays its log, truncates a torn tail, then removes
    /// temporary files and older generations. Nothing is removed when loading fails.
    static func open(_ directory: String) throws(ControlStoreError) -> ControlStoreOpening {
        var snapshots: [UInt64] = []
        var logs: [UInt64] = []
        var temporaries: [String] = []
        for name in try ControlFiles.list(directory) {
            switch ControlStoreLayout.classify(name) {
            case .snapshot(let generation): snapshots.append(generation)
            case .log(let generation): logs.append(generation)
            case .temporary: temporaries.append(name)
            case .other: break
            }
        }
        let newest = snapshots.max()
        let generation = newest ?? 0
        if let stray = logs.filter({ $0 > generation }).min() {
            throw ControlStoreError(
                .corrupt, path: directory + "/" + ControlStoreLayout.logName(stray),
                "there is no snapshot-\(stray) for this log (newest snapshot: \(newest.map { "snapshot-\($0)" } ?? "none")); refusing to open rather than drop its commits")
        }

        var contents: [String: [UInt8]] = [:]
        var snapshotBytes = 0
        if let newest {
            let path = directory + "/" + ControlStoreLayout.snapshotName(newest)
            let bytes = try ControlFileHandle(path: path, flags: O_RDONLY).readAll()
            contents = try ControlSnapshotCodec.decode(bytes, path: path, generation: newest)
            snapshotBytes = bytes.count
        }
        let snapshotEntries = contents.count

        let logPath = directory + "/" + ControlStoreLayout.logName(generation)
        let log = try ControlFileHandle(path: logPath, flags: O_RDWR | O_CREAT | O_APPEND)
        let bytes = try log.readAll()
        let replay = try ControlLogReplay.replay(bytes, path: logPath, into: &contents)
        if replay.validEnd < bytes.count {
            try log.truncate(to: replay.validEnd)
            try log.syncData()
        }

        var removed: [String] = []
        for name in temporaries.sorted() { removed.append(name) }
        for old in snapshots.sorted() where old < generation { removed.append(ControlStoreLayout.snapshotName(old)) }
        for old in logs.sorted() where old < generation { removed.append(ControlStoreLayout.logName(old)) }
        for name in removed { try ControlFiles.remove(directory + "/" + name) }
        if !removed.isEmpty || !logs.contains(generation) { try ControlFiles.syncDirectory(directory) }

        var recovery = ControlStoreRecovery(
            generation: generation, snapshotGeneration: newest, snapshotEntries: snapshotEntries,
            recordsReplayed: replay.records, changesReplayed: replay.changes,
            bytesTruncated: bytes.count - replay.validEnd, removedFiles: removed)
        if let defect = replay.tailDefect { recovery.truncatedAt = (replay.validEnd, defect) }
        return ControlStoreOpening(
            contents: contents, recovery: recovery, log: log, logBytes: replay.validEnd, snapshotBytes: snapshotBytes)
    }
}
