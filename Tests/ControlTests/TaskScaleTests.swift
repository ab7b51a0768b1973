@testable import Control
import Platform
import WAL
import Wire
import Testing

/// The book at fleet size, with its work checked by counts (not by time): 10,000 daemons,
/// 50,000 tasks, 1,000 daemons lost at once.
@Suite struct TaskScaleTests {
    typealias F = TaskFixture
    static let regions = ["r0", "r1", "r2", "r3"]

    /// Tasks held → number of daemons holding that many.
    static func histogram(_ load: [Int]) -> [Int: Int] { load.reduce(into: [:]) { $0[$1, default: 0] += 1 } }

    @Test func heartbeatsAndIdleTicksDoNotScanTheBook() throws {
        var book = F.book(daemons: (0 ..< 100).map { F.daemon("d-\($0)") })
        for i in 0 ..< 1000 { _ = try book.create(F.tail("s\(i)"), now: F.t0) }
        _ = book.tick(now: F.t0)
        book.work = TaskBookWork()
        book.heartbeat(from: "d-7", now: F.at(1))
        #expect(book.work == TaskBookWork(taskVisits: 10, daemonVisits: 0), "a heartbeat visits the 10 tasks its daemon holds")
        book.work = TaskBookWork()
        for s in 1 ... 9 { #expect(book.tick(now: F.at(Double(s))).isEmpty) }
        #expect(book.work == TaskBookWork(), "ticks with nothing due look at nothing")
        // A pending task nobody can take is looked at once, not at every tick.
        _ = try book.create(F.tail("nowhere", selector: DaemonSelector(region: "mars")), now: F.at(9))
        _ = book.tick(now: F.at(9))
        book.work = TaskBookWork()
        _ = book.tick(now: F.at(9.5))
        #expect(book.work == TaskBookWork(), "a blocked selector group waits for a daemon to come online")
    }

    @Test func losingAThousandDaemonsReassignsTheirTasksInOneTick() throws {
        let clock = ContinuousClock()
        let started = clock.now
        let daemonCount = 10_000
        let taskCount = 50_000
        var book = TaskBook(leaseDuration: F.lease, maxTasks: taskCount)
        for i in 0 ..< daemonCount {
            _ = book.daemonOnline(F.daemon("d-\(i)", labels: ["pool": i % 2 == 0 ? "even" : "odd"], region: Self.regions[i % 4]), incarnation: F.incarnation, now: F.t0)
        }
        for i in 0 ..< taskCount {
            // Half may run anywhere; the rest are pinned to a region or a label.
            let selector: DaemonSelector = switch i % 4 {
            case 0, 1: DaemonSelector()
            case 2: DaemonSelector(region: Self.regions[(i / 4) % 4])
            default: DaemonSelector(labels: ["pool": i % 8 == 3 ? "even" : "odd"])
            }
            _ = try book.create(F.tail("s\(i % 97)", selector: selector), now: F.t0)
        }
        book.work = TaskBookWork()
        let placed = book.tick(now: F.t0)
        #expect(placed.assignments.count == taskCount)
        // Seven selector groups (any, four regions, two pools): each scans the daemons once.
        #expect(book.work.daemonVisits <= 7 * daemonCount, "daemon visits \(book.work.daemonVisits)")
        #expect(book.work.taskVisits <= taskCount, "task visits \(book.work.taskVisits)")
        let load = (0 ..< daemonCount).map { book.daemons["d-\($0)"]?.held.count ?? 0 }
        #expect(load.min() == 5 && load.max() == 5, "even spread: \(Self.histogram(load))")

        // Every tenth daemon dies; the others heartbeat.
        let lost = Set(stride(from: 0, to: daemonCount, by: 10).map { "d-\($0)" })
        let orphaned = lost.flatMap { book.tasks(heldBy: $0).map(\.id) }
        #expect(orphaned.count == 5000)
        book.work = TaskBookWork()
        for i in 0 ..< daemonCount {
            let id = "d-\(i)"
            if lost.contains(id) { book.daemonOffline(id, now: F.at(5)) } else { book.heartbeat(from: id, now: F.at(5)) }
        }
        #expect(book.work.taskVisits == taskCount - 5000, "heartbeats visit only held tasks")
        book.work = TaskBookWork()
        #expect(book.tick(now: F.at(9.9)).isEmpty)
        #expect(book.work == TaskBookWork())

        let out = book.tick(now: F.at(10))
        #expect(out.controls.isEmpty, "lost daemons are offline: no revoke to send")
        #expect(out.assignments.count == 5000)
        #expect(book.work.taskVisits <= 3 * 5000, "task visits \(book.work.taskVisits)")
        #expect(book.work.daemonVisits <= daemonCount + 7 * (daemonCount - 1000), "daemon visits \(book.work.daemonVisits)")
        for id in orphaned {
            let r = try #require(book.task(id))
            #expect(r.state == .running && r.epoch == 2, "\(id) is \(r.state) at epoch \(r.epoch)")
            #expect(r.lease.map { !lost.contains($0.holder) } == true, "\(id) went to a lost daemon")
        }
        // No task is held by two daemons, and every holder agrees with its records.
        var seen = Set<UInt64>()
        for (id, daemon) in book.daemons {
            for serial in daemon.held {
                #expect(seen.insert(serial).inserted, "t-\(serial) held twice")
                #expect(book.records[serial]?.lease?.holder == id)
            }
        }
        #expect(seen.count == taskCount)
        #expect(book.counts == [.running: taskCount])
        let survivors = (0 ..< daemonCount).filter { $0 % 10 != 0 }.map { book.daemons["d-\($0)"]?.held.count ?? 0 }
        #expect(survivors.min() == 5 && survivors.max() == 6, "5000 tasks over 9000 daemons: \(Self.histogram(survivors))")
        #expect(book.daemons.count == daemonCount - 1000, "lost daemons holding nothing are forgotten")
        print("TaskScaleTests: 10k daemons × 50k tasks, 1k lost, in \(clock.now - started)")
    }
}
