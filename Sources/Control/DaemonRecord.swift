public import Platform
public import Wire

/// What the registry knows about one native daemon: its HELLO, its connection state and the
/// figures of its latest HEARTBEAT.
///
/// A value snapshot: copying it out of the registry takes no lock on later reads. Times are
/// nanoseconds since the Unix epoch, measured by the server's clock when the event arrived (not
/// the daemon's clock). Encodes to JSON and decodes back to an equal value.
public struct DaemonRecord: Sendable, Equatable, Codable {
    /// The daemon's id from its HELLO (unique per daemon; 1 to 128 bytes).
    public var id: String
    /// The region from its HELLO; an empty region is recorded as ``Topology/defaultRegion``.
    public var region: String
    /// The labels from its HELLO (replaced at every new HELLO).
    public var labels: [String: String]
    /// The agent version string from its HELLO.
    public var agentVersion: String
    /// The native protocol version from its HELLO.
    public var protocolVersion: UInt16
    /// The incarnation from its latest HELLO (version 2), `nil` when it named none.
    public var incarnation: DaemonIncarnation?
    /// The peer address of its latest connection (empty when only known from a heartbeat).
    public var peer: String
    /// How many connections of this daemon are open now (a reconnect may overlap the old
    /// connection's close for a moment, so this can briefly be 2).
    public var connections: Int
    /// When the registry first heard of the daemon.
    public var firstSeen: Int64
    /// The latest sign of life: a HELLO or a HEARTBEAT, whichever came last. The health
    /// evaluator times Offline from here, and eviction and expiry rank by it.
    public var lastSeen: Int64
    /// When its latest HELLO arrived.
    public var lastHello: Int64
    /// When its latest HEARTBEAT arrived; `nil` before the first.
    public var lastHeartbeat: Int64?
    /// When its latest connection closed; `nil` when none has closed yet.
    public var lastDisconnect: Int64?
    /// How many heartbeats have arrived since the registry first heard of the daemon.
    public var heartbeatCount: Int
    /// How many of its batches were answered as duplicates (stored before, not written again)
    /// since the registry first heard of it.
    public var duplicateBatches: Int
    /// The figures of the latest HEARTBEAT; `nil` before the first.
    public var heartbeat: DaemonHeartbeatStats?
    /// An EMA of records/s computed from the growth of `recordsSent` between heartbeats
    /// (bytes/s stays 0: heartbeats carry no byte count). `nil` until two heartbeats arrived.
    public var rate: ThroughputEMA?

    /// Whether at least one connection of the daemon is open.
    public var connected: Bool { connections > 0 }

    /// A record for a daemon first heard of at `now`.
    public init(
        id: String, region: String = Topology.defaultRegion, labels: [String: String] = [:], agentVersion: String = "",
        protocolVersion: UInt16 = 1, incarnation: DaemonIncarnation? = nil, peer: String = "", connections: Int = 0, firstSeen: Int64,
        lastSeen: Int64? = nil, lastHello: Int64? = nil, lastHeartbeat: Int64? = nil, lastDisconnect: Int64? = nil,
        heartbeatCount: Int = 0, duplicateBatches: Int = 0, heartbeat: DaemonHeartbeatStats? = nil, rate: ThroughputEMA? = nil
    ) {
        self.id = id
        self.region = region.isEmpty ? Topology.defaultRegion : region
        self.labels = labels
        self.agentVersion = agentVersion
        self.protocolVersion = protocolVersion
        self.incarnation = incarnation
        self.peer = peer
        self.connections = connections
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen ?? firstSeen
        self.lastHello = lastHello ?? firstSeen
        self.lastHeartbeat = lastHeartbeat
        self.lastDisconnect = lastDisconnect
        self.heartbeatCount = heartbeatCount
        self.duplicateBatches = duplicateBatches
        self.heartbeat = heartbeat
        self.rate = rate
    }
}

/// The figures a daemon reported in its latest HEARTBEAT (docs/protocol.md), as stored.
public struct DaemonHeartbeatStats: Sendable, Equatable, Codable {
    /// The daemon's own clock when it sent the heartbeat, in milliseconds since the epoch.
    public var sentAtMilliseconds: UInt64
    /// Bytes buffered on the daemon, not yet acknowledged by the server.
    public var backlogBytes: UInt64
    /// Age of the oldest record the daemon holds that the server has not acknowledged, in
    /// milliseconds: the daemon's lag.
    public var oldestUnackedAgeMilliseconds: UInt64
    /// Records sent since the daemon started (a counter; it restarts with the daemon).
    public var recordsSent: UInt64
    /// Errors since the daemon started.
    public var errors: UInt64
    /// Any other figures the daemon chose to send (versions, queue names, …).
    public var extra: [String: String]

    /// Figures given one by one (tests, simulations).
    public init(
        sentAtMilliseconds: UInt64 = 0, backlogBytes: UInt64 = 0, oldestUnackedAgeMilliseconds: UInt64 = 0,
        recordsSent: UInt64 = 0, errors: UInt64 = 0, extra: [String: String] = [:]
    ) {
        self.sentAtMilliseconds = sentAtMilliseconds
        self.backlogBytes = backlogBytes
        self.oldestUnackedAgeMilliseconds = oldestUnackedAgeMilliseconds
        self.recordsSent = recordsSent
        self.errors = errors
        self.extra = extra
    }

    /// The figures of a decoded HEARTBEAT frame.
    public init(_ heartbeat: NativeHeartbeat) {
        self.init(
            sentAtMilliseconds: heartbeat.sentAtMilliseconds, backlogBytes: heartbeat.backlogBytes,
            oldestUnackedAgeMilliseconds: heartbeat.oldestUnackedAgeMilliseconds, recordsSent: heartbeat.recordsSent,
            errors: heartbeat.errors, extra: heartbeat.extra)
    }
}
