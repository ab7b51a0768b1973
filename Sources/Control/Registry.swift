import Platform
import WAL
public import Wire

/// How much the registry keeps, and for how long.
///
/// The defaults suit one node: 10,000 daemons and 10,000 sources, sources forgotten after an hour
/// of silence, disconnected daemons after a day. A node bounds its ingest statistics with the same
/// source limits (`max_sources`, `source_expiry_s`).
public struct RegistryLimits: Sendable, Equatable {
    /// The most daemons kept. Past it, a new daemon evicts the longest-silent disconnected one,
    /// or the longest-silent connected one when every daemon is connected. At least 1.
    public var maxDaemons: Int
    /// The most plain-protocol sources kept. Past it, the longest-silent are evicted. At least 1.
    public var maxSources: Int
    /// A disconnected daemon silent (no HELLO, no heartbeat) for longer than this is forgotten.
    /// Connected daemons never expire.
    public var daemonExpiry: Duration
    /// A source silent for longer than this is forgotten.
    public var sourceExpiry: Duration

    /// Bounds; counts below 1 are raised to 1.
    public init(
        maxDaemons: Int = 10_000, maxSources: Int = 10_000, daemonExpiry: Duration = .seconds(24 * 3600),
        sourceExpiry: Duration = .seconds(3600)
    ) {
        self.maxDaemons = max(1, maxDaemons)
        self.maxSources = max(1, maxSources)
        self.daemonExpiry = daemonExpiry
        self.sourceExpiry = sourceExpiry
    }
}

/// How many entries the registry dropped, since it was created (for `/metrics` and logs).
public struct RegistryCounters: Sendable, Equatable, Codable {
    /// Daemons dropped to make room under ``RegistryLimits/maxDaemons``.
    public var evictedDaemons = 0
    /// Sources dropped to make room under ``RegistryLimits/maxSources``.
    public var evictedSources = 0
    /// Disconnected daemons forgotten after ``RegistryLimits/daemonExpiry``.
    public var expiredDaemons = 0
    /// Sources forgotten after ``RegistryLimits/sourceExpiry``.
    public var expiredSources = 0

    /// All zero.
    public init() {}
}

/// A consistent copy of the registry at one moment: what the health evaluator and the
/// `/api/v1/daemons` endpoints read.
public struct RegistrySnapshot: Sendable, Equatable, Codable {
    /// Every known daemon, sorted by id.
    public var daemons: [DaemonRecord]
    /// Every known plain-protocol source, sorted by name.
    public var sources: [SourceRecord]
    /// Cumulative eviction and expiry counts.
    public var counters: RegistryCounters

    /// A snapshot of `daemons` and `sources` (sorted here, whatever their order).
    public init(daemons: [DaemonRecord] = [], sources: [SourceRecord] = [], counters: RegistryCounters = RegistryCounters()) {
        self.daemons = daemons.sorted { $0.id < $1.id }
        self.sources = sources.sorted { $0.name < $1.name }
        self.counters = counters
    }
}

/// The registry's logic as a pure state machine: every event carries its time, nothing reads a
/// clock, nothing locks. ``DaemonRegistry`` wraps it in a mutex and a clock.
///
/// - Daemons are keyed by id. A HELLO creates or refreshes the record (region, labels, agent
///   version, peer) and opens a connection; a HEARTBEAT stores its figures; a disconnect closes
///   a connection. A heartbeat from an unknown id (evicted or expired while connected)
///   re-creates a minimal record in the default region.
/// - Sources are keyed by name and mirrored from the ingest statistics by ``absorb(sources:now:)``.
/// - Bounds: see ``RegistryLimits``. Expiry runs in ``absorb(sources:now:)`` and ``expire(now:)``.
///
/// - Complexity: a HELLO for a new daemon at capacity is O(daemons) (it scans for the victim);
///   heartbeats and disconnects are O(1); `absorb` is O(n) plus O(n log n) when over the bound.
public struct RegistryState: Sendable {
    /// The bounds; a change takes effect at the next event.
    public var limits: RegistryLimits
    /// Known daemons by id.
    public private(set) var daemons: [String: DaemonRecord] = [:]
    /// Known sources by name.
    public private(set) var sources: [String: SourceRecord] = [:]
    /// Cumulative eviction and expiry counts.
    public private(set) var counters = RegistryCounters()

    /// An empty registry under `limits`.
    public init(limits: RegistryLimits = RegistryLimits()) { self.limits = limits }

    // MARK: Daemon events

    /// A daemon said HELLO on a new connection from `peer`.
    public mutating func connect(hello: NativeHello, peer: String, now: Int64) {
        if var known = daemons[hello.daemonID] {
            known.region = hello.region.isEmpty ? Topology.defaultRegion : hello.region
            known.labels = hello.labels
            known.agentVersion = hello.agentVersion
            known.protocolVersion = hello.version
            known.incarnation = hello.incarnation
            known.peer = peer
            known.connections += 1
            known.lastHello = now
            known.lastSeen = max(known.lastSeen, now)
            daemons[hello.daemonID] = known
            return
        }
        makeRoomForDaemon()
        daemons[hello.daemonID] = DaemonRecord(
            id: hello.daemonID, region: hello.region, labels: hello.labels, agentVersion: hello.agentVersion,
            protocolVersion: hello.version, incarnation: hello.incarnation, peer: peer, connections: 1, firstSeen: now)
    }

