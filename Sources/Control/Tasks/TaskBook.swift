import Platform
import WAL
import Wire

/// The pure task and lease state machine, with its scheduler: no I/O, no clock, no threads.
///
/// The book holds every task (``TaskRecord``), which daemons are online and what each holds.
/// Each event — an API request, a session opening or closing, a heartbeat, a TASK_STATUS, a
/// timer ``tick(now:)`` — is one mutating call that decides and returns the control frames to
/// send (``TaskCommand``); the caller sends them, persists ``takeChanges()``, and calls
/// ``fence(daemonID:producerID:)`` for every task BATCH. Time is always passed in (`now`,
/// nanoseconds since the Unix epoch). docs/control.md describes states, leases, fencing and
/// the scheduler for operators and daemon implementers.
///
/// ```swift
/// var book = TaskBook(leaseDuration: 10_000_000_000)
/// let task = try book.create(TaskSpec(kind: .tail, stream: "app", parameters: ["path": "/var/log/app/*.log"]), now: t0)
/// _ = book.daemonOnline(DaemonCandidate(id: "d-1"), incarnation: nil, now: t0)
/// let commands = book.tick(now: t0)        // [.assign(daemonID: "d-1", …epoch 1…)]
/// book.heartbeat(from: "d-1", now: t0 + 3_000_000_000)   // renews every lease d-1 holds
/// ```
///
/// - Complexity: ``heartbeat(from:now:)`` is O(tasks the daemon holds). ``tick(now:)`` is
///   O(log n) when nothing is due; otherwise it looks only at due timers, at the tasks of
///   daemons whose renewals are overdue, and at pending tasks: each group of pending tasks
///   with one selector costs O(daemons) once plus O(log daemons) per task placed.
public struct TaskBook: Sendable {
    /// How long a lease lasts without renewal, in nanoseconds (default in the runtime: 10 s).
    /// A change applies to leases granted or renewed from then on.
    public var leaseDuration: Int64
    /// The most tasks the book keeps, terminated ones included; ``create(_:now:)`` or
    /// ``create(allOf:now:)`` beyond it is a ``ControlRequestFailure/limit`` error.
    public let maxTasks: Int
    /// How long a terminated task stays visible before ``tick(now:)`` drops it, in nanoseconds.
    public let terminatedRetention: Int64
    /// The serial the next task gets; persist it to never reuse the serial of a dropped task.
    public private(set) var nextSerial: UInt64 = 1

    var records: [UInt64: TaskRecord] = [:]
    var daemons: [String: TaskDaemon] = [:]
    /// The online daemon ids, sorted; `nil` after a daemon came online or went offline.
    var roster: [String]?
    var pending: [DaemonSelector: TaskPendingGroup] = [:]
    /// Grows when a daemon comes online, which may unblock pending groups.
    var onlineGeneration: UInt64 = 0
    /// Per-daemon renewal deadlines (see ``TaskDaemon/queuedTimer``).
    var renewalTimers = TaskHeap<DaemonTimer>()
    /// The fixed lease ends of suspending and terminating tasks.
    var stopTimers = TaskHeap<TaskTimer>()
    /// Terminated tasks by the time they terminated.
    var retentionTimers = TaskHeap<TaskTimer>()
    /// Pending tasks backing off after repeated failures, by ``TaskRecord/retryAt``.
    var retryTimers = TaskHeap<TaskTimer>()
    var changedRecords: Set<UInt64> = []
    var changedCheckpoints: Set<UInt64> = []
    var removedIDs: [String] = []
    var work = TaskBookWork()

    /// An empty book.
    /// - Parameters:
    ///   - leaseDuration: how long a lease lasts without renewal, nanoseconds.
    ///   - maxTasks: the most tasks kept, terminated ones included.
    ///   - terminatedRetention: how long terminated tasks stay, nanoseconds (default 1 h).
    public init(leaseDuration: Int64, maxTasks: Int = 100_000, terminatedRetention: Int64 = 3_600_000_000_000) {
        self.leaseDuration = leaseDuration
        self.maxTasks = maxTasks
        self.terminatedRetention = terminatedRetention
    }

