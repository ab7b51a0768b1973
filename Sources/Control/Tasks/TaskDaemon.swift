import Wire

/// What the book keeps per daemon: whether it can take new tasks, what it holds, and when its
/// renewable leases may lapse.
struct TaskDaemon: Sendable {
    var candidate: DaemonCandidate
    /// A session is open (``TaskBook/daemonOnline(_:incarnation:now:)`` and no offline since).
    var online: Bool
    /// The incarnation of its latest session; `nil` when unknown (protocol version 1).
    var incarnation: DaemonIncarnation?
    /// Serials of the tasks it holds a lease on (running, suspending, terminating).
    var held: Set<UInt64> = []
    /// No renewable lease of this daemon expires before this (a lower bound: it can be early,
    /// never late). `nil` when it holds no running task.
    var earliestExpiry: Int64?
    /// The time of this daemon's live entry in ``TaskBook/renewalTimers`` (older entries are stale).
    var queuedTimer: Int64?

    init(candidate: DaemonCandidate, online: Bool) {
        self.candidate = candidate
        self.online = online
    }

    /// Takes a newly granted running task whose lease ends at `expiry`.
    /// - Returns: whether a renewal timer at `expiry` must be pushed (then it is the queued one).
    mutating func hold(_ serial: UInt64, until expiry: Int64) -> Bool {
        held.insert(serial)
        earliestExpiry = min(earliestExpiry ?? .max, expiry)
        if let queued = queuedTimer, queued <= expiry { return false }
        queuedTimer = expiry
        return true
    }
}

/// Pending tasks with one selector, placed together: their eligible daemons are found once.
struct TaskPendingGroup: Sendable {
    var serials: Set<UInt64> = []
    /// The ``TaskBook/onlineGeneration`` at which no daemon was eligible; the group is not
    /// looked at again until a daemon comes online.
    var blockedAt: UInt64?
}

/// Work counters, so tests can check complexity by counts rather than by time.
struct TaskBookWork: Sendable, Equatable {
    /// Task records looked at by heartbeats, ticks and placement.
    var taskVisits = 0
    /// Daemons looked at (eligibility scans and renewal timers).
    var daemonVisits = 0
}
