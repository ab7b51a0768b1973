import Platform
import WAL
public import Wire
import Synchronization

/// The leases that may write task data right now, for the event loops' fencing check.
///
/// The control loop owns the ``TaskBook``; this table is its lock-protected copy of just what
/// fencing needs (holder and epoch by task serial), updated after every durable commit and
/// before the commands of that commit go out, so a new holder's first batch is admitted and,
/// from then on, the old holder's batches are refused.
///
/// Thread-safe: ``verdict(daemonID:producerID:)`` runs on event loops, once per task batch.
public final class TaskFenceTable: Sendable {
    struct Entry: Sendable {
        var id: String
        var lease: TaskLease
    }

    private let entries = Mutex<[UInt64: Entry]>([:])

    public init() {}

    /// Takes the lease of each record: an active task (running, suspending, terminating) with
    /// a lease may write; any other state removes the task from the table.
    public func update(_ records: some Sequence<TaskRecord>) {
        entries.withLock { table in
            for record in records {
                if let lease = record.lease, record.state.isHeld {
                    table[record.serial] = Entry(id: record.id, lease: lease)
                } else {
                    table[record.serial] = nil
                }
            }
        }
    }

    /// Forgets tasks by serial (removed from the book).
    public func remove(serials: some Sequence<UInt64>) {
        entries.withLock { table in for s in serials { table[s] = nil } }
    }

    /// Whether `daemonID` may write a batch with this task producer id.
    public func verdict(daemonID: String, producerID: UInt64) -> TaskFenceVerdict {
        guard let (serial, epoch) = TaskProducerID.parse(producerID) else { return .refused("not a task producer id") }
        guard let entry = entries.withLock({ $0[serial] }) else {
            return .refused("task \(TaskRecord.id(serial: serial)) has no lease: unknown, pending, suspended or terminated")
        }
        return entry.lease.verdict(task: entry.id, daemonID: daemonID, epoch: epoch)
    }

    /// How many tasks may write now.
    public var count: Int { entries.withLock { $0.count } }
}
