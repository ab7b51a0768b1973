extension TaskBook {
    /// The first back-off, doubled for every further failure in a row: 2 s after the second,
    /// 4 s after the third, … 128 s after the eighth and later (``TaskRecord/historyLimit``).
    static let retryBase: Int64 = 1_000_000_000
    /// An assignment that ran this long before it failed ends a streak of failures (10 min).
    static let healthyRun: Int64 = 600_000_000_000

    /// How long a task that just failed waits before it is placed again, in nanoseconds.
    ///
    /// The streak is the number of assignments at the end of `history` that failed within
    /// ``healthyRun`` of being granted. The first failure is retried at once (on another
    /// daemon when one is eligible: it may be that daemon's fault); from the second on the wait
    /// doubles from 2 s. So a task that fails on every daemon settles at one attempt every two
    /// minutes instead of moving at every tick, and one that ran for 10 minutes starts over.
    static func retryDelay(after history: [TaskAssignmentRecord]) -> Int64 {
        var streak = 0
        for entry in history.reversed() {
            guard entry.end == .failed, let until = entry.until, until &- entry.from < healthyRun else { break }
            streak += 1
        }
        return streak < 2 ? 0 : retryBase << (streak - 1)
    }

    /// Pending tasks whose back-off ended join the placement queue.
    mutating func endBackoffs(now: Int64) {
        while let top = retryTimers.min, top.at <= now {
            retryTimers.pop()
            work.taskVisits += 1
            guard let r = records[top.serial], r.state == .pending, r.retryAt == top.at else { continue }
            enqueue(top.serial, r.spec.selector)
        }
    }
}
