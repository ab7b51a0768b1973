@testable import Control
import Wire

/// Shared fixtures of the Task*Tests suites: times in seconds, specs, and command filters.
enum TaskFixture {
    static let lease: Int64 = 10_000_000_000
    /// The incarnation of every fixture daemon's sessions, unless a test says otherwise: one
    /// daemon process that keeps its state across reconnects.
    static let incarnation = DaemonIncarnation(0x1D)
    static let t0: Int64 = 1_800_000_000_000_000_000

    /// `t0 + seconds`.
    static func at(_ seconds: Double) -> Int64 { t0 + Int64(seconds * 1_000_000_000) }

    static func tail(_ stream: String = "app", selector: DaemonSelector = DaemonSelector()) -> TaskSpec {
        TaskSpec(kind: .tail, stream: stream, parameters: ["path": "/var/log/\(stream)/*.log"], selector: selector)
    }

    static func daemon(_ id: String, labels: [String: String] = [:], region: String = "default", throughput: Double = 0) -> DaemonCandidate {
        DaemonCandidate(id: id, labels: labels, region: region, throughput: throughput)
    }

    /// A book with `daemons` online at t0.
    static func book(daemons: [DaemonCandidate], maxTasks: Int = 100_000, retention: Int64 = 3_600_000_000_000) -> TaskBook {
        var book = TaskBook(leaseDuration: lease, maxTasks: maxTasks, terminatedRetention: retention)
        for d in daemons { _ = book.daemonOnline(d, incarnation: incarnation, now: t0) }
        return book
    }
}

extension [TaskCommand] {
    /// The assignments, in order.
    var assignments: [(daemon: String, TaskAssignment)] {
        compactMap { if case .assign(let d, let a) = $0 { (d, a) } else { nil } }
    }

    /// The controls, in order.
    var controls: [(daemon: String, TaskControl)] {
        compactMap { if case .control(let d, let c) = $0 { (d, c) } else { nil } }
    }

    /// `"<daemon>:<action>:<task>@<epoch>"` for controls, `"<daemon>:assign:<task>@<epoch>"` for assignments.
    var summary: [String] {
        map {
            switch $0 {
            case .assign(let d, let a): "\(d):assign:\(a.taskID)@\(a.epoch)"
            case .control(let d, let c): "\(d):\(c.action):\(c.taskID)@\(c.epoch)"
            }
        }
    }
}

extension TaskBook {
    /// Daemon id → number of tasks it holds, for the given daemons.
    func load(_ ids: [String]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: ids.map { ($0, tasks(heldBy: $0).count) })
    }
}
