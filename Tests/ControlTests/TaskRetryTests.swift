@testable import Control
import Platform
import WAL
import Wire
import Testing

/// Back-off for tasks that keep failing: the first failure is retried at once, then the wait
/// doubles from 2 s up to 128 s; a 10-minute run ends the streak.
@Suite struct TaskRetryTests {
    typealias F = TaskFixture

    /// A task running on d-1 or d-2 (both online), created and placed at `now`.
    static func placed(now: Int64 = F.t0) throws -> (TaskBook, String) {
        var book = F.book(daemons: [F.daemon("d-1"), F.daemon("d-2")])
        let task = try book.create(F.tail(), now: now)
        #expect(book.tick(now: now).assignments.count == 1)
        return (book, task.id)
    }

    /// The holder reports `failed` at `now`.
    static func fail(_ book: inout TaskBook, _ id: String, now: Int64) throws {
        let r = try #require(book.task(id))
        let lease = try #require(r.lease)
        let status = TaskStatus(taskID: id, epoch: lease.epoch, state: .failed, checkpoint: [:], message: "exit 1")
        #expect(book.report(status, from: lease.holder, now: now).isEmpty)
    }

    /// Ticks every 100 ms from `from` until the task is assigned again; the seconds it took.
    static func secondsUntilPlaced(_ book: inout TaskBook, from: Int64, limit: Double = 300) -> Double? {
        var t = from
        while t <= from + Int64(limit * 1e9) {
            if !book.tick(now: t).assignments.isEmpty { return Double(t - from) / 1e9 }
            t += 100_000_000
        }
        return nil
    }

    @Test func aTaskThatFailsEverywhereWaitsTwiceAsLongEachTime() throws {
        var (book, id) = try Self.placed()
        var now = F.at(1)
        var waits: [Double] = []
        for _ in 0 ..< 10 {
            try Self.fail(&book, id, now: now)
            let wait = try #require(Self.secondsUntilPlaced(&book, from: now))
            waits.append(wait)
            now += Int64(wait * 1e9) + 500_000_000  // runs half a second, then fails again
        }
        #expect(waits == [0, 2, 4, 8, 16, 32, 64, 128, 128, 128], "\(waits)")
        #expect(book.task(id)?.epoch == 11 && book.task(id)?.retryAt == nil, "placed again: no retry time left")
    }

    @Test func theRetryTimeIsOnTheRecordWhileItWaits() throws {
        var (book, id) = try Self.placed()
        try Self.fail(&book, id, now: F.at(1))
        #expect(book.task(id)?.retryAt == nil, "the first failure is retried at once")
        _ = book.tick(now: F.at(1))
        try Self.fail(&book, id, now: F.at(2))
        let r = try #require(book.task(id))
        #expect(r.state == .pending && r.retryAt == F.at(4) && r.lastError?.contains("exit 1") == true)
        #expect(book.takeChanges().records.contains { $0.id == id && $0.retryAt == F.at(4) }, "the retry time is persisted")
    }

    @Test func aTenMinuteRunEndsTheStreak() throws {
        var (book, id) = try Self.placed()
        try Self.fail(&book, id, now: F.at(1))
        _ = book.tick(now: F.at(1))
        try Self.fail(&book, id, now: F.at(2))
        #expect(Self.secondsUntilPlaced(&book, from: F.at(2)) == 2)
        // Runs for ten minutes, renewed by its holder's heartbeats.
        let holder = try #require(book.task(id)?.lease?.holder)
        var t = F.at(4)
        while t < F.at(4 + 600) {
            t += 5_000_000_000
            book.heartbeat(from: holder, now: t)
            #expect(book.tick(now: t).isEmpty)
        }
        try Self.fail(&book, id, now: t)
        #expect(book.task(id)?.retryAt == nil)
        #expect(Self.secondsUntilPlaced(&book, from: t) == 0, "a failure after a healthy run is retried at once")
    }

    @Test func theBackOffSurvivesARestart() throws {
        var (book, id) = try Self.placed()
        try Self.fail(&book, id, now: F.at(1))
        _ = book.tick(now: F.at(1))
        try Self.fail(&book, id, now: F.at(2))
        var restored = TaskBook(restoring: book.tasks, leaseDuration: F.lease, now: F.at(3))
        _ = restored.daemonOnline(F.daemon("d-1"), incarnation: F.incarnation, now: F.at(3))
        _ = restored.daemonOnline(F.daemon("d-2"), incarnation: F.incarnation, now: F.at(3))
        #expect(restored.tick(now: F.at(3.9)).isEmpty, "still backing off after the restart")
        #expect(restored.tick(now: F.at(4)).assignments.map(\.1.taskID) == [id])
    }

    @Test func suspendResumeAndTerminateEndTheBackOff() throws {
        var (book, id) = try Self.placed()
        try Self.fail(&book, id, now: F.at(1))
        _ = book.tick(now: F.at(1))
        try Self.fail(&book, id, now: F.at(2))
        _ = try book.suspend(id, now: F.at(2.5))
        #expect(book.task(id)?.state == .suspended && book.task(id)?.retryAt == nil)
        #expect(book.tick(now: F.at(4)).isEmpty, "the old retry time does not place a suspended task")
        _ = try book.resume(id, now: F.at(5))
        #expect(book.tick(now: F.at(5)).assignments.map(\.1.taskID) == [id], "resumed by hand: placed at once")

        try Self.fail(&book, id, now: F.at(6))
        #expect(book.task(id)?.retryAt == F.at(10), "the streak goes on: third failure in a row, 4 s")
        _ = try book.terminate(id, now: F.at(7))
        #expect(book.task(id)?.state == .terminated && book.task(id)?.retryAt == nil)
        #expect(book.tick(now: F.at(20)).isEmpty, "a terminated task is never placed again")
    }
}
