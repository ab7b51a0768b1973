public import WAL
/// The knobs of the record path, each with a default and a `hypha serve` flag.
public struct IngestLimits: Sendable, Equatable {
    /// Seal a shard's batch at this many uncompressed bytes (default 256 KiB).
    public var batchBytes = 256 << 10
    /// ... or this long after its first record (default 5 ms).
    public var lingerNanoseconds: UInt64 = 5_000_000
    /// Codec for sealed batches.
    public var codec: WALCodec = .lz4
    /// Longest line on line-based protocols (default 64 KiB).
    public var maxLineBytes = 64 << 10
    /// Largest frame: native frames and octet-counted syslog (default 8 MiB).
    public var maxFrameBytes = 8 << 20
    /// Largest uncompressed payload of a native BATCH_COMPRESSED, announced in a version 2
    /// HELLO_OK as `max_batch_bytes` (default 16 MiB; at most ``BatchHeader/maxPayload``, what
    /// one WAL batch holds). It bounds the one buffer a compressed batch is decompressed into.
    public var maxBatchBytes = 16 << 20
    /// Most connections open at once, all listeners together (default 10,000).
    public var maxConnections = 10_000
    /// Close connections silent this long (default 300 s).
    public var idleTimeoutSeconds = 300
    /// In-flight bytes (sealed, not yet in the WAL) in total (default 256 MiB) ...
    public var maxInFlightBytes = 256 << 20
    /// ... and per shard (default 16 MiB: 64 sealed batches; with 4 shards a quarter of the
    /// total, which bounds what a lagging WAL can hold in memory to 64 MiB).
    public var maxInFlightShardBytes = 16 << 20

    public init() {}
}
