import Control
import Ingest
import Logging
import Synchronization

/// The control plane inside a running node: the daemon registry (fed by native HELLOs and
/// heartbeats, and once a second by the ingest stats), the health monitor over it, and the
/// coordinator of tasks, configuration and rollouts.
///
/// Thread-safe; `tick()` runs on a timer.
final class ControlPlaneRuntime: Sendable {
    let registry: DaemonRegistry
    let monitor: HealthMonitor
    let wal: WriteAheadLog
    let stats: IngestStats
    let coordinator: ControlCoordinator

    init(
        registry: DaemonRegistry, wal: WriteAheadLog, stats: IngestStats, topology: Topology, thresholds: HealthThresholds,
        coordinator: ControlCoordinator
    ) {
        self.wal = wal
        self.coordinator = coordinator
        self.stats = stats
        self.registry = registry
        monitor = HealthMonitor(registry: registry, topology: topology, thresholds: thresholds)
    }

    var shardCount: Int { wal.shardCount }

    /// The health of everything now.
    func health() -> ClusterHealth { health(stats: stats.snapshot) }

    /// The health of everything now, with ingest figures from `snapshot`.
    func health(stats snapshot: IngestStats.Snapshot) -> ClusterHealth {
        monitor.health(shards: ShardInput.gather(wal: wal, stats: snapshot))
    }

    /// Folds the last second's sources (from `snapshot`) into the registry and expires old ones.
    func tick(_ snapshot: IngestStats.Snapshot) {
        var sources = snapshot.sources
        sources[0] = nil  // the overflow slot of the per-loop source tables
        registry.absorb(sources: sources)
    }
}

/// Gives the coordinator each daemon's health and throughput. The coordinator is built before
/// the runtime it reads from (the ingest server needs the coordinator first), so the runtime
/// is attached once it exists; until then both answers are empty.
final class HealthSource: Sendable {
    private let runtime = Mutex<ControlPlaneRuntime?>(nil)

    func attach(_ control: ControlPlaneRuntime) { runtime.withLock { $0 = control } }

    /// Each daemon's health state, by id.
    func daemonStates() -> [String: HealthState] {
        guard let control = runtime.withLock({ $0 }) else { return [:] }
        return Dictionary(control.health().daemons.map { ($0.id, $0.state) }, uniquingKeysWith: { a, _ in a })
    }

    /// Each daemon's records/s EMA, by id.
    func daemonThroughput() -> [String: Double] {
        runtime.withLock { $0 }?.registry.throughputs() ?? [:]
    }
}

extension ServeConfiguration {
    /// The coordinator's settings from the serve flags.
    var coordinatorSettings: ControlCoordinator.Settings {
        var s = ControlCoordinator.Settings()
        s.leaseDuration = .milliseconds(flowLeaseMilliseconds)
        s.maxTasks = maxTasks
        return s
    }
}