    /// A daemon sent a HEARTBEAT.
    public mutating func heartbeat(id: String, _ heartbeat: NativeHeartbeat, now: Int64) {
        var record: DaemonRecord
        if let known = daemons[id] {
            record = known
        } else {
            makeRoomForDaemon()
            record = DaemonRecord(id: id, connections: 1, firstSeen: now)
        }
        let figures = DaemonHeartbeatStats(heartbeat)
        if let previous = record.heartbeat, let previousAt = record.lastHeartbeat, now > previousAt,
            figures.recordsSent >= previous.recordsSent
        {
            var rate = record.rate ?? ThroughputEMA()
            rate.tick(
                records: Int(clamping: figures.recordsSent - previous.recordsSent), bytes: 0,
                seconds: Double(now - previousAt) / 1e9)
            record.rate = rate
        }
        record.heartbeat = figures
        record.heartbeatCount += 1
        record.lastHeartbeat = now
        record.lastSeen = max(record.lastSeen, now)
        daemons[id] = record
    }

    /// A batch of the daemon was answered as a duplicate. Unknown ids are ignored.
    public mutating func duplicate(id: String) {
        daemons[id]?.duplicateBatches += 1
    }

    /// One of a daemon's connections closed. Unknown ids are ignored.
    public mutating func disconnect(id: String, now: Int64) {
        guard var record = daemons[id] else { return }
        record.connections = max(0, record.connections - 1)
        record.lastDisconnect = now
        daemons[id] = record
    }

    // MARK: Sources

    /// Mirrors the ingest path's per-source view (one record per source, as counted there),
    /// then expires what has been silent too long and evicts past ``RegistryLimits/maxSources``.
    /// Call it on a timer (every second or every few seconds, after the ingest stats tick).
    ///
    /// Entries already silent past ``RegistryLimits/sourceExpiry`` are not added. Counts and
    /// rates are taken as they are; `firstSeen` is the registry's own (`now` for a new source)
    /// and `lastSeen` never moves backwards.
    public mutating func absorb(sources incoming: some Sequence<SourceRecord>, now: Int64) {
        let expiry = limits.sourceExpiry.clampedNanoseconds
        for record in incoming where !Self.isSilent(since: record.lastSeen, now: now, longerThan: expiry) {
            var updated = record
            if let known = sources[record.name] {
                updated.firstSeen = known.firstSeen
                updated.lastSeen = max(known.lastSeen, record.lastSeen)
            } else {
                updated.firstSeen = now
            }
            sources[record.name] = updated
        }
        expire(now: now)
        let excess = sources.count - limits.maxSources
        if excess > 0 {
            let victims = sources.values.sorted { ($0.lastSeen, $0.name) < ($1.lastSeen, $1.name) }.prefix(excess)
            for victim in victims { sources[victim.name] = nil }
            counters.evictedSources += excess
        }
    }

    // MARK: Expiry and snapshots

    /// Forgets sources silent for longer than ``RegistryLimits/sourceExpiry`` and disconnected
    /// daemons silent for longer than ``RegistryLimits/daemonExpiry`` (strictly longer: at
    /// exactly the expiry they are kept).
    public mutating func expire(now: Int64) {
        let sourceExpiry = limits.sourceExpiry.clampedNanoseconds
        for (name, source) in sources where Self.isSilent(since: source.lastSeen, now: now, longerThan: sourceExpiry) {
            sources[name] = nil
            counters.expiredSources += 1
        }
        let daemonExpiry = limits.daemonExpiry.clampedNanoseconds
        for (id, daemon) in daemons
        where !daemon.connected && Self.isSilent(since: daemon.lastSeen, now: now, longerThan: daemonExpiry) {
            daemons[id] = nil
            counters.expiredDaemons += 1
        }
    }

    /// A sorted copy of everything known.
    public var snapshot: RegistrySnapshot {
        RegistrySnapshot(daemons: Array(daemons.values), sources: Array(sources.values), counters: counters)
    }

    private static func isSilent(since lastSeen: Int64, now: Int64, longerThan limit: Int64) -> Bool {
        now.subtractingReportingOverflow(lastSeen).partialValue > limit
    }

    /// Evicts one daemon if adding one would exceed the bound: disconnected before connected,
    /// then the longest silent, then the smallest id (so the choice is deterministic).
    private mutating func makeRoomForDaemon() {
        while daemons.count >= limits.maxDaemons {
            guard let victim = daemons.values.min(by: {
                ($0.connected ? 1 : 0, $0.lastSeen, $0.id) < ($1.connected ? 1 : 0, $1.lastSeen, $1.id)
            }) else { return }
            daemons[victim.id] = nil
            counters.evictedDaemons += 1
        }
    }
}
