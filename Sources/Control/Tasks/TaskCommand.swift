import WAL
public import Wire

/// A control frame the ``TaskBook`` wants sent to a daemon: the runtime sends it on the
/// daemon's session, or drops it when the daemon has none.
public enum TaskCommand: Sendable, Equatable {
    /// TASK_ASSIGN: run this task under this lease.
    case assign(daemonID: String, TaskAssignment)
    /// TASK_CONTROL: suspend, terminate or revoke.
    case control(daemonID: String, TaskControl)

    /// The daemon it is for.
    public var daemonID: String {
        switch self {
        case .assign(let id, _), .control(let id, _): id
        }
    }
}

/// What changed in a ``TaskBook`` since the last ``TaskBook/takeChanges()``: what to persist.
public struct TaskChanges: Sendable {
    /// Tasks created or changed (state, lease holder or epoch, spec, error), whole, by serial.
    /// Lease renewals alone are not changes: a restart gives every lease a grace period anyway.
    public var records: [TaskRecord]
    /// Task id → checkpoint, for tasks whose only change was a reported checkpoint.
    public var checkpoints: [String: [String: String]]
    /// Ids of tasks dropped (terminated longer than the retention).
    public var removed: [String]

    /// No change at all.
    public var isEmpty: Bool { records.isEmpty && checkpoints.isEmpty && removed.isEmpty }

    /// Changes; see the properties.
    public init(records: [TaskRecord] = [], checkpoints: [String: [String: String]] = [:], removed: [String] = []) {
        self.records = records
        self.checkpoints = checkpoints
        self.removed = removed
    }
}
