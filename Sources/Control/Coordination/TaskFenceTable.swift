public import Ingest
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
        var holder: String
        var epoch: UInt64
    }

    private let entries = Mutex<[UInt64: Entry]>([:])

    public init() {}

    /// Takes the lease of each record: an active task (running, suspending, terminating) with
    /// a lease may write; any other state removes the task from the table.
    public func update(_ records: some Sequence<TaskRecord>) {
        entries.withLock { table in
            for record in records {
                if let lease = record.lease, record.state.holdsLease {
                    table[record.serial] = Entry(id: record.id, holder: lease.holder, epoch: lease.epoch)
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
            return .refused("task t-\(serial) has no current lease")
        }
        guard entry.holder == daemonID else { return .refused("daemon \(daemonID) does not hold task \(entry.id)") }
        guard entry.epoch & 0xFF_FFFF == epoch else {
            return .refused("task \(entry.id) is at epoch \(entry.epoch); this batch is from epoch \(epoch)")
        }
        return .admitted
    }

    /// How many tasks may write now.
    public var count: Int { entries.withLock { $0.count } }
}

extension TaskState {
    /// Whether a task in this state has a holder whose data is admitted.
    var holdsLease: Bool {
        switch self {
        case .running, .suspending, .terminating: true
        default: false
        }
    }
}
