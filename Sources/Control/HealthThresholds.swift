import Platform
/// When a daemon counts as Offline and when a daemon or shard counts as Degraded.
///
/// Edges (both chosen so that "after 30 s" and "exceeds 5 s" read literally):
/// - a daemon is **Offline** when `now − lastSeen ≥ offlineAfter`: at exactly `offlineAfter`
///   without a sign of life it is Offline, one nanosecond earlier it is not;
/// - a daemon is **Degraded** when its lag is strictly greater than `degradedLag`; a shard is
///   Degraded when its WAL sync lag is strictly greater than `degradedLag`.
public struct HealthThresholds: Sendable, Equatable {
    /// How long without a heartbeat (or HELLO) makes a daemon Offline. Default 30 s.
    public var offlineAfter: Duration
    /// The lag over which a daemon (oldest unacknowledged record age) or a shard (WAL sync lag)
    /// is Degraded. Default 5 s.
    public var degradedLag: Duration

    /// Thresholds; negative durations count as zero.
    public init(offlineAfter: Duration = .seconds(30), degradedLag: Duration = .seconds(5)) {
        self.offlineAfter = max(.zero, offlineAfter)
        self.degradedLag = max(.zero, degradedLag)
    }

    var offlineAfterNanoseconds: Int64 { max(0, offlineAfter.clampedNanoseconds) }
    var degradedLagNanoseconds: Int64 { max(0, degradedLag.clampedNanoseconds) }
}
