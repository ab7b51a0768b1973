import Synchronization

/// Holds what health needs between requests, the registry, the topology and the thresholds,
/// and produces ``ClusterHealth`` on demand.
///
/// A thin, thread-safe shell around the pure ``HealthEvaluator``: the topology and thresholds
/// can be replaced at run time (`PUT /api/v1/topology`) and the next ``health(shards:)`` uses
/// them. It reads its clock once per call and does no I/O itself; the caller gathers the
/// per-shard inputs (``ShardInput/gather(wal:stats:)``).
///
/// Thread safety: every method may be called from any thread.
///
/// ```swift
/// let monitor = HealthMonitor(registry: registry)
/// monitor.topology = Topology(shardRegions: [0: "eu", 1: "us"])
/// let health = monitor.health(shards: ShardInput.gather(wal: wal, stats: ingest.context.stats.snapshot))
/// ```
public final class HealthMonitor: Sendable {
    /// The registry read at every snapshot.
    public let registry: DaemonRegistry
    /// The clock that dates every snapshot.
    public let clock: any EpochClock
    private let settings: Mutex<(topology: Topology, thresholds: HealthThresholds)>

    /// A monitor over `registry`, dating snapshots with `clock` (the registry's when omitted).
    public init(
        registry: DaemonRegistry, topology: Topology = Topology(), thresholds: HealthThresholds = HealthThresholds(),
        clock: (any EpochClock)? = nil
    ) {
        self.registry = registry
        self.clock = clock ?? registry.clock
        settings = Mutex((topology, thresholds))
    }

    /// The shard → region map in force; setting it takes effect at the next snapshot. Validate
    /// it first (``Topology/validate(shardCount:)``).
    public var topology: Topology {
        get { settings.withLock { $0.topology } }
        set { settings.withLock { $0.topology = newValue } }
    }

    /// The thresholds in force; setting them takes effect at the next snapshot.
    public var thresholds: HealthThresholds {
        get { settings.withLock { $0.thresholds } }
        set { settings.withLock { $0.thresholds = newValue } }
    }

    /// The health of everything now.
    /// - Parameter shards: one input per shard, indexed by shard number.
    public func health(shards: [ShardInput]) -> ClusterHealth {
        let (topology, thresholds) = settings.withLock { ($0.topology, $0.thresholds) }
        let now = clock.now
        return HealthEvaluator(thresholds: thresholds).evaluate(
            registry: registry.snapshot(), shards: shards, topology: topology, now: now)
    }
}
