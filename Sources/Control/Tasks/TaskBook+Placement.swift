extension TaskBook {
    /// A daemon's load as the scheduler sees it: fewest tasks held first, then lowest
    /// throughput, then daemon id (so placement is deterministic). `rank` is the daemon's
    /// position in the sorted ``TaskBook/roster``, so the heap compares numbers only.
    struct Load: Comparable, Sendable {
        var held: Int
        var throughput: Double
        var rank: Int
        static func < (a: Load, b: Load) -> Bool {
            if a.held != b.held { return a.held < b.held }
            if a.throughput != b.throughput { return a.throughput < b.throughput }
            return a.rank < b.rank
        }
    }

    /// Places pending tasks, one selector group at a time: the group's eligible daemons
    /// (online, matching) are found once and kept in a min-heap by ``Load``; each task takes
    /// the least-loaded one that can take it (``choose(_:from:roster:)``). Groups with
    /// fewer eligible daemons go first, so the tasks with the least choice get it. A group with
    /// no eligible daemon stays pending and is not looked at again until a daemon comes online;
    /// `listen` tasks that no eligible daemon can take for their port stay pending and are
    /// looked at again at every tick.
    /// - Complexity: per group placed, O(daemons + t log daemons) for its t tasks.
    mutating func place(now: Int64, into out: inout [TaskCommand]) {
        guard !pending.isEmpty else { return }
        if roster == nil { roster = daemons.compactMap { $0.value.online ? $0.key : nil }.sorted() }
        let roster = roster!
        var groups: [(selector: DaemonSelector, serials: [UInt64], eligible: [Int])] = []
        for (selector, group) in pending where group.blockedAt != onlineGeneration {
            work.taskVisits += group.serials.count
            var eligible: [Int] = []
            for rank in roster.indices {
                work.daemonVisits += 1
                if selector.matches(daemons[roster[rank]]!.candidate) { eligible.append(rank) }
            }
            if eligible.isEmpty {
                pending[selector]?.blockedAt = onlineGeneration
            } else {
                groups.append((selector, group.serials.sorted(), eligible))
            }
        }
        groups.sort { $0.eligible.count != $1.eligible.count ? $0.eligible.count < $1.eligible.count : $0.serials[0] < $1.serials[0] }
        for group in groups {
            var heap = TaskHeap(group.eligible.map { rank in
                let d = daemons[roster[rank]]!
                return Load(held: d.held.count, throughput: d.candidate.throughput, rank: rank)
            })
            var unplaced: Set<UInt64> = []
            for serial in group.serials where records[serial]?.state == .pending {
                guard var best = choose(serial, from: &heap, roster: roster) else {
                    unplaced.insert(serial)
                    continue
                }
                out.append(grant(serial, to: roster[best.rank], now: now))
                best.held += 1
                heap.push(best)
            }
            pending[group.selector] = unplaced.isEmpty ? nil : TaskPendingGroup(serials: unplaced)
        }
    }

    /// Pops the least-loaded daemon of `heap` that can take the task, putting the others back:
    /// one that does not already hold a `listen` task on the same socket (two TCP listeners, or
    /// two UDP listeners, cannot share a port on one host, whatever their address; a TCP and a
    /// UDP listener can, ``TaskSpec/listenSocket``), and not the holder the
    /// task should avoid (``TaskRecord/avoidedHolder``) unless no other daemon can take it.
    /// - Returns: `nil` when no daemon in the heap can take it.
    /// - Complexity: O(log daemons) unless daemons are skipped; each skip costs one more pop.
    func choose(_ serial: UInt64, from heap: inout TaskHeap<Load>, roster: [String]) -> Load? {
        let r = records[serial]!
        let socket = r.spec.listenSocket
        var skipped: [Load] = []
        var avoided: Load?
        var chosen: Load?
        while let candidate = heap.pop() {
            let id = roster[candidate.rank]
            if let socket, holdsListener(on: socket, id) {
                skipped.append(candidate)
            } else if id == r.avoidedHolder, avoided == nil {
                avoided = candidate
            } else {
                chosen = candidate
                break
            }
        }
        if chosen == nil {
            chosen = avoided
        } else if let avoided {
            heap.push(avoided)
        }
        for load in skipped { heap.push(load) }
        return chosen
    }

    /// Whether daemon `id` holds a `listen` task on `socket` (``TaskSpec/listenSocket``).
    func holdsListener(on socket: String, _ id: String) -> Bool {
        daemons[id]?.held.contains { records[$0]?.spec.listenSocket == socket } ?? false
    }
}
