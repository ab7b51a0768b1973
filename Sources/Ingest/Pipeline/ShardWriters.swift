public import Logging
import Platform
public import WAL

/// The WAL end of the record path: one ``ShardWriter`` per shard, the ``InFlightGate`` that
/// bounds what is sealed but not yet written, and the pool their batch buffers return to.
///
/// Built right after the WAL is opened, before the listeners, so the WAL's flusher can report
/// durability to it (``durable(shard:upTo:)``) from its first group commit.
///
/// Thread-safe.
public final class ShardWriters: Sendable {
    /// One writer per shard, by shard number.
    public let writers: [ShardWriter]
    /// Bytes sealed but not yet in the WAL.
    public let gate: InFlightGate
    let pool: PayloadPool

    /// Starts one writer thread per shard of `wal`.
    /// - Parameters:
    ///   - threads: event loops that will seal batches (sizes the buffer pool).
    ///   - tap: handed every written batch (the control plane's view of the stream).
    public init(wal: WriteAheadLog, limits: IngestLimits, threads: Int, tap: StreamTap? = nil, logger: Logger) {
        gate = InFlightGate(shardCount: wal.shardCount, maxTotalBytes: limits.maxInFlightBytes, maxShardBytes: limits.maxInFlightShardBytes)
        pool = PayloadPool(limit: 4 * wal.shardCount * max(1, threads) + 8, capacity: limits.batchBytes + 65_536)
        let (gate, pool) = (gate, pool)
        writers = wal.shardLogs.map { ShardWriter(shard: $0, gate: gate, pool: pool, tap: tap, logger: logger) }
    }

    /// Everything below `sequence` in `shard` is durable: answer the batches waiting for it.
    /// Pass as the ``WALFlusher``'s `onDurable`.
    public func durable(shard: Int, upTo sequence: UInt64) {
        if shard < writers.count { writers[shard].durable(upTo: sequence) }
    }

    /// Writes what is queued and stops every writer, then syncs each shard and answers every
    /// batch still waiting (with the failure, for a shard stopped by a failed sync). Nothing
    /// submitted afterwards is written.
    public func drain() {
        for writer in writers { writer.stop() }
        for writer in writers {
            let synced = (try? writer.shard.sync()) ?? writer.shard.durableSequence
            writer.durable(upTo: synced)
        }
    }

    /// Records accepted from listeners that could not be written and no acknowledgement
    /// covered (see ``ShardWriter/lostRecords``), all shards.
    public var lostRecords: Int { writers.reduce(0) { $0 + $1.lostRecords } }

    /// Cumulative (records, bytes) written per shard.
    public var totals: [(records: Int, bytes: Int)] { writers.map { w in let t = w.totals; return (t.records, t.bytes) } }
}
