import Platform
import WAL
import Wire

extension TaskBook {
    /// Runs what is due at `now`, in this order:
    ///
    /// 1. suspending/terminating tasks whose lease ended unacknowledged → suspended/terminated,
    ///    TASK_CONTROL `revoke` to the holder if online;
    /// 2. running tasks whose lease lapsed → pending, `revoke` to the holder if online;
    /// 3. pending tasks whose back-off ended (``TaskRecord/retryAt``) join the others, and
    ///    pending tasks are placed (see ``TaskBook`` and docs/control.md, "Scheduling"): TASK_ASSIGN
    ///    at epoch + 1 with the last checkpoint; a task that lapsed or failed goes to another
    ///    daemon than its last holder when one is eligible;
    /// 4. terminated tasks older than ``terminatedRetention`` are dropped.
    ///
    /// Call it about once a second, and after daemons come online or tasks are created to
    /// place them sooner.
    /// - Returns: revokes first, then assignments.
    /// - Complexity: O(log n) when nothing is due (see ``TaskBook``).
    public mutating func tick(now: Int64) -> [TaskCommand] {
        var out: [TaskCommand] = []
        expireStops(now: now, into: &out)
        expireRenewals(now: now, into: &out)
        endBackoffs(now: now)
        place(now: now, into: &out)
        dropTerminated(now: now)
        return out
    }

    /// Unacknowledged suspends and terminates whose lease ended.
    mutating func expireStops(now: Int64, into out: inout [TaskCommand]) {
        while let top = stopTimers.min, top.at <= now {
            stopTimers.pop()
            work.taskVisits += 1
            guard let r = records[top.serial], r.state == .suspending || r.state == .terminating, let lease = r.lease,
                lease.expiresAt == top.at
            else { continue }
            if daemons[lease.holder]?.online == true {
                out.append(.control(daemonID: lease.holder, TaskControl(taskID: r.id, epoch: lease.epoch, action: .revoke)))
            }
            release(top.serial, .unacknowledged, now)
            if r.state == .suspending {
                update(top.serial, now) { $0.state = .suspended }
            } else {
                markTerminated(top.serial, now)
            }
        }
    }

    /// Running leases of daemons whose renewals are overdue.
    mutating func expireRenewals(now: Int64, into out: inout [TaskCommand]) {
        while let top = renewalTimers.min, top.at <= now {
            renewalTimers.pop()
            work.daemonVisits += 1
            guard let daemon = daemons[top.daemonID], daemon.queuedTimer == top.at else { continue }
            daemons[top.daemonID]!.queuedTimer = nil
            if let earliest = daemon.earliestExpiry, earliest > now {
                // Renewed since the timer was set: look again then.
                scheduleRenewalCheck(of: top.daemonID)
                continue
            }
            var lapsed: [UInt64] = []
            var next: Int64?
            for serial in daemon.held {
                work.taskVisits += 1
                guard let r = records[serial], r.state == .running, let lease = r.lease else { continue }
                if lease.expiresAt <= now {
                    lapsed.append(serial)
                } else {
                    next = min(next ?? .max, lease.expiresAt)
                }
            }
            let online = daemon.online
            for serial in lapsed.sorted() {
                let r = records[serial]!
                if online { out.append(.control(daemonID: top.daemonID, TaskControl(taskID: r.id, epoch: r.epoch, action: .revoke))) }
                release(serial, .lapsed, now)
                update(serial, now) { $0.state = .pending }
                enqueue(serial, r.spec.selector)
            }
            if daemons[top.daemonID] != nil {
                daemons[top.daemonID]!.earliestExpiry = next
                scheduleRenewalCheck(of: top.daemonID)
            }
        }
    }

    /// Terminated tasks past the retention.
    mutating func dropTerminated(now: Int64) {
        while let top = retentionTimers.min, top.at <= now &- terminatedRetention {
            retentionTimers.pop()
            guard let r = records[top.serial], r.state == .terminated, r.updatedAt == top.at else { continue }
            records[top.serial] = nil
            changedRecords.remove(top.serial)
            changedCheckpoints.remove(top.serial)
            removedIDs.append(r.id)
        }
    }
}
