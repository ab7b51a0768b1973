/// What ``FileControlStore`` found and repaired when it opened its directory.
public struct ControlStoreRecovery: Sendable, Equatable, CustomStringConvertible {
    /// The generation now in use (its `log-N` takes new commits).
    public var generation: UInt64
    /// The snapshot loaded (`nil`: none, the store started empty at generation 0).
    public var snapshotGeneration: UInt64?
    /// Keys loaded from the snapshot.
    public var snapshotEntries: Int
    /// Log records (commits) replayed after the snapshot.
    public var recordsReplayed: Int
    /// Changes in those records.
    public var changesReplayed: Int
    /// Bytes cut from the end of the log: a commit torn by a crash, or garbage after the last one.
    public var bytesTruncated: Int
    /// Where the truncated tail began, and why it was not a record.
    public var truncatedAt: (offset: Int, reason: String)? {
        get { truncation.map { ($0.offset, $0.reason) } }
        set { truncation = newValue.map { Truncation(offset: $0.offset, reason: $0.reason) } }
    }
    /// Leftovers of an interrupted compaction that were removed (temporary and older files).
    public var removedFiles: [String]

    private struct Truncation: Sendable, Equatable {
        var offset: Int
        var reason: String
    }
    private var truncation: Truncation?

    /// A report; see the properties.
    public init(
        generation: UInt64 = 0, snapshotGeneration: UInt64? = nil, snapshotEntries: Int = 0, recordsReplayed: Int = 0,
        changesReplayed: Int = 0, bytesTruncated: Int = 0, removedFiles: [String] = []
    ) {
        self.generation = generation
        self.snapshotGeneration = snapshotGeneration
        self.snapshotEntries = snapshotEntries
        self.recordsReplayed = recordsReplayed
        self.changesReplayed = changesReplayed
        self.bytesTruncated = bytesTruncated
        self.removedFiles = removedFiles
    }

    /// One line for the log, e.g. `generation 3: snapshot-3 (120 keys) + 42 records (900 changes); truncated 17 bytes at offset 5120 (record checksum mismatch)`.
    public var description: String {
        var text = "generation \(generation): "
        text += snapshotGeneration.map { "snapshot-\($0) (\(snapshotEntries) keys)" } ?? "no snapshot"
        text += " + \(recordsReplayed) records (\(changesReplayed) changes)"
        if let truncation {
            text += "; truncated \(bytesTruncated) bytes at offset \(truncation.offset) (\(truncation.reason))"
        }
        if !removedFiles.isEmpty { text += "; removed \(removedFiles.joined(separator: ", "))" }
        return text
    }
}
