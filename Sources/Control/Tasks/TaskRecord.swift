import Platform
public import Wire

/// Where a task is in its life (docs/control.md has the full table).
public enum TaskState: String, Codable, Sendable, CaseIterable {
    /// Waiting for a daemon: new, resumed, failed, or its holder's lease lapsed.
    case pending
    /// Assigned to a daemon under a lease.
    case running
    /// Asked to suspend; waiting for the holder's acknowledgement or the lease's end.
    case suspending
    /// Stopped with its checkpoint kept; ``TaskBook/resume(_:now:)`` makes it pending again.
    case suspended
    /// Asked to terminate; waiting for the holder's acknowledgement or the lease's end.
    case terminating
    /// Stopped for good; dropped after the book's retention.
    case terminated

    /// Whether a daemon holds a lease on a task in this state (its data may be admitted).
    public var isHeld: Bool { self == .running || self == .suspending || self == .terminating }
}

/// The right of one daemon to run a task at one epoch, until `expiresAt` unless renewed.
public struct TaskLease: Codable, Sendable, Equatable {
    /// The daemon id.
    public var holder: String
    /// The assignment's epoch (see ``TaskRecord/epoch``).
    public var epoch: UInt64
    /// When the assignment was made, nanoseconds since the epoch.
    public var grantedAt: Int64
    /// When it lapses without a renewal, nanoseconds since the epoch.
    public var expiresAt: Int64
    /// The incarnation of the holder's session it was granted to (its HELLO's, docs/protocol.md
    /// 5.1); `nil` when unknown (a version 1 session, or a record from before incarnations). A
    /// new session of the holder keeps the epoch only when it names this same incarnation.
    public var incarnation: DaemonIncarnation?

    /// A lease; see the properties.
    public init(holder: String, epoch: UInt64, grantedAt: Int64, expiresAt: Int64, incarnation: DaemonIncarnation? = nil) {
        self.holder = holder
        self.epoch = epoch
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
        self.incarnation = incarnation
    }
}

/// How an assignment of a task ended.
public enum TaskAssignmentEnd: String, Codable, Sendable {
    /// The holder acknowledged a suspend.
    case suspended
    /// The holder acknowledged a terminate.
    case terminated
    /// The holder did not renew the lease in time.
    case lapsed
    /// The holder reported a failure, or stopped the task without being asked.
    case failed
    /// A suspend or terminate was not acknowledged before the lease ran out; the holder was revoked.
    case unacknowledged
    /// The holder opened a session as another incarnation (it restarted without its state,
    /// or could not say: protocol version 1); the task was assigned to it again at the next epoch.
    case restarted
}

/// One assignment of a task, kept in ``TaskRecord/history``.
public struct TaskAssignmentRecord: Codable, Sendable, Equatable {
    /// The daemon id.
    public var holder: String
    /// The assignment's epoch.
    public var epoch: UInt64
    /// When it was granted.
    public var from: Int64
    /// When it ended (`nil` while it lasts).
    public var until: Int64?
    /// How it ended (`nil` while it lasts).
    public var end: TaskAssignmentEnd?

    /// An assignment; see the properties.
    public init(holder: String, epoch: UInt64, from: Int64, until: Int64? = nil, end: TaskAssignmentEnd? = nil) {
        self.holder = holder
        self.epoch = epoch
        self.from = from
        self.until = until
        self.end = end
    }
}

/// Everything the control plane knows about one task; what is persisted and what the API shows.
public struct TaskRecord: Codable, Sendable, Equatable {
    /// How many assignments ``history`` keeps.
    public static let historyLimit = 8

    /// `t-<serial>`.
    public var id: String
    /// 1, 2, 3…, never reused; the task part of its producer ids.
    public var serial: UInt64
    /// The validated spec.
    public var spec: TaskSpec
    /// Where the task is in its life.
    public var state: TaskState
    /// The epoch of the latest assignment (0 = never assigned); each assignment adds one.
    public var epoch: UInt64
    /// The lease while running, suspending or terminating; `nil` otherwise.
    public var lease: TaskLease?
    /// Where to resume, as last reported by the holder; opaque to the node except for its size.
    public var checkpoint: [String: String]
    /// When it was created.
    public var createdAt: Int64
    /// When its state, lease holder, epoch or error last changed (not on renewals or checkpoints).
    public var updatedAt: Int64
    /// The last failure a holder reported, or why the task last stopped unexpectedly.
    public var lastError: String?
    /// A pending task that keeps failing is not placed before this time (nanoseconds since the
    /// epoch; see ``TaskBook/retryDelay(after:)``). `nil` when it may be placed at once.
    public var retryAt: Int64?
    /// The latest assignments, oldest first, at most ``historyLimit``.
    public var history: [TaskAssignmentRecord]

    /// The producer id the holder uses for this task's BATCHes at the current epoch.
    public var producerID: UInt64 { TaskProducerID.make(serial: serial, epoch: epoch) }

    /// A record; see the properties.
    public init(
        serial: UInt64, spec: TaskSpec, state: TaskState = .pending, epoch: UInt64 = 0, lease: TaskLease? = nil,
        checkpoint: [String: String] = [:], createdAt: Int64, updatedAt: Int64? = nil, lastError: String? = nil,
        retryAt: Int64? = nil, history: [TaskAssignmentRecord] = []
    ) {
        self.id = TaskRecord.id(serial: serial)
        self.serial = serial
        self.spec = spec
        self.state = state
        self.epoch = epoch
        self.lease = lease
        self.checkpoint = checkpoint
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.lastError = lastError
        self.retryAt = retryAt
        self.history = history
    }

    /// The id of the task with this serial: `t-<serial>`.
    public static func id(serial: UInt64) -> String { "t-\(serial)" }

    /// The serial in a task id, or `nil` when `id` is not of the form `t-<serial>`.
    public static func serial(of id: String) -> UInt64? {
        guard id.hasPrefix("t-"), let serial = UInt64(id.dropFirst(2)), serial > 0, id == TaskRecord.id(serial: serial) else { return nil }
        return serial
    }

    /// The daemon the next placement should avoid: the holder of the last assignment when it
    /// lapsed or failed.
    var avoidedHolder: String? {
        guard let last = history.last, last.end == .lapsed || last.end == .failed else { return nil }
        return last.holder
    }
}
