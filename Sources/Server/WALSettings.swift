public import Settings
public import WAL

extension WALOptions {
    /// The write-ahead log's settings: every command that opens a data directory for writing
    /// takes them with these flags, keys and ranges (`hypha serve` lifts them into its
    /// ``ServeConfiguration/wal``; `hypha wal stress-writer` applies them as they are).
    public static let settings = SettingsTable<WALOptions>([
        .init("Write-ahead log", [
            .integer(
                "shards", \.shardCount, in: 1 ... 65_536,
                help: "Number of WAL shards. Fixed when the data directory is created; reopening with another count is an error."),
            .choice(
                "durability", \.durability,
                help: "When a record is durable and may be acknowledged: none (in the page cache), interval (group commit), batch (synced per batch)."),
            .duration(
                "sync_interval_ms", \.syncInterval, unit: .milliseconds, in: 1 ... 60_000,
                help: "Group-commit period of interval durability."),
            .bytes(
                "segment_mib", \.segmentSize, unit: .mebibytes, in: 1 ... 4096,
                help: "Segment file size (preallocated; a batch must fit in one)."),
            .bytes(
                "retention_mib", \.retention.maxBytesPerShard, unit: .mebibytes, upTo: Int(Int32.max), zeroMeans: "no size limit",
                help: "Keep at most this much WAL per shard; the oldest closed segments go first."),
            .duration(
                "retention_hours", \.retention.maxAge, unit: .hours, upTo: 1_000_000, zeroMeans: "keep forever",
                help: "Delete closed segments written longer ago than this (counted from when the segment was closed, never from the records' own timestamps)."),
            .duration(
                "producer_expiry_days", \.retention.producerExpiry, unit: .days, upTo: 36_500, zeroMeans: "never",
                help: "Forget a producer's deduplication mark once it has sent nothing for this long and none of its batches is left in the shard."),
        ]),
    ])

    /// ``syncIntervalMilliseconds`` as a `Duration`, as the settings table stores it.
    var syncInterval: Duration {
        get { .milliseconds(syncIntervalMilliseconds) }
        set { syncIntervalMilliseconds = Int(newValue / .milliseconds(1)) }
    }
}

extension RetentionPolicy {
    /// ``maxAgeSeconds`` as a `Duration`, as the settings table stores it.
    var maxAge: Duration? {
        get { maxAgeSeconds.map { .seconds($0) } }
        set { maxAgeSeconds = newValue?.components.seconds }
    }

    /// ``producerExpirySeconds`` as a `Duration`, as the settings table stores it.
    var producerExpiry: Duration? {
        get { producerExpirySeconds.map { .seconds($0) } }
        set { producerExpirySeconds = newValue?.components.seconds }
    }
}
