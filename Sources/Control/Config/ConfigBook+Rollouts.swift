extension ConfigBook {
    /// Runs the timeouts and health gates of every running or paused rollout, starts the next
    /// batches and finishes or rolls back rollouts.
    ///
    /// For each daemon of a started batch:
    /// - pushed and not applied by its deadline (push + apply timeout) → failed;
    /// - applied and Healthy → its gate starts (the first Healthy tick) and it passes once it
    ///   has been Healthy for the gate;
    /// - applied, gate started, not Healthy (Degraded, Offline or unknown: `nil`) → failed;
    /// - applied, not yet Healthy → it waits, up to its deadline.
    ///
    /// Then: failures past the threshold roll the rollout back; a running rollout whose current
    /// batch is done (every daemon passed, failed or skipped) starts the next one, or succeeds
    /// after the last one.
    /// - Parameters:
    ///   - now: nanoseconds since the epoch; call every second or so.
    ///   - health: each daemon's health (`nil` when unknown, which counts as not Healthy).
    /// - Returns: the pushes to send: next batches, rollbacks, and the new version for daemons
    ///   outside a rollout that just succeeded.
    public mutating func tick(now: Int64, health: (String) -> HealthState?) -> [ConfigCommand] {
        var out: [ConfigCommand] = []
        for id in activeRollouts.values.sorted(by: { Self.number(of: $0) < Self.number(of: $1) }) {
            guard var r = rolloutsByID[id] else { continue }
            let before = r
            if restoredRollouts.remove(id) != nil { restartDeadlines(&r, now: now) }
            evaluate(&r, now: now, health: health)
            out += settle(&r, now: now)
            if r != before {
                r.updatedAt = now
                store(r)
            }
        }
        trimRollouts()
        return out
    }

    /// Pauses a running rollout: no batch starts and it does not finish until ``resume(_:now:)``;
    /// the started batches are still evaluated and their failures still count. Pausing a paused
    /// rollout does nothing.
    /// - Throws: ``ControlRequestFailure/notFound``, or ``ControlRequestFailure/conflict``
    ///   when it is finished.
    public mutating func pause(_ rolloutID: String, now: Int64) throws(ConfigError) {
        var r = try activeRollout(id: rolloutID)
        guard r.state == .running else { return }
        r.state = .paused
        r.reason = "paused at batch \(r.currentBatch + 1) of \(r.batchCount)"
        r.updatedAt = now
        store(r)
    }

    /// Resumes a paused rollout; if its current batch is already done, the next batch starts
    /// (or it succeeds) now. Resuming a running rollout does nothing.
    /// - Returns: the pushes to send.
    /// - Throws: ``ControlRequestFailure/notFound``, or ``ControlRequestFailure/conflict``
    ///   when it is finished.
    public mutating func resume(_ rolloutID: String, now: Int64) throws(ConfigError) -> [ConfigCommand] {
        var r = try activeRollout(id: rolloutID)
        guard r.state == .paused else { return [] }
        r.state = .running
        r.reason = ""
        r.updatedAt = now
        let out = settle(&r, now: now)
        store(r)
        trimRollouts()
        return out
    }

    /// Stops a running or paused rollout: every daemon that was pushed its version (failed ones
    /// included) is pushed the last known good version, the version is marked rolled back. With
    /// no last known good version nothing is pushed and the version is marked halted.
    /// - Returns: the rollback pushes.
    /// - Throws: ``ControlRequestFailure/notFound``, or ``ControlRequestFailure/conflict``
    ///   when it is finished.
    public mutating func abort(_ rolloutID: String, now: Int64) throws(ConfigError) -> [ConfigCommand] {
        var r = try activeRollout(id: rolloutID)
        let out = stop(&r, as: .aborted, because: "aborted", now: now)
        r.updatedAt = now
        store(r)
        trimRollouts()
        return out
    }

    private func activeRollout(id: String) throws(ConfigError) -> Rollout {
        guard let r = rolloutsByID[id] else { throw ConfigError(.notFound, "no rollout \(id)") }
        guard r.state.isActive else { throw ConfigError(.conflict, "rollout \(id) is \(r.state.rawValue)") }
        return r
    }

    // MARK: The engine

    /// After a restore: pending daemons get a fresh deadline, applied ones restart their gate.
    private func restartDeadlines(_ r: inout Rollout, now: Int64) {
        for i in r.daemons.indices where r.daemons[i].state == .applying || r.daemons[i].state == .applied {
            r.daemons[i].deadline = now &+ r.strategy.applyTimeoutNanoseconds
            r.daemons[i].healthySince = nil
        }
    }

    /// Timeouts and gates of the started batches.
    private func evaluate(_ r: inout Rollout, now: Int64, health: (String) -> HealthState?) {
        let timeout = Self.format(r.strategy.applyTimeoutSeconds)
        for i in r.daemons.indices where r.daemons[i].batch <= r.currentBatch {
            var d = r.daemons[i]
            switch d.state {
            case .applying:
                if let deadline = d.deadline, now >= deadline {
                    d.state = .failed
                    d.message = "not applied within \(timeout) s"
                }
            case .applied:
                let h = health(d.id)
                if h == .healthy {
                    let since = d.healthySince ?? now
                    d.healthySince = since
                    if now &- since >= r.strategy.gateNanoseconds {
                        d.state = .gated
                        d.message = "Healthy for \(Self.format(r.strategy.gateSeconds)) s"
                    }
                } else if d.healthySince != nil {
                    d.state = .failed
                    d.message = "\(h?.rawValue ?? "unknown") during its health gate"
                } else if let deadline = d.deadline, now >= deadline {
                    d.state = .failed
                    d.message = "applied but not Healthy within \(timeout) s (\(h?.rawValue ?? "unknown"))"
                }
            default:
                break
            }
            r.daemons[i] = d
        }
    }

    /// Rolls back past the failure threshold, else moves a running rollout on.
    mutating func settle(_ r: inout Rollout, now: Int64) -> [ConfigCommand] {
        guard r.state.isActive else { return [] }
        if r.isOverFailureThreshold {
            let percent = Double(r.failedCount) * 100 / Double(r.daemons.count)
            let why = "\(r.failedCount) of \(r.daemons.count) daemons failed (\(Self.format(percent))%), over the \(Self.format(r.strategy.maxFailurePercent))% allowed"
            return stop(&r, as: .rolledBack, because: why, now: now)
        }
        return advance(&r, now: now)
    }

    /// While running and the current batch is done: start the next batch, or succeed.
    mutating func advance(_ r: inout Rollout, now: Int64) -> [ConfigCommand] {
        var out: [ConfigCommand] = []
        while r.state == .running, r.currentBatchIsDone {
            if r.currentBatch + 1 < r.batchCount {
                r.currentBatch += 1
                out += startBatch(&r, now: now)
            } else {
                out += succeed(&r, now: now)
            }
        }
        return out
    }

    /// Pushes the version to the online daemons of the current batch; the others are skipped.
    mutating func startBatch(_ r: inout Rollout, now: Int64) -> [ConfigCommand] {
        guard let doc = document(r.name, version: r.toVersion) else { return [] }
        let push = doc.push
        var out: [ConfigCommand] = []
        for i in r.indices(ofBatch: r.currentBatch) where r.daemons[i].state == .waiting {
            let id = r.daemons[i].id
            guard onlineIDs.contains(id), let daemon = known[id], doc.selector.matches(daemon) else {
                r.daemons[i].state = .skipped
                r.daemons[i].message = onlineIDs.contains(id) ? "no longer selected when its batch started" : "offline when its batch started"
                continue
            }
            r.daemons[i].state = .applying
            r.daemons[i].pushedAt = now
            r.daemons[i].deadline = now &+ r.strategy.applyTimeoutNanoseconds
            out.append(command(push, to: id, now: now))
        }
        return out
    }

    /// Every batch passed: the version becomes current and goes to the matching online daemons
    /// that were not pushed it by the rollout.
    private mutating func succeed(_ r: inout Rollout, now: Int64) -> [ConfigCommand] {
        r.state = .succeeded
        r.currentBatch = r.batchCount
        let failed = r.failedCount
        r.reason = failed == 0 ? "every batch passed" : "every batch passed with \(failed) of \(r.daemons.count) daemons failed"
        makeCurrent(r.name, r.toVersion)
        activeRollouts.removeValue(forKey: r.name)
        guard let doc = document(r.name, version: r.toVersion) else { return [] }
        let push = doc.push
        var out: [ConfigCommand] = []
        for id in onlineIDs.sorted() where !r.holdsNewVersion(id) {
            if let daemon = known[id], doc.selector.matches(daemon) { out.append(command(push, to: id, now: now)) }
        }
        return out
    }

    /// Stops the rollout and sends the last known good version to every daemon that was pushed
    /// the new one; with no last known good version, halts and pushes nothing.
    mutating func stop(_ r: inout Rollout, as state: RolloutState, because why: String, now: Int64) -> [ConfigCommand] {
        r.state = state
        activeRollouts.removeValue(forKey: r.name)
        let pushed = r.daemons.indices.filter { r.daemons[$0].pushedAt != nil && r.daemons[$0].state != .rolledBack }
        guard let good = current(r.name) else {
            setStatus(r.name, r.toVersion, .halted)
            r.reason = "\(why); no earlier good version of '\(r.name)' to roll back to: nothing was pushed, \(pushed.count) daemons keep version \(r.toVersion)"
            return []
        }
        setStatus(r.name, r.toVersion, .rolledBack)
        r.reason = "\(why): rolled back to version \(good.version)"
        let push = good.push
        var out: [ConfigCommand] = []
        for i in pushed {
            let id = r.daemons[i].id
            if let daemon = known[id], !good.selector.matches(daemon) {
                r.daemons[i].message = "version \(good.version) does not select it: it keeps version \(r.toVersion)"
                continue
            }
            // A failed daemon keeps its failure in the message: GET still shows why.
            let failure = r.daemons[i].state == .failed ? "\(r.daemons[i].message); " : ""
            r.daemons[i].state = .rolledBack
            if onlineIDs.contains(id) {
                r.daemons[i].message = "\(failure)rolled back to version \(good.version)"
                out.append(command(push, to: id, now: now))
            } else {
                r.daemons[i].message = "\(failure)offline: gets version \(good.version) when it connects"
            }
        }
        return out
    }
}
