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
    /// Delete closed segments that were last written more than this many seconds ago. A
    /// segment's age counts from when it was closed (when the next one was created), never
    /// from the timestamps of the records in it, which senders choose.
    public var maxAgeSeconds: Int64?
    /// Forget a producer's high-water mark once the producer has sent nothing for this many
    /// seconds and none of its batches is left in the shard (default 30 days; `nil`: never).
    public var producerExpirySeconds: Int64?

    public init(maxBytesPerShard: Int? = 8 << 30, maxAgeSeconds: Int64? = 7 * 86_400, producerExpirySeconds: Int64? = 30 * 86_400) {
        self.maxBytesPerShard = maxBytesPerShard
        self.maxAgeSeconds = maxAgeSeconds
        self.producerExpirySeconds = producerExpirySeconds
    }

    /// Keep everything.
    public static let unlimited = RetentionPolicy(maxBytesPerShard: nil, maxAgeSeconds: nil, producerExpirySeconds: nil)
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

    /// The largest batch payload that fits in one segment, after the segment header and the
    /// batch header, and in one batch (``BatchHeader/maxPayload``).
    public var largestBatchPayload: Int { min(BatchHeader.maxPayload, segmentSize - SegmentHeader.size - BatchHeader.size) }

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