    /// Rebuilds the book from persisted records after a restart.
    ///
    /// Every lease gets one lease duration of grace (`expiresAt = now + leaseDuration`): no
    /// task moves while its holder reconnects and heartbeats. Suspending and terminating tasks
    /// wait one more lease duration for their acknowledgement. Pending tasks are placed at the
    /// next ``tick(now:)`` once daemons are online. A held state without a lease (a damaged
    /// record) becomes pending. No changes are reported for the restore itself.
    /// - Parameters:
    ///   - records: the persisted tasks, in any order.
    ///   - nextSerial: the persisted ``nextSerial``, if any; the book uses at least the
    ///     highest serial + 1.
    public init(
        restoring records: [TaskRecord], leaseDuration: Int64, now: Int64, maxTasks: Int = 100_000,
        terminatedRetention: Int64 = 3_600_000_000_000, nextSerial: UInt64 = 1
    ) {
        self.init(leaseDuration: leaseDuration, maxTasks: maxTasks, terminatedRetention: terminatedRetention)
        self.nextSerial = max(nextSerial, 1)
        for var r in records {
            r.id = TaskRecord.id(serial: r.serial)
            self.nextSerial = max(self.nextSerial, r.serial &+ 1)
            if r.state.isHeld, var lease = r.lease {
                lease.expiresAt = now &+ leaseDuration
                r.lease = lease
                r.epoch = lease.epoch
                var daemon = daemons[lease.holder] ?? TaskDaemon(candidate: DaemonCandidate(id: lease.holder), online: false)
                daemon.held.insert(r.serial)
                daemons[lease.holder] = daemon
                if r.state == .running {
                    daemons[lease.holder]?.earliestExpiry = lease.expiresAt
                } else {
                    stopTimers.push(TaskTimer(at: lease.expiresAt, serial: r.serial))
                }
            } else {
                if r.state.isHeld { r.state = .pending }
                r.lease = nil
                if r.state == .pending {
                    if let at = r.retryAt, at > now {
                        retryTimers.push(TaskTimer(at: at, serial: r.serial))
                    } else {
                        pending[r.spec.selector, default: TaskPendingGroup()].serials.insert(r.serial)
                    }
                }
                if r.state == .terminated { retentionTimers.push(TaskTimer(at: r.updatedAt, serial: r.serial)) }
            }
            self.records[r.serial] = r
        }
        for id in daemons.keys.sorted() { scheduleRenewalCheck(of: id) }
    }

    // MARK: Reading

    /// The task with this id, if any.
    public func task(_ id: String) -> TaskRecord? {
        guard let serial = TaskRecord.serial(of: id) else { return nil }
        return records[serial]
    }

    /// All tasks, by serial.
    /// - Complexity: O(n log n).
    public var tasks: [TaskRecord] { records.values.sorted { $0.serial < $1.serial } }

    /// The tasks `daemonID` holds a lease on (running, suspending, terminating), by serial.
    /// - Complexity: O(k log k) for the k tasks it holds.
    public func tasks(heldBy daemonID: String) -> [TaskRecord] {
        guard let daemon = daemons[daemonID] else { return [] }
        return daemon.held.sorted().compactMap { records[$0] }
    }

    /// How many tasks are in each state (states with none are absent).
    /// - Complexity: O(n).
    public var counts: [TaskState: Int] {
        var c: [TaskState: Int] = [:]
        for r in records.values { c[r.state, default: 0] += 1 }
        return c
    }

    /// Whether `daemonID` is online (eligible for new placements).
    public func isOnline(_ daemonID: String) -> Bool { daemons[daemonID]?.online ?? false }

    /// What changed since the last call (or since the book was made), for persisting; resets it.
    /// Whether records changed (or were removed) since the last ``takeChanges()``: changes that
    /// must be persisted before the commands they came with are sent.
    public var hasRecordChanges: Bool { !changedRecords.isEmpty || !removedIDs.isEmpty }

    /// Whether checkpoints changed since the last ``takeChanges()``.
    public var hasCheckpointChanges: Bool { !changedCheckpoints.isEmpty }

    public mutating func takeChanges() -> TaskChanges {
        var changes = TaskChanges()
        changes.records = changedRecords.sorted().compactMap { records[$0] }
        changes.checkpoints.reserveCapacity(changedCheckpoints.count)
        for serial in changedCheckpoints where !changedRecords.contains(serial) {
            // Field by field: copying whole records costs a retain per field, 10,000 times a second.
            if let id = records[serial]?.id, let checkpoint = records[serial]?.checkpoint { changes.checkpoints[id] = checkpoint }
        }
        changes.removed = removedIDs
        changedRecords = []
        changedCheckpoints = []
        removedIDs = []
        return changes
    }

