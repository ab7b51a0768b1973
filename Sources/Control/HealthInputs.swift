public import Ingest

/// What the health evaluator needs to know about one shard: its rates, its size on disk and its
/// WAL sync lag. One per shard, indexed by shard number.
public struct ShardInput: Sendable, Equatable {
    /// EMA of records/s written to the shard (Ingest's `IngestStats.snapshot.shardRates`).
    public var recordsPerSecond: Double
    /// EMA of bytes/s written to the shard.
    public var bytesPerSecond: Double
    /// Bytes of the shard's WAL on disk (`ShardLog.storedBytes`).
    public var diskBytes: Int64
    /// The shard's WAL sync lag in nanoseconds: how far durability trails writing. The shard is
    /// Degraded when it exceeds ``HealthThresholds/degradedLag``.
    public var syncLagNanoseconds: Int64
    /// Why the shard stopped writing (`ShardLog.failure`: a failed sync), `nil` while it works.
    /// A stopped shard is Degraded at once, with this as the reason.
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

    /// Inputs from Ingest's EMA for the shard.
    public init(rate: ThroughputEMA, diskBytes: Int, syncLagNanoseconds: Int64, stopped: String? = nil) {
        self.init(
            recordsPerSecond: rate.recordsPerSecond, bytesPerSecond: rate.bytesPerSecond, diskBytes: Int64(diskBytes),
            syncLagNanoseconds: syncLagNanoseconds, stopped: stopped)
    }

    /// Gathers the inputs of every shard of a running node: rates from Ingest's stats snapshot,
    /// disk bytes from each `ShardLog.storedBytes`, and as WAL sync lag how long the shard's oldest
    /// unsynced write has waited (`ShardLog.syncLagNanoseconds`).
    ///
    /// Reads the logs' state under their locks (cheap, O(segments) for `storedBytes`); reads the
    /// monotonic clock for the sync lag. Call it from any thread, e.g. when serving `GET /health`.
    public static func gather(wal: WriteAheadLog, stats: IngestStats.Snapshot) -> [ShardInput] {
        (0 ..< wal.shardCount).map { index in
            let log = wal.shard(index)
            let rate = index < stats.shardRates.count ? stats.shardRates[index] : ThroughputEMA()
            return ShardInput(
                rate: rate, diskBytes: log.storedBytes, syncLagNanoseconds: log.syncLagNanoseconds, stopped: log.failure?.message)
        }
    }
}
