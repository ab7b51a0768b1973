public import ArgumentParser
public import WAL

extension Durability: ExpressibleByArgument {}

extension WALCodec: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.description) }
}

/// Options shared by every command that opens a data directory.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data"), help: "The data directory (holds wal/ and the control state).")
    var directory: String = "hypha-data"
}

/// Options that shape the write-ahead log when a node opens it.
struct WALSettings: ParsableArguments {
    @Option(help: "Number of WAL shards. Fixed when the data directory is created; reopening with another count is an error.")
    var shards: Int = 4

    @Option(help: "Durability before an acknowledgement: none (page cache), interval (group commit), batch (synced per batch).")
    var durability: Durability = .interval

    @Option(help: "Group-commit period in milliseconds for --durability interval.")
    var syncIntervalMs: Int = 10

    @Option(help: "Segment file size in MiB (preallocated; a batch must fit in one).")
    var segmentMib: Int = 64

    @Option(help: "Retention: keep at most this many MiB per shard (0 = no size limit).")
    var retentionMib: Int = 8192

    @Option(help: "Retention: delete closed segments older than this many hours (0 = keep forever).")
    var retentionHours: Int = 168

    func options() throws -> WALOptions {
        guard shards >= 1, shards <= 65_536 else { throw ValidationError("--shards must be between 1 and 65536") }
        guard segmentMib >= 1, segmentMib <= 4096 else { throw ValidationError("--segment-mib must be between 1 and 4096") }
        guard syncIntervalMs >= 1 else { throw ValidationError("--sync-interval-ms must be at least 1") }
        guard retentionMib >= 0, retentionHours >= 0 else { throw ValidationError("retention limits cannot be negative") }
        return WALOptions(
            shardCount: shards, segmentSize: segmentMib << 20, durability: durability,
            syncIntervalMilliseconds: syncIntervalMs,
            retention: RetentionPolicy(
                maxBytesPerShard: retentionMib == 0 ? nil : retentionMib << 20,
                maxAgeSeconds: retentionHours == 0 ? nil : Int64(retentionHours) * 3600))
    }
}
