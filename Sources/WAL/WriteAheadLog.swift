public import Platform
public import Logging
import Synchronization

/// Hypha's shard-aware write-ahead log: opening it recovers every shard, and appends go to one
/// ``ShardLog`` per shard. In `interval` mode a ``WALFlusher`` group-commits every shard.
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

    /// Opens (creating if needed) the WAL under `dataDirectory` and recovers every shard.
    ///
    /// Recovery verifies both CRCs of every batch, cuts a torn tail of each shard's last segment
    /// back to the last valid batch, quarantines damage in the middle (reported, never silently
    /// dropped), and rebuilds sequences and producer high-water marks. It always succeeds on a
    /// damaged log; it throws only for I/O errors and a shard count that differs from the one
    /// the directory was created with.
    /// - Parameter faults: injected failures, for tests (default: none).
    public static func open(
        dataDirectory: String, options: WALOptions, logger: Logger, faults: (any WALFaults)? = nil
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
            shards.append(ShardLog(shard: shard, layout: layout, options: options, recovered: scan, faults: faults))
        }
        return WriteAheadLog(layout: layout, options: options, recovery: report, shards: shards)
    }

    private init(layout: WALLayout, options: WALOptions, recovery: WALScanReport, shards: [ShardLog]) {
        self.layout = layout
        self.options = options
        self.recovery = recovery
        self.shards = shards
    }

    /// Number of shards.
    public var shardCount: Int { shards.count }

    /// The log of shard `index` (0 ..< ``shardCount``).
    public func shard(_ index: Int) -> ShardLog { shards[index] }

    /// Every shard's log, by shard number.
    public var shardLogs: [ShardLog] { shards }

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

    /// Syncs every shard and closes the active segments; later appends throw. Stop the
    /// ``WALFlusher`` first.
    public func close() throws(WALError) {
        for shard in shards { try shard.close() }
    }
}

/// The group commit of `interval` durability: every ``WALOptions/syncIntervalMilliseconds``,
/// syncs each shard that has unsynced writes and reports its new durable sequence.
///
/// Its one thread (`hypha-wal-sync`) starts with the flusher and ends in ``stop()``, which
/// makes a last group commit first.
public final class WALFlusher: Sendable {
    private let worker: WorkerThread<Never>

    /// Starts flushing `wal`.
    /// - Parameter onDurable: called on the flusher's thread with (shard, durable sequence) after
    ///   a group commit moved it, and after a failed one (the shard's ``ShardLog/failure`` is then
    ///   set and the sequence has not moved). Must be quick.
    public init(wal: WriteAheadLog, logger: Logger, onDurable: @escaping @Sendable (Int, UInt64) -> Void) {
        let shards = wal.shardLogs
        // What was last reported per shard. A roll makes the closed segment durable on the
        // writer's thread, so the sequence can move between two group commits without one:
        // report whenever it is past the last report, not only when this sync moved it.
        let reported = Mutex(shards.map(\.durableSequence))
        worker = WorkerThread(name: "hypha-wal-sync", period: .milliseconds(max(1, wal.options.syncIntervalMilliseconds))) { _ in
            for shard in shards where shard.failure == nil {
                let durable: UInt64
                do {
                    durable = try shard.sync()
                } catch {
                    logger.error("wal group commit failed", metadata: ["wal.shard": "\(shard.shard)", "error": "\(error)"])
                    // The shard has stopped (ShardLog.failure): let its waiting batches fail.
                    onDurable(shard.shard, shard.durableSequence)
                    continue
                }
                let moved = reported.withLock { r -> Bool in
                    defer { r[shard.shard] = max(r[shard.shard], durable) }
                    return durable > r[shard.shard]
                }
                if moved { onDurable(shard.shard, durable) }
            }
        }
    }

    /// Makes a last group commit and stops the thread.
    public func stop() { worker.stop() }
}
