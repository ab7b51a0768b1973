public import Wire
/// The user event a graceful shutdown sends down every connection's pipeline.
public struct IngestShutdown: Sendable {}

/// What every listener shares: the shard writers, the in-flight gate, limits, tokens and stats.
public struct IngestContext: Sendable {
    public var writers: [ShardWriter]
    public var gate: InFlightGate
    public var stats: IngestStats
    public var limits: IngestLimits
    /// Tokens a native HELLO must present; empty = no token required.
    public var tokens: Set<String>
    public var nodeID: String
    public var observer: (any DaemonObserver)?
    /// The control plane's hooks for sessions, reports and task fencing; `nil` = none.
    public var control: (any DaemonControl)?
    /// The heartbeat interval announced in HELLO_OK.
    public var heartbeatMilliseconds: UInt32
}
