import Platform
import WAL
public import Wire

extension TaskBook {
    /// A session of `daemon` opened: it becomes eligible for placements at the next
    /// ``tick(now:)``, and what it holds is sent again.
    ///
    /// For every running task it holds, a TASK_ASSIGN:
    /// - when `incarnation` is the one its lease was granted to (``TaskLease/incarnation``), at
    ///   the same epoch with the current checkpoint: a daemon that kept its state keeps going,
    ///   and de-duplication covers what it resends;
    /// - otherwise (another incarnation, or `nil` on either side: unknown never matches) at the
    ///   next epoch, to the same daemon, from the current checkpoint: the assignment ends as
    ///   ``TaskAssignmentEnd/restarted``, and the new producer id gives a daemon that lost its
    ///   state a sequence space of its own, where its batches are stored instead of being
    ///   dropped as duplicates. The change is reported by ``takeChanges()`` and must be
    ///   persisted before the command is sent.
    ///
    /// Suspending and terminating tasks get their pending TASK_CONTROL again. Opening a session
    /// counts as a heartbeat. Its labels, region and throughput are taken from `daemon`. Tasks
    /// it holds stay with it even if its labels no longer match their selectors (running tasks
    /// never move).
    /// - Parameters:
    ///   - incarnation: the session's incarnation (its HELLO's), `nil` when it named none;
    ///     leases granted from now on carry it.
    /// - Important: call it when each session of the daemon opens, and
    ///   ``daemonOffline(_:now:)`` when its last one closes.
    public mutating func daemonOnline(_ daemon: DaemonCandidate, incarnation: DaemonIncarnation?, now: Int64) -> [TaskCommand] {
        var state = daemons[daemon.id] ?? TaskDaemon(candidate: daemon, online: true)
        if !state.online || daemons[daemon.id] == nil { roster = nil }
        state.candidate = daemon
        state.online = true
        state.incarnation = incarnation
        daemons[daemon.id] = state
        onlineGeneration &+= 1
        heartbeat(from: daemon.id, now: now)
        var out: [TaskCommand] = []
        for serial in state.held.sorted() {
            guard let r = records[serial], let lease = r.lease else { continue }
            switch r.state {
            case .running where incarnation != nil && lease.incarnation == incarnation:
                out.append(.assign(daemonID: daemon.id, assignment(r)))
            case .running:
                release(serial, .restarted, now)
                out.append(grant(serial, to: daemon.id, now: now))
            case .suspending: out.append(.control(daemonID: daemon.id, TaskControl(taskID: r.id, epoch: lease.epoch, action: .suspend)))
            case .terminating: out.append(.control(daemonID: daemon.id, TaskControl(taskID: r.id, epoch: lease.epoch, action: .terminate)))
            default: break
            }
        }
        return out
    }

    /// The daemon's session closed: it gets no new placements; the leases it holds run out by
    /// time only (a reconnect and heartbeat within the lease keeps them).
    public mutating func daemonOffline(_ id: String, now: Int64) {
        guard daemons[id]?.online == true else { return }
        daemons[id]!.online = false
        roster = nil
        forgetIfIdle(id)
    }

    /// Renews every running task's lease the daemon holds to `now + leaseDuration`
    /// (suspending and terminating leases are not renewable). Renewals are not reported by
    /// ``takeChanges()``.
    /// - Complexity: O(tasks it holds).
    public mutating func heartbeat(from id: String, now: Int64) {
        guard let held = daemons[id]?.held, !held.isEmpty else { return }
        let expiry = now &+ leaseDuration
        var renewed = false
        for serial in held {
            work.taskVisits += 1
            if Self.renew(&records[serial], to: expiry) { renewed = true }
        }
        if renewed {
            daemons[id]!.earliestExpiry = expiry
            scheduleRenewalCheck(of: id)
        }
    }

    /// The daemon's throughput (records per second, an EMA): the scheduler's tie-breaker
    /// after the number of tasks held. Unknown daemons are ignored.
    public mutating func setThroughput(_ recordsPerSecond: Double, of id: String) {
        daemons[id]?.candidate.throughput = recordsPerSecond
    }

