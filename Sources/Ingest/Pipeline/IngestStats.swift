public import Platform
import WAL
import Synchronization

/// The node's ingest counters, aggregated from every event loop once per tick, with EMA rates
/// per shard and per source. Read by `/metrics`, `/health` and the control plane.
///
/// Thread-safe. Bounded: at most `maxSources` sources are kept (and each event loop's batcher
/// tracks at most as many); sources silent for longer than `sourceExpirySeconds` are forgotten.
public final class IngestStats: Sendable {
    public let maxSources: Int
    public let sourceExpirySeconds: Int64

    public struct Snapshot: Sendable {
        public var listeners: [ListenerKind: ListenerCounters] = [:]
        /// Native batches by encoding, and duplicates.
        public var native = NativeBatchCounters()
        public var shardRates: [ThroughputEMA]
        public var shardRecords: [Int]
        public var sources: [UInt64: SourceStats] = [:]
    }

    private let state: Mutex<Snapshot>
    private let lastShardRecords: Mutex<[(records: Int, bytes: Int)]>

    public init(shardCount: Int, maxSources: Int = 10_000, sourceExpirySeconds: Int64 = 3600) {
        self.maxSources = maxSources
        self.sourceExpirySeconds = sourceExpirySeconds
        state = Mutex(Snapshot(shardRates: Array(repeating: ThroughputEMA(), count: shardCount), shardRecords: Array(repeating: 0, count: shardCount)))
        lastShardRecords = Mutex(Array(repeating: (0, 0), count: shardCount))
    }

    /// Adds one event loop's counters since its last publication.
    func publish(listeners: [ListenerCounters], native: NativeBatchCounters = NativeBatchCounters(), sources: [UInt64: SourceStats]) {
        state.withLock { s in
            for (i, c) in listeners.enumerated() where c != ListenerCounters() {
                s.listeners[ListenerKind(rawValue: i)!, default: ListenerCounters()] += c
            }
            s.native += native
            // Hash 0 is the overflow slot of the loops' tables (sources past their bound), not
            // a source: it must not take one of the `maxSources` places.
            for (key, delta) in sources where key != SourceTable.overflowHash {
                if var known = s.sources[key] {
                    known.records += delta.records
                    known.bytes += delta.bytes
                    known.rejects += delta.rejects
                    known.lastSeen = max(known.lastSeen, delta.lastSeen)
                    s.sources[key] = known
                } else if s.sources.count < maxSources {
                    s.sources[key] = delta
                }
            }
        }
    }

    /// The once-a-second tick: folds per-shard and per-source deltas into the EMAs and expires
    /// sources gone for long. `shardTotals` are the writers' cumulative (records, bytes).
    func tick(shardTotals: [(records: Int, bytes: Int)], now: Int64, seconds: Double) {
        let deltas = lastShardRecords.withLock { last -> [(Int, Int)] in
            defer { last = shardTotals }
            return zip(shardTotals, last).map { ($0.records - $1.records, $0.bytes - $1.bytes) }
        }
        state.withLock { s in
            for (i, d) in deltas.enumerated() {
                s.shardRates[i].tick(records: d.0, bytes: d.1, seconds: seconds)
                s.shardRecords[i] = shardTotals[i].records
            }
            for (key, var source) in s.sources {
                if now - source.lastSeen > sourceExpirySeconds * 1_000_000_000 {
                    s.sources[key] = nil
                    continue
                }
                source.rate.tick(records: source.records - source.previousRecords, bytes: source.bytes - source.previousBytes, seconds: seconds)
                source.previousRecords = source.records
                source.previousBytes = source.bytes
                s.sources[key] = source
            }
        }
    }

    public var snapshot: Snapshot { state.withLock { $0 } }
}

