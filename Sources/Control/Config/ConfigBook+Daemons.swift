import Platform
import WAL
public import Wire

extension ConfigBook {
    /// A daemon connected (HELLO): it is pushed, for each name, the version meant for it.
    ///
    /// That is the rollout's version when the daemon is in a started batch of a running or
    /// paused rollout (and was pushed it), else the current (last known good) version when its
    /// selector matches the daemon. Daemons outside a rollout get the previous version until
    /// the rollout succeeds. A reconnect does not restart the daemon's apply timeout.
    /// - Returns: the pushes to send on its connection, ordered by name.
    public mutating func daemonOnline(_ daemon: DaemonCandidate, now: Int64) -> [ConfigCommand] {
        see([daemon])
        var out: [ConfigCommand] = []
        for name in documents.keys.sorted() {
            if let r = activeRollout(of: name), r.holdsNewVersion(daemon.id), let doc = document(name, version: r.toVersion),
               doc.selector.matches(daemon) {
                out.append(command(doc.push, to: daemon.id, now: now))
            } else if let doc = current(name), doc.selector.matches(daemon) {
                out.append(command(doc.push, to: daemon.id, now: now))
            }
        }
        return out
    }

    /// A daemon's connection closed.
    ///
    /// Nothing fails at once: a daemon of a started batch that went offline fails by its apply
    /// timeout (not applied yet) or by its health gate (applied: Offline is not Healthy), and
    /// a daemon of a later batch is skipped if it is still offline when its batch starts.
    public mutating func daemonOffline(_ id: String, now: Int64) {
        onlineIDs.remove(id)
    }

    /// Drops everything known about a daemon (its labels and states); rollouts keep their entry.
    public mutating func forget(_ daemonID: String) {
        known.removeValue(forKey: daemonID)
        onlineIDs.remove(daemonID)
        statesByDaemon.removeValue(forKey: daemonID)
    }

    /// A daemon's CONFIG_STATUS: records it, and moves the daemon on in an active rollout.
    ///
    /// In a rollout, for the rollout's version: `applied` with the right hash makes the daemon
    /// applied (its gate starts once it is Healthy); `failed`, or any report with another hash,
    /// makes it failed. A failed daemon stays failed. Reports about other versions are only
    /// recorded. A failure past the threshold rolls the rollout back here; a batch whose last
    /// daemon fails may start the next batch here.
    /// - Returns: the pushes to send (rollback or next batch).
    public mutating func report(_ status: ConfigStatus, from daemonID: String, now: Int64) -> [ConfigCommand] {
        statesByDaemon[daemonID, default: [:]][status.name] = DaemonConfigState(
            name: status.name, version: status.version, hash: status.hash, state: ConfigApplyStatus(status.state), message: status.message, at: now)
        guard var r = activeRollout(of: status.name), r.toVersion == status.version, let i = r.index(of: daemonID), r.daemons[i].pushedAt != nil,
              let doc = document(r.name, version: r.toVersion)
        else { return [] }
        let before = r
        switch r.daemons[i].state {
        case .applying, .applied, .gated:
            if status.hash != doc.hash {
                r.daemons[i].state = .failed
                r.daemons[i].message = "reported hash \(status.hash) for version \(status.version), expected \(doc.hash)"
            } else {
                switch status.state {
                case .applying:
                    if r.daemons[i].state == .applying { r.daemons[i].message = status.message }
                case .applied:
                    if r.daemons[i].state == .applying {
                        r.daemons[i].state = .applied
                        r.daemons[i].appliedAt = now
                        r.daemons[i].message = status.message
                    }
                case .failed:
                    r.daemons[i].state = .failed
                    r.daemons[i].message = status.message.isEmpty ? "reported failed" : "reported failed: \(status.message)"
                }
            }
        default:
            return []
        }
        let commands = settle(&r, now: now)
        if r != before {
            r.updatedAt = now
            store(r)
        }
        return commands
    }
}
