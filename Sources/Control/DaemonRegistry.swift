import Platform
public import Wire
import Synchronization

/// The node's registry of native daemons and plain-protocol sources: the control plane's
/// ``DaemonObserver``.
///
/// Give it to Ingest as the observer (`IngestServer(…, observer: registry)`) and it learns of
/// every daemon's HELLO, HEARTBEAT and disconnect; call ``absorb(sources:)`` on a timer to
/// mirror the sources Ingest counts. Read it with ``snapshot()``, ``daemon(id:)`` and friends,
/// which return value types.
///
/// Thread safety: every method may be called from any thread. The observer callbacks run on
/// the ingest event loops and take a `Mutex` for O(1) work (O(daemons) for a new daemon at
/// capacity); ``absorb(sources:)`` holds the lock for O(sources).
///
/// Bounded by ``RegistryLimits``. Times come from the injected ``EpochClock`` at the moment an
/// event is handled; the logic itself is ``RegistryState``.
///
/// ```swift
/// let registry = DaemonRegistry(limits: RegistryLimits(maxSources: 5_000))
/// let ingest = try IngestServer(…, observer: registry, …)
/// // every second:
/// registry.absorb(sources: snapshot.sources.values.map(SourceRecord.init))
/// ```
public final class DaemonRegistry: DaemonObserver {
    /// The clock that stamps every event.
    public let clock: any EpochClock
    private let state: Mutex<RegistryState>

    /// An empty registry.
    /// - Parameters:
    ///   - clock: stamps events; the system clock by default, a ``ManualEpochClock`` in tests.
    ///   - limits: how many daemons and sources are kept, and for how long.
    public init(clock: any EpochClock = SystemEpochClock(), limits: RegistryLimits = RegistryLimits()) {
        self.clock = clock
        state = Mutex(RegistryState(limits: limits))
    }

    /// The bounds in force.
    public var limits: RegistryLimits {
        get { state.withLock { $0.limits } }
    }

    // MARK: DaemonObserver (event loops)

    /// Records a HELLO. Called by Ingest on the connection's event loop.
    public func daemonConnected(hello: NativeHello, peer: String) {
        let now = clock.now
        state.withLock { $0.connect(hello: hello, peer: peer, now: now) }
    }

    /// Records a HEARTBEAT's figures. Called by Ingest on the connection's event loop.
    public func daemonHeartbeat(id: String, heartbeat: NativeHeartbeat) {
        let now = clock.now
        state.withLock { $0.heartbeat(id: id, heartbeat, now: now) }
    }

    /// Records a closed connection. Called by Ingest on the connection's event loop.
    public func daemonDisconnected(id: String) {
        let now = clock.now
        state.withLock { $0.disconnect(id: id, now: now) }
    }

    /// Counts a batch answered as a duplicate. Called by Ingest on the connection's event loop.
    public func daemonSentDuplicate(id: String) {
        state.withLock { $0.duplicate(id: id) }
    }

    // MARK: Sources and expiry (timer)

    /// Mirrors the ingest path's per-source view and applies the source bound and both
    /// expiries: see ``RegistryState/absorb(sources:now:)``.
    /// - Parameters:
    ///   - sources: one record per source, as the ingest statistics count it.
    ///   - now: the time to expire against; the registry's clock when omitted.
    public func absorb(sources: some Sequence<SourceRecord>, now: Int64? = nil) {
        let now = now ?? clock.now
        state.withLock { $0.absorb(sources: sources, now: now) }
    }

    /// Forgets silent sources and disconnected daemons past their expiry: see
    /// ``RegistryState/expire(now:)``.
    public func expire(now: Int64? = nil) {
        let now = now ?? clock.now
        state.withLock { $0.expire(now: now) }
    }

    // MARK: Reading

    /// A consistent, sorted copy of every daemon and source.
    public func snapshot() -> RegistrySnapshot {
        let (daemons, sources, counters) = state.withLock { ($0.daemons, $0.sources, $0.counters) }
        return RegistrySnapshot(daemons: Array(daemons.values), sources: Array(sources.values), counters: counters)
    }

    /// Every known daemon, sorted by id.
    public func daemons() -> [DaemonRecord] {
        state.withLock { $0.daemons }.values.sorted { $0.id < $1.id }
    }

    /// Each known daemon's records/s EMA (0 before its second heartbeat), by id: what task
    /// placement needs, without copying or sorting the records.
    public func throughputs() -> [String: Double] {
        let daemons = state.withLock { $0.daemons }
        var rates: [String: Double] = [:]
        rates.reserveCapacity(daemons.count)
        for (id, record) in daemons { rates[id] = record.rate?.recordsPerSecond ?? 0 }
        return rates
    }

    /// The daemon with `id`, if known.
    public func daemon(id: String) -> DaemonRecord? { state.withLock { $0.daemons[id] } }

    /// Every known source, sorted by name.
    public func sources() -> [SourceRecord] {
        state.withLock { $0.sources }.values.sorted { $0.name < $1.name }
    }

    /// The source named `name` (host or peer address), if known.
    public func source(named name: String) -> SourceRecord? { state.withLock { $0.sources[name] } }

    /// How many daemons and sources are known.
    public var counts: (daemons: Int, sources: Int) { state.withLock { ($0.daemons.count, $0.sources.count) } }
}
