public import Logging
import Synchronization

/// Hypha's shard-aware write-ahead log: opening it recovers every shard, appends go to one
/// ``ShardLog`` per shard, and in `interval` mode a flusher thread group-commits every shard.
///
/// ```swift
/// let wal = try WriteAheadLog.open(dataDirectory: "hypha-data", options: WALOptions(), logger: logger)
/// var payload: [UInt8] = []
/// RecordEncoder.append(LogRecord(timestamp: t, host: "web1", app: "nginx", message: "GET /"), to: &payload)
/// let outcome = try wal.shard(0).append(BatchDraft(payload: payload, recordCount: 1, minTimestamp: t, maxTimestamp: t))
/// try wal.close()
/// ```
///
/// Thread safety: all methods may be called from any thread.
public final class WriteAheadLog: Sendable {
    public let layout: WALLayout
    public let options: WALOptions
    /// What recovery found and did when the log was opened.
    public let recovery: WALScanReport
    private let shards: [ShardLog]
    private let stopping: Atomic<Bool>
    private let flusher: Mutex<BackgroundThread?>
    private let logger: Logger

    /// Opens (creating if needed) the WAL under `dataDirectory` and recovers every shard.
    ///
    /// Recovery verifies both CRCs of every batch, cuts a torn tail of each shard's last segment
    /// back to the last valid batch, quarantines damage in the middle (reported, never silently
    /// dropped), and rebuilds sequences and producer high-water marks. It always succeeds on a
    /// damaged log; it throws only for I/O errors and a shard count that differs from the one
    /// the directory was created with.
    /// - Parameter onDurable: called on the flusher thread with (shard, durable sequence) after
    ///   each group commit in `interval` mode, and after a failed one (the shard's
    ///   ``ShardLog/failure`` is then set and the sequence has not moved).
    public static func open(
        dataDirectory: String, options: WALOptions, logger: Logger,
        onDurable: (@Sendable (Int, UInt64) -> Void)? = nil
    ) throws(WALError) -> WriteAheadLog {
        let layout = WALLayout(dataDirectory: dataDirectory)
        try layout.establish(shardCount: options.shardCount)
        var shards: [ShardLog] = []
        var report = WALScanReport(shards: [], problems: [])
        for shard in 0 ..< options.shardCount {
            let scan = try scanShard(layout: layout, shard: shard, repair: true)
            for problem in scan.problems {
                logger.warning("wal recovery repaired damage", metadata: [
                    "wal.path": "\(problem.path)", "wal.offset": "\(problem.offset)", "wal.reason": "\(problem.reason)",
                    "wal.action": "\(problem.action.rawValue)",
                ])
            }
            report.shards.append(scan.segments)
            report.problems += scan.problems
            shards.append(ShardLog(shard: shard, layout: layout, options: options, recovered: scan))
        }
        let wal = WriteAheadLog(layout: layout, options: options, recovery: report, shards: shards, logger: logger)
        if options.durability == .interval { wal.startFlusher(onDurable: onDurable) }
        return wal
    }

    private init(layout: WALLayout, options: WALOptions, recovery: WALScanReport, shards: [ShardLog], logger: Logger) {
        self.layout = layout
        self.options = options
        self.recovery = recovery
        self.shards = shards
        self.logger = logger
        self.stopping = Atomic(false)
        self.flusher = Mutex(nil)
    }

    /// Number of shards.
    public var shardCount: Int { shards.count }

    /// The log of shard `index` (0 ..< ``shardCount``).
    public func shard(_ index: Int) -> ShardLog { shards[index] }

    /// Syncs every shard now.
    public func syncAll() throws(WALError) {
        for shard in shards { try shard.sync() }
    }

    /// Applies the retention policy to every shard.
    @discardableResult
    public func applyRetention(now: Int64 = WallClock.nanoseconds() / 1_000_000_000) throws(WALError) -> [String] {
        var deleted: [String] = []
        for shard in shards { deleted += try shard.applyRetention(now: now) }
        return deleted
    }

    /// Stops the flusher, syncs every shard and closes the active segments.
    public func close() throws(WALError) {
        stopping.store(true, ordering: .releasing)
        flusher.withLock { $0 }?.join()
        for shard in shards { try shard.close() }
    }

    private func startFlusher(onDurable: (@Sendable (Int, UInt64) -> Void)?) {
        let interval = max(1, options.syncIntervalMilliseconds)
        let thread = BackgroundThread(name: "hypha-wal-sync") { [self] in
            while !stopping.load(ordering: .acquiring) {
                sleepMilliseconds(interval)
                for shard in shards where shard.failure == nil {
                    do {
                        let before = shard.durableSequence
                        let durable = try shard.sync()
                        if durable != before { onDurable?(shard.shard, durable) }
                    } catch {
                        logger.error("wal group commit failed", metadata: ["wal.shard": "\(shard.shard)", "error": "\(error)"])
                        // The shard has stopped (ShardLog.failure): let its waiting batches fail.
                        onDurable?(shard.shard, shard.durableSequence)
                    }
                }
            }
        }
        flusher.withLock { $0 = thread }
    }
}