    // MARK: Requests

    /// Adds a task, pending: it is placed at the next ``tick(now:)``.
    /// - Returns: the new record (its spec is the validated one, with defaults).
    /// - Throws: ``ControlRequestFailure/invalid`` (see ``TaskSpec/validated()``) or
    ///   ``ControlRequestFailure/limit`` when the book holds ``maxTasks`` tasks.
    public mutating func create(_ spec: TaskSpec, now: Int64) throws(TaskError) -> TaskRecord {
        let spec = try spec.validated()
        try checkRoom(for: 1)
        return add(spec, now: now)
    }

    /// Adds every task of a batch, pending, or none of them.
    ///
    /// Every spec is validated, and the room for all of them checked, before anything
    /// changes: when the batch is refused, the book is as it was (no record, no serial used,
    /// nothing to persist).
    /// - Returns: the new records, in the order of `specs` (their specs are the validated ones).
    /// - Throws: ``ControlRequestFailure/invalid`` for the first invalid spec, with its
    ///   ``TaskError/index`` in `specs` (see ``TaskSpec/validated()``);
    ///   ``ControlRequestFailure/limit`` when the book cannot keep them all under ``maxTasks``.
    /// - Complexity: O(n) for n specs.
    public mutating func create(allOf specs: [TaskSpec], now: Int64) throws(TaskError) -> [TaskRecord] {
        var valid: [TaskSpec] = []
        valid.reserveCapacity(specs.count)
        for (index, spec) in specs.enumerated() {
            do {
                valid.append(try spec.validated())
            } catch {
                var error = error
                error.index = index
                throw error
            }
        }
        try checkRoom(for: valid.count)
        var created: [TaskRecord] = []
        created.reserveCapacity(valid.count)
        for spec in valid { created.append(add(spec, now: now)) }
        return created
    }

    /// Asks for a task to stop, keeping its checkpoint.
    ///
    /// Pending → suspended at once. Running → suspending: TASK_CONTROL `suspend` goes to the
    /// holder, whose lease is no longer renewed and ends at `now + leaseDuration`; its
    /// acknowledgement (TASK_STATUS `suspended`) or the lease's end makes it suspended.
    /// Suspending or suspended: nothing to do.
    /// - Throws: ``ControlRequestFailure/notFound``; ``ControlRequestFailure/conflict`` when terminating or terminated.
    public mutating func suspend(_ id: String, now: Int64) throws(TaskError) -> [TaskCommand] {
        let serial = try existing(id)
        let r = records[serial]!
        switch r.state {
        case .pending:
            dequeue(serial, r.spec.selector)
            update(serial, now) {
                $0.state = .suspended
                $0.retryAt = nil
            }
            return []
        case .running:
            return [stop(serial, to: .suspending, now: now)]
        case .suspending, .suspended:
            return []
        case .terminating, .terminated:
            throw .conflict("task \(id) is \(r.state.rawValue); it cannot be suspended")
        }
    }

    /// Makes a suspended task pending again: it is placed at the next ``tick(now:)`` with
    /// epoch + 1, resuming from its checkpoint.
    /// - Throws: ``ControlRequestFailure/notFound``; ``ControlRequestFailure/conflict`` unless suspended.
    public mutating func resume(_ id: String, now: Int64) throws(TaskError) -> [TaskCommand] {
        let serial = try existing(id)
        let r = records[serial]!
        guard r.state == .suspended else { throw .conflict("task \(id) is \(r.state.rawValue); only a suspended task can be resumed") }
        update(serial, now) {
            $0.state = .pending
            $0.retryAt = nil
        }
        enqueue(serial, r.spec.selector)
        return []
    }

