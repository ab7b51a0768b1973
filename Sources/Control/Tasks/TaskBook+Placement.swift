extension TaskBook {
    /// A daemon's load as the scheduler sees it: fewest tasks held first, then lowest
    /// throughput, then daemon id (so placement is deterministic).
    struct Load: Comparable, Sendable {
        var held: Int
        var throughput: Double
        var id: String
        static func < (a: Load, b: Load) -> Bool {
            if a.held != b.held { return a.held < b.held }
            if a.throughput != b.throughput { return a.throughput < b.throughput }
            return a.id < b.id
        }
    }

    /// Places pending tasks, one selector group at a time: the group's eligible daemons
    /// (online, matching) are found once and kept in a min-heap by ``Load``; each task takes
    /// the least-loaded one (the next one when that is the daemon it should avoid). A group
    /// with no eligible daemon stays pending and is not looked at again until a daemon comes
    /// online.
    /// - Complexity: per group placed, O(daemons + t log daemons) for its t tasks.
    mutating func place(now: Int64, into out: inout [TaskCommand]) {
        guard !pending.isEmpty else { return }
        var groups: [(first: UInt64, selector: DaemonSelector, serials: [UInt64])] = []
        for (selector, group) in pending where group.blockedAt != onlineGeneration {
            work.taskVisits += group.serials.count
            let serials = group.serials.sorted()
            groups.append((serials[0], selector, serials))
        }
        groups.sort { $0.first < $1.first }
        for group in groups {
            var eligible: [Load] = []
            for (id, daemon) in daemons {
                work.daemonVisits += 1
                guard daemon.online, group.selector.matches(daemon.candidate) else { continue }
                eligible.append(Load(held: daemon.held.count, throughput: daemon.candidate.throughput, id: id))
            }
            guard !eligible.isEmpty else {
                pending[group.selector]?.blockedAt = onlineGeneration
                continue
            }
            var heap = TaskHeap(eligible)
            for serial in group.serials {
                var best = heap.pop()!
                if let avoid = records[serial]?.avoidedHolder, avoid == best.id, var second = heap.pop() {
                    heap.push(best)
                    swap(&best, &second)
                }
                out.append(grant(serial, to: best.id, now: now))
                best.held += 1
                heap.push(best)
            }
            pending[group.selector] = nil
        }
    }
}
