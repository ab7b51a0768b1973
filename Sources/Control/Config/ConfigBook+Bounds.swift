extension ConfigBook {
    /// Drops the oldest versions of `name` past `maxVersions`, never the current version, a
    /// version an active rollout uses, or the newest one.
    mutating func trimVersions(of name: String) {
        guard var list = documents[name], list.count > maxVersions else { return }
        let rollout = activeRollout(of: name)
        let newest = list.last?.version
        var excess = list.count - maxVersions
        var kept: [ConfigDocument] = []
        kept.reserveCapacity(maxVersions)
        for doc in list {
            let protected = doc.status == .current || doc.status == .rollingOut || doc.version == newest
                || doc.version == rollout?.toVersion || doc.version == rollout?.fromVersion
            if excess > 0, !protected {
                excess -= 1
                droppedDocuments.append((name: name, version: doc.version))
                changedDocuments.remove(VersionKey(name: name, version: doc.version))
            } else {
                kept.append(doc)
            }
        }
        list = kept
        documents[name] = list
    }

    /// Drops the oldest finished rollouts past ``keptFinishedRollouts``.
    mutating func trimRollouts() {
        var finished = rolloutOrder.count - activeRollouts.count
        guard finished > Self.keptFinishedRollouts else { return }
        var kept: [String] = []
        for id in rolloutOrder {
            if finished > Self.keptFinishedRollouts, let r = rolloutsByID[id], !r.state.isActive {
                finished -= 1
                rolloutsByID.removeValue(forKey: id)
                changedRollouts.remove(id)
                droppedRollouts.append(id)
            } else {
                kept.append(id)
            }
        }
        rolloutOrder = kept
    }
}