    /// Asks for a task to stop for good.
    ///
    /// Pending or suspended → terminated at once. Running → terminating, like
    /// ``suspend(_:now:)`` with TASK_CONTROL `terminate`; suspending → terminating, keeping the
    /// lease end the suspend set. Terminating: nothing to do.
    /// - Throws: ``ControlRequestFailure/notFound``; ``ControlRequestFailure/conflict`` when already terminated.
    public mutating func terminate(_ id: String, now: Int64) throws(TaskError) -> [TaskCommand] {
        let serial = try existing(id)
        let r = records[serial]!
        switch r.state {
        case .pending, .suspended:
            if r.state == .pending { dequeue(serial, r.spec.selector) }
            markTerminated(serial, now)
            return []
        case .running:
            return [stop(serial, to: .terminating, now: now)]
        case .suspending:
            update(serial, now) { $0.state = .terminating }
            let lease = r.lease!
            return [.control(daemonID: lease.holder, TaskControl(taskID: id, epoch: lease.epoch, action: .terminate))]
        case .terminating:
            return []
        case .terminated:
            throw .conflict("task \(id) is already terminated")
        }
    }

    /// Stores a validated spec as a new pending task.
    private mutating func add(_ spec: TaskSpec, now: Int64) -> TaskRecord {
        let serial = nextSerial
        nextSerial += 1
        let record = TaskRecord(serial: serial, spec: spec, createdAt: now)
        records[serial] = record
        enqueue(serial, spec.selector)
        changedRecords.insert(serial)
        return record
    }

    /// Refuses (``ControlRequestFailure/limit``) unless `count` more tasks fit under ``maxTasks``.
    private func checkRoom(for count: Int) throws(TaskError) {
        guard records.count + count > maxTasks else { return }
        throw TaskError(
            .limit,
            "this node keeps \(records.count) task\(records.count == 1 ? "" : "s"); \(count) more would pass its limit of \(maxTasks) (terminated tasks are dropped \(terminatedRetention / 1_000_000_000) s after they end)")
    }

    // MARK: Helpers shared by the extensions

    func existing(_ id: String) throws(TaskError) -> UInt64 {
        guard let serial = TaskRecord.serial(of: id), records[serial] != nil else { throw .notFound(id) }
        return serial
    }

    /// Changes a record in place and marks it changed.
    mutating func update(_ serial: UInt64, _ now: Int64, _ change: (inout TaskRecord) -> Void) {
        guard records[serial] != nil else { return }
        change(&records[serial]!)
        records[serial]!.updatedAt = now
        changedRecords.insert(serial)
    }

    mutating func enqueue(_ serial: UInt64, _ selector: DaemonSelector) {
        pending[selector, default: TaskPendingGroup()].serials.insert(serial)
    }

    mutating func dequeue(_ serial: UInt64, _ selector: DaemonSelector) {
        guard var group = pending.removeValue(forKey: selector) else { return }
        group.serials.remove(serial)
        if !group.serials.isEmpty { pending[selector] = group }
    }

    /// Running → suspending or terminating: the lease stops being renewable and ends one lease
    /// duration from now; the holder is asked to stop.
    mutating func stop(_ serial: UInt64, to state: TaskState, now: Int64) -> TaskCommand {
        let end = now &+ leaseDuration
        update(serial, now) {
            $0.state = state
            $0.lease?.expiresAt = end
        }
        stopTimers.push(TaskTimer(at: end, serial: serial))
        let r = records[serial]!
        let lease = r.lease!
        return .control(daemonID: lease.holder, TaskControl(taskID: r.id, epoch: lease.epoch, action: state == .suspending ? .suspend : .terminate))
    }

    mutating func markTerminated(_ serial: UInt64, _ now: Int64) {
        update(serial, now) {
            $0.state = .terminated
            $0.retryAt = nil
        }
        retentionTimers.push(TaskTimer(at: now, serial: serial))
    }

    /// Ends the current assignment: closes its history entry, clears the lease and takes the
    /// task from its holder. The caller sets the new state.
    mutating func release(_ serial: UInt64, _ end: TaskAssignmentEnd, _ now: Int64) {
        guard let lease = records[serial]?.lease else { return }
        update(serial, now) { r in
            r.lease = nil
            if let i = r.history.lastIndex(where: { $0.epoch == lease.epoch && $0.until == nil }) {
                r.history[i].until = now
                r.history[i].end = end
            }
        }
        daemons[lease.holder]?.held.remove(serial)
        forgetIfIdle(lease.holder)
    }

    /// Drops an offline daemon that holds nothing: the book stays bounded by what is online
    /// plus what holds leases.
    mutating func forgetIfIdle(_ id: String) {
        if let d = daemons[id], !d.online, d.held.isEmpty { daemons[id] = nil }
    }
}
