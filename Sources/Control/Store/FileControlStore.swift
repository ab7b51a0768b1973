#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``ControlStore`` in a directory of snapshot and log files that survives `SIGKILL` and
/// power loss.
///
/// Each ``commit(_:)`` encodes its changes into one buffer, appends it to `log-N` as one
/// CRC32C-framed record with a single `write`, and `fdatasync`s before returning: a commit
/// survives a crash whole or not at all. When the log outgrows
/// `max(compactAfterBytes, 2 × snapshot size)`, the store writes the contents to
/// `snapshot-N+1` and starts `log-N+1` (see ``compact()``). The format is in
/// `docs/control-store.md`.
///
/// Opening recovers the newest snapshot plus its log. A torn or garbage tail of the log is
/// truncated and reported in ``recovery``; damage in the middle of the log or in the snapshot
/// is an error naming the file and offset, so committed data is never dropped silently.
///
/// All methods block on disk I/O. Not thread-safe: use from the control loop only.
///
/// ```swift
/// let store = try FileControlStore(directory: "\(data)/control")
/// logger.info("control store opened", metadata: ["hypha.control.recovery": "\(store.recovery)"])
/// try store.commit([.put(key: "ckpt/t-12", value: offsetBytes)])
/// ```
public final class FileControlStore: ControlStore {
    /// The store's directory.
    public let directory: String
    /// The log size that triggers compaction (the trigger is at least twice the snapshot).
    public let compactAfterBytes: Int
    /// Every key and value as of the last successful commit.
    public private(set) var contents: [String: [UInt8]]
    /// What opening found and repaired.
    public private(set) var recovery: ControlStoreRecovery
    /// The current generation: new commits go to `log-<generation>`.
    public internal(set) var generation: UInt64
    /// Why the last automatic compaction failed (`nil` after a success). Commits still succeed;
    /// compaction is retried once the log has grown by another threshold.
    public internal(set) var lastCompactionError: ControlStoreError?

    /// Snapshot plus log size.
    public var diskBytes: Int { snapshotBytes + logBytes }

    var log: ControlFileHandle?
    var logBytes: Int
    var snapshotBytes: Int
    /// Set when the log's state on disk is unknown; every commit throws it until reopening.
    var unusable: ControlStoreError?
    /// The log size below which a failed compaction is not retried.
    var compactionRetryAt = 0
    /// Scratch buffers reused by every commit.
    private var body: [UInt8] = []
    private var record: [UInt8] = []
    /// Test hook: stop compaction after a step, as a crash would.
    var compactionCrash: CompactionStep?

    /// Opens or creates the store in `directory`, creating it and its parents if missing.
    ///
    /// Recovery loads the newest `snapshot-N` and replays `log-N`; removes `*.tmp` files and
    /// older generations left by an interrupted compaction; truncates a torn tail of `log-N`.
    /// - Parameters:
    ///   - directory: for example `<data>/control`; the store owns every file in it named
    ///     `snapshot-*`, `log-*` or `*.tmp`.
    ///   - compactAfterBytes: the log size that triggers compaction (default 8 MiB).
    /// - Throws: ``ControlStoreError/Code/corrupt`` for a damaged snapshot, damage in the
    ///   middle of the log, or a log whose snapshot is missing; ``ControlStoreError/Code/io``
    ///   when the directory cannot be read or written.
    public init(directory: String, compactAfterBytes: Int = 8 << 20) throws(ControlStoreError) {
        self.directory = directory
        self.compactAfterBytes = max(compactAfterBytes, 1)
        try ControlFiles.makeDirectory(directory)
        let opened = try ControlStoreOpening.open(directory)
        contents = opened.contents
        recovery = opened.recovery
        generation = opened.recovery.generation
        log = opened.log
        logBytes = opened.logBytes
        snapshotBytes = opened.snapshotBytes
    }

    /// Appends the changes as one record and syncs it; then compacts if the log is due.
    ///
    /// An empty array does nothing. Cost: one `write` and one `fdatasync` per call however
    /// many changes it holds; the encoding buffers are reused across calls.
    /// - Throws: ``ControlStoreError/Code/limitExceeded`` or ``ControlStoreError/Code/invalidChange``
    ///   before anything is written; ``ControlStoreError/Code/io`` when writing or syncing fails
    ///   (the partial record is cut off again); ``ControlStoreError/Code/unusable`` after a
    ///   failure that could not be undone. ``contents`` then stay as before.
    public func commit(_ changes: [ControlChange]) throws(ControlStoreError) {
        if let unusable { throw unusable }
        guard !changes.isEmpty else { return }
        let bodySize = try ControlStoreLimits.validatedBodySize(changes, path: directory)
        ControlRecordCodec.encode(changes, bodySize: bodySize, into: &record, scratch: &body)
        defer { releaseLargeBuffers() }
        let file = try openLog()
        try append(record, to: file)
        logBytes += record.count
        contents.apply(changes)
        compactIfDue()
    }

    /// The open `log-<generation>`, creating it (and syncing the directory) when needed.
    func openLog() throws(ControlStoreError) -> ControlFileHandle {
        if let log { return log }
        let file = try ControlFileHandle(
            path: path(ControlStoreLayout.logName(generation)), flags: O_WRONLY | O_CREAT | O_APPEND)
        try ControlFiles.syncDirectory(directory)
        logBytes = try file.size()
        log = file
        return file
    }

    /// Writes and syncs `bytes`; on failure cuts the log back so no partial record stays in
    /// front of later ones.
    private func append(_ bytes: [UInt8], to file: ControlFileHandle) throws(ControlStoreError) {
        do {
            try file.writeAll(bytes)
            try file.syncData()
        } catch {
            do {
                try file.truncate(to: logBytes)
                try file.syncData()
            } catch let undo {
                log = nil
                unusable = ControlStoreError(
                    .unusable, path: file.path,
                    "a failed commit (\(error.message)) could not be cut off again (\(undo)); reopen the store to recover")
            }
            throw error
        }
    }

    /// Lets go of scratch capacity after an unusually large commit.
    private func releaseLargeBuffers() {
        if record.capacity > 8 << 20 {
            record = []
            body = []
        }
    }

    func path(_ name: String) -> String { directory + "/" + name }
}

/// Not thread-safe: confine to the control loop, hand over with `sending`.
@available(*, unavailable)
extension FileControlStore: Sendable {}
