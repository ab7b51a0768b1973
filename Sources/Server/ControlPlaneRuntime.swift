import Platform
import Control
import Ingest
import Synchronization
import WAL

/// The control plane's view of a running node: the daemon registry (fed by native HELLOs and
/// heartbeats, and once a second by the ingest stats) and the health monitor over it and the
/// WAL.
///
/// Thread-safe; `tick()` runs on a timer.
final class ControlPlaneRuntime: Sendable {
    let registry: DaemonRegistry
    let monitor: HealthMonitor
    let wal: WriteAheadLog
    let writers: ShardWriters
    let stats: IngestStats

    init(
        registry: DaemonRegistry, wal: WriteAheadLog, writers: ShardWriters, stats: IngestStats, topology: Topology,
        thresholds: HealthThresholds
    ) {
        self.wal = wal
        self.writers = writers
        self.stats = stats
        self.registry = registry
        monitor = HealthMonitor(registry: registry, topology: topology, thresholds: thresholds)
    }

    var shardCount: Int { wal.shardCount }

    /// The health of everything now.
    func health() -> ClusterHealth { health(stats: stats.snapshot) }

    /// The health of everything now, with ingest figures from `snapshot`.
    func health(stats snapshot: IngestStats.Snapshot) -> ClusterHealth {
        monitor.health(shards: ShardInput.gather(writers: writers, stats: snapshot))
    }

    /// Each daemon's health state, by id (the coordinator's rollout gates read it).
    func daemonStates() -> [String: HealthState] {
        Dictionary(health().daemons.map { ($0.id, $0.state) }, uniquingKeysWith: { a, _ in a })
    }

    /// Folds the last second's sources (from `snapshot`) into the registry and expires old ones.
    func tick(_ snapshot: IngestStats.Snapshot) {
        registry.absorb(sources: snapshot.sources.values.lazy.map(SourceRecord.init))
    }
}

extension ServeConfiguration {
    /// The coordinator's settings from the serve flags.
    var coordinatorSettings: ControlCoordinator.Settings {
        var s = ControlCoordinator.Settings()
        s.leaseDuration = flowLease
        s.maxTasks = maxTasks
        return s
    }
}

extension SourceRecord {
    /// The registry's record of what ingest counted for a source (`firstSeen` is set by the
    /// registry).
    init(_ stats: SourceStats) {
        self.init(
            name: stats.name, listener: stats.listener.description, records: stats.records, bytes: stats.bytes,
            rejects: stats.rejects, lastSeen: stats.lastSeen, recordsPerSecond: stats.rate.recordsPerSecond,
            bytesPerSecond: stats.rate.bytesPerSecond)
    }
}

extension ShardInput {
    /// The health inputs of every shard of a running node: rates from the ingest stats
    /// snapshot, disk bytes and sync lag from each shard's log (read under its short lock), and
    /// why a shard cannot write: stopped after a failed sync, or holding batches its disk
    /// cannot take.
    static func gather(writers: ShardWriters, stats: IngestStats.Snapshot) -> [ShardInput] {
        writers.writers.map { writer in
            let log = writer.shard
            let rate = log.shard < stats.shardRates.count ? stats.shardRates[log.shard] : ThroughputEMA()
            let blocked = writer.blocked.map { blocked in
                let seconds = (MonotonicClock.nanoseconds() - blocked.since) / 1_000_000_000
                return "cannot write for \(seconds) s, holding its batches: \(blocked.reason)"
            }
            return ShardInput(
                recordsPerSecond: rate.recordsPerSecond, bytesPerSecond: rate.bytesPerSecond, diskBytes: Int64(log.storedBytes),
                syncLagNanoseconds: log.syncLagNanoseconds, stopped: log.failure?.message ?? blocked)
        }
    }
}
