import Control
import Ingest
import Logging

/// The control plane inside a running node: the daemon registry (fed by native HELLOs and
/// heartbeats, and once a second by the ingest stats), and the health monitor over it.
///
/// Thread-safe; `tick()` runs on a timer.
final class ControlPlaneRuntime: Sendable {
    let registry: DaemonRegistry
    let monitor: HealthMonitor
    let wal: WriteAheadLog
    let stats: IngestStats

    init(registry: DaemonRegistry, wal: WriteAheadLog, stats: IngestStats, topology: Topology, thresholds: HealthThresholds) {
        self.wal = wal
        self.stats = stats
        self.registry = registry
        monitor = HealthMonitor(registry: registry, topology: topology, thresholds: thresholds)
    }

    var shardCount: Int { wal.shardCount }

    /// The health of everything now.
    func health() -> ClusterHealth { monitor.health(shards: ShardInput.gather(wal: wal, stats: stats.snapshot)) }

    /// Folds the last second's sources into the registry (and expires old ones).
    func tick() {
        var sources = stats.snapshot.sources
        sources[0] = nil  // the overflow slot of the per-loop source tables
        registry.absorb(sources: sources)
    }
}