    /// A TASK_STATUS from `id`.
    ///
    /// It counts only from the current holder at the current epoch; anything else (unknown
    /// task, not the holder, another epoch) is ignored and answered with TASK_CONTROL
    /// `revoke` at the reported epoch, so stale holders stop. From the holder, a non-empty
    /// checkpoint is stored, and then:
    ///
    /// | reported | task is | result |
    /// |---|---|---|
    /// | running | running | lease renewed |
    /// | running | suspending, terminating | nothing more (not renewable) |
    /// | suspended, terminated, failed | suspending | suspended (failed: `lastError` set) |
    /// | suspended, terminated, failed | terminating | terminated (failed: `lastError` set) |
    /// | failed | running | pending, `lastError` set; placed elsewhere if possible, after a back-off when it keeps failing (``retryDelay(after:)``) |
    /// | suspended, terminated | running | as failed: the daemon stopped it unasked |
    /// - Returns: the revoke for an ignored report, else nothing.
    public mutating func report(_ status: TaskStatus, from id: String, now: Int64) -> [TaskCommand] {
        // Field by field, not the whole record: this runs for every task at every heartbeat.
        guard let serial = TaskRecord.serial(of: status.taskID), let lease = records[serial]?.lease,
            lease.holder == id, lease.epoch == status.epoch, let state = records[serial]?.state
        else {
            return [.control(daemonID: id, TaskControl(taskID: status.taskID, epoch: status.epoch, action: .revoke))]
        }
        if !status.checkpoint.isEmpty, records[serial]?.checkpoint != status.checkpoint {
            records[serial]!.checkpoint = status.checkpoint
            changedCheckpoints.insert(serial)
        }
        let message = status.message.isEmpty ? nil : status.message
        switch (status.state, state) {
        case (.running, .running):
            records[serial]!.lease!.expiresAt = max(lease.expiresAt, now &+ leaseDuration)
        case (.running, _):
            break
        case (_, .suspending):
            release(serial, .suspended, now)
            update(serial, now) { r in
                r.state = .suspended
                if status.state == .failed { r.lastError = "failed on \(id) while suspending: \(message ?? "no message")" }
            }
        case (_, .terminating):
            release(serial, .terminated, now)
            markTerminated(serial, now)
            if status.state == .failed { update(serial, now) { $0.lastError = "failed on \(id) while terminating: \(message ?? "no message")" } }
        case (_, _):
            let why = status.state == .failed
                ? "failed on \(id): \(message ?? "no message")"
                : "\(id) stopped the task unasked (reported \(status.state == .suspended ? "suspended" : "terminated"))\(message.map { ": \($0)" } ?? "")"
            release(serial, .failed, now)
            let delay = Self.retryDelay(after: records[serial]!.history)
            update(serial, now) { r in
                r.state = .pending
                r.lastError = why
                r.retryAt = delay > 0 ? now &+ delay : nil
            }
            if delay > 0 {
                retryTimers.push(TaskTimer(at: now &+ delay, serial: serial))
            } else {
                enqueue(serial, records[serial]!.spec.selector)
            }
        }
        return []
    }

    // MARK: Helpers

    /// Renews a running task's lease in place; `false` for other states.
    static func renew(_ record: inout TaskRecord?, to expiry: Int64) -> Bool {
        guard record?.state == .running else { return false }
        record!.lease!.expiresAt = expiry
        return true
    }

    /// TASK_ASSIGN for the record's current lease and checkpoint.
    func assignment(_ r: TaskRecord) -> TaskAssignment { Self.assignment(r, leaseDuration: leaseDuration) }

    static func assignment(_ r: TaskRecord, leaseDuration: Int64) -> TaskAssignment {
        TaskAssignment(
            taskID: r.id, epoch: r.epoch, leaseMilliseconds: UInt32(clamping: leaseDuration / 1_000_000), producerID: r.producerID,
            kind: r.spec.kind.rawValue, stream: r.spec.stream, parameters: r.spec.parameters, checkpoint: r.checkpoint)
    }

    /// The record's next assignment, made in place, to the session of `daemonID` with `incarnation`.
    static func assign(
        _ r: inout TaskRecord, to daemonID: String, incarnation: DaemonIncarnation?, now: Int64, expiry: Int64, leaseDuration: Int64
    ) -> TaskAssignment {
        r.epoch += 1
        r.state = .running
        r.retryAt = nil
        r.updatedAt = now
        r.lease = TaskLease(holder: daemonID, epoch: r.epoch, grantedAt: now, expiresAt: expiry, incarnation: incarnation)
        r.history.append(TaskAssignmentRecord(holder: daemonID, epoch: r.epoch, from: now))
        if r.history.count > TaskRecord.historyLimit { r.history.removeFirst(r.history.count - TaskRecord.historyLimit) }
        return assignment(r, leaseDuration: leaseDuration)
    }

    /// Assigns a task without a lease to `daemonID` (online) at the next epoch, for its
    /// current session's incarnation.
    mutating func grant(_ serial: UInt64, to daemonID: String, now: Int64) -> TaskCommand {
        let expiry = now &+ leaseDuration
        let assignment = Self.assign(
            &records[serial]!, to: daemonID, incarnation: daemons[daemonID]!.incarnation, now: now, expiry: expiry,
            leaseDuration: leaseDuration)
        changedRecords.insert(serial)
        if daemons[daemonID]!.hold(serial, until: expiry) { renewalTimers.push(DaemonTimer(at: expiry, daemonID: daemonID)) }
        return .assign(daemonID: daemonID, assignment)
    }

    /// Makes sure a renewal timer of the daemon is due no later than its earliest expiry.
    mutating func scheduleRenewalCheck(of id: String) {
        guard let d = daemons[id], let at = d.earliestExpiry else { return }
        if let queued = d.queuedTimer, queued <= at { return }
        daemons[id]!.queuedTimer = at
        renewalTimers.push(DaemonTimer(at: at, daemonID: id))
    }
}
