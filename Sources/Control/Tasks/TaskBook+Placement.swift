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
    /// the least-loaded one (the next one when that is the daemon it should avoid). Groups with
    /// fewer eligible daemons go first, so the tasks with the least choice get it. A group with
    /// no eligible daemon stays pending and is not looked at again until a daemon comes online.
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
            for serial in group.serials where records[serial]?.state == .pending {
                var best = heap.pop()!
                if let avoid = records[serial]!.avoidedHolder, avoid == roster[best.rank], var second = heap.pop() {
                    heap.push(best)
                    swap(&best, &second)
                }
                out.append(grant(serial, to: roster[best.rank], now: now))
                best.held += 1
                heap.push(best)
            }
            pending[group.selector] = nil
        }
    }
}
