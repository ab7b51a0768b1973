
/// What the health evaluator needs to know about one shard: its rates, its size on disk and its
/// WAL sync lag. One per shard, indexed by shard number.
public struct ShardInput: Sendable, Equatable {
    /// EMA of records/s written to the shard.
    public var recordsPerSecond: Double
    /// EMA of bytes/s written to the shard.
    public var bytesPerSecond: Double
    /// Bytes of the shard's WAL on disk.
    public var diskBytes: Int64
    /// The shard's WAL sync lag in nanoseconds: how far durability trails writing. The shard is
    /// Degraded when it exceeds ``HealthThresholds/degradedLag``.
    public var syncLagNanoseconds: Int64
    /// Why the shard cannot write (it stopped after a failed sync, or the disk is full), `nil`
    /// while it writes. Such a shard is Degraded at once, with this as the reason.
    public var stopped: String?

    /// Inputs from plain figures; non-finite rates and negative sizes count as 0.
    public init(
        recordsPerSecond: Double = 0, bytesPerSecond: Double = 0, diskBytes: Int64 = 0, syncLagNanoseconds: Int64 = 0,
        stopped: String? = nil
    ) {
        self.recordsPerSecond = recordsPerSecond.isFinite ? recordsPerSecond : 0
        self.bytesPerSecond = bytesPerSecond.isFinite ? bytesPerSecond : 0
        self.diskBytes = max(0, diskBytes)
        self.syncLagNanoseconds = max(0, syncLagNanoseconds)
        self.stopped = stopped
    }
}
