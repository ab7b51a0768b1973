@testable import Control
import Platform
import WAL
import Wire
import Testing

/// Leases: renewal, lapse and reassignment, fencing, reports, suspend/terminate/resume,
/// restore grace, limits, retention and change tracking.
@Suite struct TaskLeaseTests {
    typealias F = TaskFixture

    /// One task running on d-1 at epoch 1 (granted at t0), with d-2 online too.
    static func running() throws -> (TaskBook, TaskRecord) {
        var book = F.book(daemons: [F.daemon("d-1"), F.daemon("d-2", throughput: 1)])
        let task = try book.create(F.tail(), now: F.t0)
        #expect(book.tick(now: F.t0).summary == ["d-1:assign:\(task.id)@1"])
        return (book, try #require(book.task(task.id)))
    }

    static func status(_ task: TaskRecord, _ state: TaskReportState, epoch: UInt64? = nil, checkpoint: [String: String] = [:], message: String = "") -> TaskStatus {
        TaskStatus(taskID: task.id, epoch: epoch ?? task.epoch, state: state, checkpoint: checkpoint, message: message)
    }

    @Test func heartbeatRenewsEveryLeaseTheDaemonHolds() throws {
        var (book, task) = try Self.running()
        let second = try book.create(F.tail("two"), now: F.at(1))
        book.daemonOffline("d-2", now: F.at(1))
        _ = book.tick(now: F.at(1))
        #expect(book.tasks(heldBy: "d-1").map(\.id) == [task.id, second.id])
        book.heartbeat(from: "d-1", now: F.at(8))
        #expect(book.tasks(heldBy: "d-1").map(\.lease?.expiresAt) == [F.at(18), F.at(18)])
        #expect(book.tick(now: F.at(12)).isEmpty, "renewed at 8 s: nothing lapses at 12 s")
        #expect(book.task(task.id)?.state == .running)
    }

    @Test func lapsedLeaseIsReassignedElsewhereWithTheNextEpochAndCheckpoint() throws {
        var (book, task) = try Self.running()
        #expect(book.report(Self.status(task, .running, checkpoint: ["2049:77": "4096"]), from: "d-1", now: F.at(2)).isEmpty)
        book.heartbeat(from: "d-1", now: F.at(5))
        book.heartbeat(from: "d-2", now: F.at(5))
        #expect(book.tick(now: F.at(14.9)).isEmpty, "renewed at 5 s: lease ends at 15 s")
        let out = book.tick(now: F.at(15))
        #expect(out.summary == ["d-1:revoke:\(task.id)@1", "d-2:assign:\(task.id)@2"])
        let a = try #require(out.assignments.first?.1)
        #expect(a.checkpoint == ["2049:77": "4096"], "resumes from the last checkpoint")
        #expect(a.producerID == TaskProducerID.make(serial: task.serial, epoch: 2))
        let r = try #require(book.task(task.id))
        #expect(r.state == .running && r.epoch == 2 && r.lease?.holder == "d-2")
        #expect(r.history.map(\.end) == [.lapsed, nil])
        #expect(r.history.first?.until == F.at(15))
    }

    @Test func lapsedTaskWaitsWhenNoOtherDaemonIsEligible() throws {
        var (book, task) = try Self.running()
        book.daemonOffline("d-1", now: F.at(1))
        book.daemonOffline("d-2", now: F.at(1))
        #expect(book.tick(now: F.at(10)).isEmpty, "holder offline: no revoke, nobody to assign to")
        #expect(book.task(task.id)?.state == .pending && book.task(task.id)?.lease == nil)
        #expect(book.tick(now: F.at(11)).isEmpty)
        _ = book.daemonOnline(F.daemon("d-1"), incarnation: F.incarnation, now: F.at(20))
        #expect(book.tick(now: F.at(20)).summary == ["d-1:assign:\(task.id)@2"], "the lost holder is used when it is the only one")
    }

    @Test func fenceAdmitsOnlyTheHolderAtTheCurrentEpoch() throws {
        var (book, task) = try Self.running()
        let p1 = TaskProducerID.make(serial: task.serial, epoch: 1)
        #expect(book.fence(daemonID: "d-1", producerID: p1) == .admitted)
        #expect(book.fence(daemonID: "d-3", producerID: p1) == .refused("daemon d-3 does not hold task \(task.id)"))
        book.heartbeat(from: "d-2", now: F.at(9))
        _ = book.tick(now: F.at(10))
        #expect(book.task(task.id)?.epoch == 2)
        #expect(book.fence(daemonID: "d-1", producerID: p1) == .refused("task \(task.id) is at epoch 2; this batch is from epoch 1"))
        #expect(book.fence(daemonID: "d-2", producerID: TaskProducerID.make(serial: task.serial, epoch: 2)) == .admitted)
        #expect(book.fence(daemonID: "d-2", producerID: TaskProducerID.make(serial: 99, epoch: 1)) == .refused("task t-99 does not exist"))
        #expect(book.fence(daemonID: "d-2", producerID: 42) == .refused("producer id 42 is not a task's"))
    }

    @Test func staleReportsAreAnsweredWithRevoke() throws {
        var (book, task) = try Self.running()
        book.heartbeat(from: "d-2", now: F.at(9))
        _ = book.tick(now: F.at(10))     // now on d-2 at epoch 2
        _ = book.takeChanges()
        let old = book.report(Self.status(task, .running, epoch: 1, checkpoint: ["1:1": "999"]), from: "d-1", now: F.at(11))
        #expect(old.summary == ["d-1:revoke:\(task.id)@1"])
        #expect(book.task(task.id)?.checkpoint == [:], "a stale report's checkpoint is not taken")
        #expect(book.report(Self.status(task, .running, epoch: 2), from: "d-3", now: F.at(11)).summary == ["d-3:revoke:\(task.id)@2"])
        let unknown = TaskStatus(taskID: "t-404", epoch: 7, state: .running)
        #expect(book.report(unknown, from: "d-2", now: F.at(11)).summary == ["d-2:revoke:t-404@7"])
        #expect(book.takeChanges().isEmpty)
    }

    @Test func runningReportStoresTheCheckpointAndRenews() throws {
        var (book, task) = try Self.running()
        _ = book.takeChanges()
        #expect(book.report(Self.status(task, .running, checkpoint: ["8:9": "10"]), from: "d-1", now: F.at(7)).isEmpty)
        #expect(book.task(task.id)?.lease?.expiresAt == F.at(17))
        let changes = book.takeChanges()
        #expect(changes.records.isEmpty && changes.checkpoints == [task.id: ["8:9": "10"]])
        _ = book.report(Self.status(task, .running), from: "d-1", now: F.at(8))
        #expect(book.task(task.id)?.checkpoint == ["8:9": "10"], "an empty checkpoint keeps the last one")
        #expect(book.takeChanges().isEmpty)
    }

    @Test func suspendAndTerminateAreAcknowledged() throws {
        var (book, task) = try Self.running()
        #expect(try book.suspend(task.id, now: F.at(1)).summary == ["d-1:suspend:\(task.id)@1"])
        #expect(book.task(task.id)?.state == .suspending)
        #expect(try book.suspend(task.id, now: F.at(1)).isEmpty, "suspend is idempotent")
        book.heartbeat(from: "d-1", now: F.at(5))
        #expect(book.task(task.id)?.lease?.expiresAt == F.at(11), "a suspending lease is not renewed")
        #expect(book.fence(daemonID: "d-1", producerID: task.producerID) == .admitted, "data until the acknowledgement still counts")
        _ = book.report(Self.status(task, .suspended, checkpoint: ["1:2": "300"]), from: "d-1", now: F.at(2))
        var r = try #require(book.task(task.id))
        #expect(r.state == .suspended && r.lease == nil && r.checkpoint == ["1:2": "300"])
        #expect(r.history.last?.end == .suspended)
        #expect(book.tasks(heldBy: "d-1").isEmpty)
        #expect(book.fence(daemonID: "d-1", producerID: task.producerID) == .refused("task \(task.id) is suspended; it has no lease"))
        // Resume: pending, then placed with epoch + 1 from the kept checkpoint.
        #expect(throws: TaskError.self) { _ = try book.resume("t-404", now: F.at(3)) }
        _ = try book.resume(task.id, now: F.at(3))
        #expect(book.task(task.id)?.state == .pending)
        let out = book.tick(now: F.at(3))
        #expect(out.assignments.map(\.1.epoch) == [2])
        #expect(out.assignments.first?.1.checkpoint == ["1:2": "300"])
        r = try #require(book.task(task.id))
        let holder = try #require(r.lease?.holder)
        #expect(try book.terminate(task.id, now: F.at(4)).summary == ["\(holder):terminate:\(task.id)@2"])
        _ = book.report(Self.status(r, .terminated), from: holder, now: F.at(5))
        #expect(book.task(task.id)?.state == .terminated)
        #expect(book.task(task.id)?.history.last?.end == .terminated)
        #expect(book.counts == [.terminated: 1])
    }

    @Test func unacknowledgedSuspendIsCleanedUpWhenTheLeaseEnds() throws {
        var (book, task) = try Self.running()
        _ = try book.suspend(task.id, now: F.at(3))
        book.heartbeat(from: "d-1", now: F.at(8))
        #expect(book.tick(now: F.at(12.9)).isEmpty)
        #expect(book.tick(now: F.at(13)).summary == ["d-1:revoke:\(task.id)@1"])
        let r = try #require(book.task(task.id))
        #expect(r.state == .suspended && r.lease == nil && r.history.last?.end == .unacknowledged)
        #expect(book.fence(daemonID: "d-1", producerID: task.producerID) != .admitted)
        // A late acknowledgement is stale now.
        #expect(book.report(Self.status(task, .suspended), from: "d-1", now: F.at(14)).summary == ["d-1:revoke:\(task.id)@1"])
    }

    @Test func unacknowledgedTerminateIsCleanedUpWhenTheLeaseEnds() throws {
        var (book, task) = try Self.running()
        #expect(try book.terminate(task.id, now: F.at(2)).summary == ["d-1:terminate:\(task.id)@1"])
        #expect(try book.terminate(task.id, now: F.at(2)).isEmpty)
        #expect(throws: TaskError(.conflict, "task \(task.id) is terminating; it cannot be suspended")) { _ = try book.suspend(task.id, now: F.at(2)) }
        #expect(book.tick(now: F.at(12)).summary == ["d-1:revoke:\(task.id)@1"])
        #expect(book.task(task.id)?.state == .terminated)
        #expect(book.fence(daemonID: "d-1", producerID: task.producerID) == .refused("task \(task.id) is terminated; it has no lease"))
    }

    @Test func terminateWhileSuspendingKeepsTheLeaseEndAndFailureAcknowledges() throws {
        var (book, task) = try Self.running()
        _ = try book.suspend(task.id, now: F.at(2))
        #expect(try book.terminate(task.id, now: F.at(6)).summary == ["d-1:terminate:\(task.id)@1"])
        #expect(book.task(task.id)?.lease?.expiresAt == F.at(12), "the suspend's lease end stays")
        _ = book.report(Self.status(task, .failed, message: "kill timed out"), from: "d-1", now: F.at(7))
        let r = try #require(book.task(task.id))
        #expect(r.state == .terminated && r.lastError == "failed on d-1 while terminating: kill timed out")
        #expect(book.tick(now: F.at(12)).isEmpty, "acknowledged: no revoke at the old lease end")
    }

    @Test func pendingAndSuspendedTasksStopAtOnce() throws {
        var book = TaskBook(leaseDuration: F.lease)
        let a = try book.create(F.tail("a"), now: F.t0)
        let b = try book.create(F.tail("b"), now: F.t0)
        #expect(try book.suspend(a.id, now: F.at(1)).isEmpty)
        #expect(book.task(a.id)?.state == .suspended)
        #expect(try book.terminate(a.id, now: F.at(2)).isEmpty)
        #expect(try book.terminate(b.id, now: F.at(2)).isEmpty)
        #expect(book.counts == [.terminated: 2])
        #expect(throws: TaskError(.conflict, "task \(a.id) is terminated; it cannot be suspended")) { _ = try book.suspend(a.id, now: F.at(3)) }
        #expect(throws: TaskError(.conflict, "task \(a.id) is already terminated")) { _ = try book.terminate(a.id, now: F.at(3)) }
        #expect(throws: TaskError(.conflict, "task \(a.id) is terminated; only a suspended task can be resumed")) { _ = try book.resume(a.id, now: F.at(3)) }
        let c = try book.create(F.tail("c"), now: F.at(3))
        #expect(throws: TaskError(.conflict, "task \(c.id) is pending; only a suspended task can be resumed")) { _ = try book.resume(c.id, now: F.at(3)) }
        _ = try book.suspend(c.id, now: F.at(3))
        _ = book.daemonOnline(F.daemon("d-1"), incarnation: F.incarnation, now: F.at(4))
        #expect(book.tick(now: F.at(4)).isEmpty, "suspended and terminated tasks are not placed")
        #expect(throws: TaskError(.notFound, "no task t-9")) { _ = try book.terminate("t-9", now: F.at(4)) }
    }

    @Test func failedReportMovesTheTaskToAnotherDaemon() throws {
        var (book, task) = try Self.running()
        #expect(book.report(Self.status(task, .failed, message: "permission denied"), from: "d-1", now: F.at(2)).isEmpty)
        var r = try #require(book.task(task.id))
        #expect(r.state == .pending && r.lastError == "failed on d-1: permission denied")
        #expect(book.tasks(heldBy: "d-1").isEmpty)
        #expect(book.tick(now: F.at(2)).summary == ["d-2:assign:\(task.id)@2"], "d-1 would win on load; the failed holder is avoided")
        r = try #require(book.task(task.id))
        // Stopping unasked counts as a failure too; a second one in a row backs off 2 s.
        _ = book.report(Self.status(r, .terminated, message: "file gone"), from: "d-2", now: F.at(3))
        #expect(book.task(task.id)?.lastError == "d-2 stopped the task unasked (reported terminated): file gone")
        #expect(book.task(task.id)?.retryAt == F.at(5))
        #expect(book.tick(now: F.at(4.9)).isEmpty, "backing off")
        #expect(book.tick(now: F.at(5)).summary == ["d-1:assign:\(task.id)@3"])
    }

    @Test func reconnectResendsWhatTheDaemonHolds() throws {
        var (book, task) = try Self.running()
        let other = try book.create(F.tail("two", selector: DaemonSelector(labels: ["only": "d-1"])), now: F.t0)
        _ = book.daemonOnline(F.daemon("d-1", labels: ["only": "d-1"]), incarnation: F.incarnation, now: F.at(1))
        _ = book.tick(now: F.at(1))
        _ = try book.suspend(other.id, now: F.at(2))
        book.daemonOffline("d-1", now: F.at(3))
        let out = book.daemonOnline(F.daemon("d-1", labels: ["only": "d-1"]), incarnation: F.incarnation, now: F.at(4))
        #expect(out.summary == ["d-1:assign:\(task.id)@1", "d-1:suspend:\(other.id)@1"])
        #expect(book.task(task.id)?.lease?.expiresAt == F.at(14), "a session opening counts as a heartbeat")
    }

    @Test func restoreGivesGraceAndMovesNothingWhenHoldersReturn() throws {
        var (book, task) = try Self.running()
        _ = book.report(Self.status(task, .running, checkpoint: ["5:6": "70"]), from: "d-1", now: F.at(1))
        let saved = book.tasks
        // Restart at 100 s: long after the old lease would have lapsed.
        var restored = TaskBook(restoring: saved, leaseDuration: F.lease, now: F.at(100))
        #expect(restored.task(task.id)?.lease?.expiresAt == F.at(110))
        #expect(restored.takeChanges().isEmpty)
        #expect(restored.fence(daemonID: "d-1", producerID: task.producerID) == .admitted)
        _ = restored.daemonOnline(F.daemon("d-2"), incarnation: F.incarnation, now: F.at(101))
        #expect(restored.tick(now: F.at(101)).isEmpty, "nothing moves during the grace")
        let back = restored.daemonOnline(F.daemon("d-1"), incarnation: F.incarnation, now: F.at(105))
        #expect(back.summary == ["d-1:assign:\(task.id)@1"])
        #expect(back.assignments.first?.1.checkpoint == ["5:6": "70"])
        restored.heartbeat(from: "d-1", now: F.at(108))
        #expect(restored.tick(now: F.at(115)).isEmpty)
        #expect(restored.task(task.id)?.lease?.holder == "d-1")
        // New tasks do not reuse serials.
        #expect(try restored.create(F.tail("new"), now: F.at(116)).serial == task.serial + 1)
    }

    @Test func restoreReassignsAfterTheGraceWhenTheHolderStaysAway() throws {
        let (book, task) = try Self.running()
        var restored = TaskBook(restoring: book.tasks, leaseDuration: F.lease, now: F.at(100))
        _ = restored.daemonOnline(F.daemon("d-2"), incarnation: F.incarnation, now: F.at(101))
        #expect(restored.tick(now: F.at(109.9)).isEmpty)
        #expect(restored.tick(now: F.at(110)).summary == ["d-2:assign:\(task.id)@2"], "holder offline: no revoke")
    }

    @Test func maxTasksIsALimitError() throws {
        var book = TaskBook(leaseDuration: F.lease, maxTasks: 2)
        _ = try book.create(F.tail("a"), now: F.t0)
        _ = try book.create(F.tail("b"), now: F.t0)
        do throws(TaskError) {
            _ = try book.create(F.tail("c"), now: F.t0)
            Issue.record("a third task was accepted")
        } catch {
            #expect(error.kind == .limit)
            #expect(error.message.contains("2 tasks"))
        }
        do throws(TaskError) {
            _ = try book.create(TaskSpec(kind: .tail, stream: "x"), now: F.t0)
        } catch {
            #expect(error.kind == .invalid, "validation comes first")
        }
    }

    @Test func terminatedTasksAreDroppedAfterTheRetention() throws {
        var book = TaskBook(leaseDuration: F.lease, maxTasks: 1, terminatedRetention: 60_000_000_000)
        let a = try book.create(F.tail("a"), now: F.t0)
        _ = try book.terminate(a.id, now: F.at(5))
        _ = book.takeChanges()
        #expect(throws: TaskError.self) { _ = try book.create(F.tail("b"), now: F.at(6)) }
        _ = book.tick(now: F.at(64.9))
        #expect(book.task(a.id) != nil)
        _ = book.tick(now: F.at(65))
        #expect(book.task(a.id) == nil)
        #expect(book.takeChanges().removed == [a.id])
        let b = try book.create(F.tail("b"), now: F.at(66))
        #expect(b.serial == 2, "serials are never reused")
    }

    @Test func takeChangesReportsRecordsCheckpointsAndRemovals() throws {
        var book = F.book(daemons: [F.daemon("d-1")], retention: 0)
        let a = try book.create(F.tail("a"), now: F.t0)
        let b = try book.create(F.tail("b"), now: F.t0)
        var changes = book.takeChanges()
        #expect(changes.records.map(\.id) == [a.id, b.id] && changes.records.allSatisfy { $0.state == .pending })
        #expect(book.takeChanges().isEmpty)
        _ = book.tick(now: F.at(1))
        changes = book.takeChanges()
        #expect(changes.records.map(\.state) == [.running, .running])
        let ra = try #require(book.task(a.id))
        _ = book.report(Self.status(ra, .running, checkpoint: ["1:1": "5"]), from: "d-1", now: F.at(2))
        _ = book.report(Self.status(try #require(book.task(b.id)), .running, checkpoint: ["2:2": "6"]), from: "d-1", now: F.at(2))
        _ = try book.suspend(b.id, now: F.at(2))
        changes = book.takeChanges()
        #expect(changes.checkpoints == [a.id: ["1:1": "5"]], "b changed state too: its checkpoint is in its record")
        #expect(changes.records.map(\.id) == [b.id] && changes.records.first?.checkpoint == ["2:2": "6"])
        _ = try book.terminate(b.id, now: F.at(3))
        _ = book.report(Self.status(ra, .running), from: "d-1", now: F.at(3))
        _ = book.report(TaskStatus(taskID: b.id, epoch: 1, state: .terminated), from: "d-1", now: F.at(3))
        _ = book.tick(now: F.at(3))
        changes = book.takeChanges()
        #expect(changes.removed == [b.id] && changes.records.isEmpty, "dropped before it was taken: only the removal")
    }
}
