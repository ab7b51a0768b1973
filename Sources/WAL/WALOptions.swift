import Platform
/// When an appended batch counts as durable, and so when a client may be acknowledged.
public enum Durability: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Durable once in the page cache: survives a crash of Hypha, not of the machine.
    case none
    /// Group commit: a flusher syncs every shard each ``WALOptions/syncInterval``.
    case interval
    /// Synced before `append` returns.
    case batch

    public var description: String { rawValue }
}

/// How much of each shard's log to keep. The active segment is never deleted.
public struct RetentionPolicy: Sendable, Equatable {
    /// Delete the oldest closed segments while a shard holds more than this many bytes.
    public var maxBytesPerShard: Int?
    /// Delete closed segments whose newest record is older than this many seconds.
    public var maxAgeSeconds: Int64?

    public init(maxBytesPerShard: Int? = 8 << 30, maxAgeSeconds: Int64? = 7 * 86_400) {
        self.maxBytesPerShard = maxBytesPerShard
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// Keep everything.
    public static let unlimited = RetentionPolicy(maxBytesPerShard: nil, maxAgeSeconds: nil)
}

/// Settings for opening a ``WriteAheadLog``.
public struct WALOptions: Sendable {
    /// Number of shards; fixed when the data directory is created.
    public var shardCount: Int
    /// Bytes preallocated per segment file (default 64 MiB). A batch must fit in one segment.
    public var segmentSize: Int
    public var durability: Durability
    /// Group-commit period in `interval` mode (default 10 ms).
    public var syncIntervalMilliseconds: Int
    public var retention: RetentionPolicy
    /// zstd level for batches written with the zstd codec.
    public var zstdLevel: Int32

    public init(
        shardCount: Int = 4, segmentSize: Int = 64 << 20, durability: Durability = .interval,
        syncIntervalMilliseconds: Int = 10, retention: RetentionPolicy = RetentionPolicy(), zstdLevel: Int32 = 1
    ) {
        self.shardCount = shardCount
        self.segmentSize = segmentSize
        self.durability = durability
        self.syncIntervalMilliseconds = syncIntervalMilliseconds
        self.retention = retention
        self.zstdLevel = zstdLevel
    }
}
