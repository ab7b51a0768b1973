@testable import Control
import Foundation
import Wire
import Testing

/// A holder's new session: the same incarnation keeps the epoch (a reconnect of a daemon that
/// kept its state), another or an unknown one gets the next epoch (a daemon that restarted
/// without it, or a version 1 daemon that cannot say), and the lease remembers the
/// incarnation across a restart of the node (docs/protocol.md 5.9.2, docs/control.md).
@Suite struct TaskIncarnationTests {
    typealias F = TaskFixture

    static let first = DaemonIncarnation(hex: "00000000000000a1")
    static let second = DaemonIncarnation(hex: "00000000000000b2")

    /// One task running on d-1 at epoch 1, granted to its session of `incarnation`, with the
    /// checkpoint {"2049:77": "4096"} reported; d-1's connection then closes.
    static func held(incarnation: DaemonIncarnation?) throws -> (TaskBook, TaskRecord) {
        var book = TaskBook(leaseDuration: F.lease)
        _ = book.daemonOnline(F.daemon("d-1"), incarnation: incarnation, now: F.t0)
        let task = try book.create(F.tail(), now: F.t0)
        #expect(book.tick(now: F.t0).summary == ["d-1:assign:\(task.id)@1"])
        let r = try #require(book.task(task.id))
        #expect(r.lease?.incarnation == incarnation, "the lease carries the session's incarnation: \(String(describing: r.lease))")
        _ = book.report(TaskStatus(taskID: task.id, epoch: 1, state: .running, checkpoint: ["2049:77": "4096"]), from: "d-1", now: F.at(1))
        book.daemonOffline("d-1", now: F.at(2))
        _ = book.takeChanges()
        return (book, r)
    }

    @Test func theSameIncarnationKeepsTheEpoch() throws {
        var (book, task) = try Self.held(incarnation: Self.first)
        let out = book.daemonOnline(F.daemon("d-1"), incarnation: Self.first, now: F.at(3))
        #expect(out.summary == ["d-1:assign:\(task.id)@1"], "\(out.summary)")
        #expect(out.assignments.first?.1.producerID == task.producerID, "same producer id: de-duplication covers the resends")
        #expect(!book.hasRecordChanges, "nothing to persist: the assignment is the one on disk")
        #expect(book.fence(daemonID: "d-1", producerID: task.producerID) == .admitted)
    }

    @Test(arguments: [(first, second), (first, nil), (nil, first), (nil, nil)] as [(DaemonIncarnation?, DaemonIncarnation?)])
    func anotherOrAnUnknownIncarnationGetsTheNextEpoch(before: DaemonIncarnation?, after: DaemonIncarnation?) throws {
        var (book, task) = try Self.held(incarnation: before)
        let out = book.daemonOnline(F.daemon("d-1"), incarnation: after, now: F.at(3))
        #expect(out.summary == ["d-1:assign:\(task.id)@2"], "\(String(describing: before)) → \(String(describing: after)): \(out.summary)")
        let assignment = try #require(out.assignments.first?.1)
        #expect(assignment.producerID == TaskProducerID.make(serial: task.serial, epoch: 2), "a new producer id")
        #expect(assignment.checkpoint == ["2049:77": "4096"], "it resumes from the last checkpoint")
        let r = try #require(book.task(task.id))
        #expect(r.state == .running && r.epoch == 2 && r.lease?.holder == "d-1" && r.lease?.incarnation == after, "\(r)")
        #expect(r.lease?.expiresAt == F.at(13), "a fresh lease from the session's opening")
        #expect(r.history.map(\.end) == [.restarted, nil] && r.history.map(\.epoch) == [1, 2], "\(r.history)")
        #expect(book.hasRecordChanges, "the new epoch must be durable before TASK_ASSIGN goes out")
        #expect(book.takeChanges().records.map(\.epoch) == [2])
        #expect(book.fence(daemonID: "d-1", producerID: task.producerID) == .refused("task \(task.id) is at epoch 2; this batch is from epoch 1"))
        #expect(book.fence(daemonID: "d-1", producerID: assignment.producerID) == .admitted)
        #expect(book.tasks(heldBy: "d-1").map(\.id) == [task.id], "the daemon still holds the task")
        #expect(book.tick(now: F.at(12.9)).isEmpty, "no lapse before the new lease ends")
    }

    @Test func aSecondReconnectWithTheNewIncarnationKeepsTheNewEpoch() throws {
        var (book, task) = try Self.held(incarnation: Self.first)
        #expect(book.daemonOnline(F.daemon("d-1"), incarnation: Self.second, now: F.at(3)).summary == ["d-1:assign:\(task.id)@2"])
        book.daemonOffline("d-1", now: F.at(4))
        #expect(book.daemonOnline(F.daemon("d-1"), incarnation: Self.second, now: F.at(5)).summary == ["d-1:assign:\(task.id)@2"])
    }

    @Test func suspendingTasksAreNotReassigned() throws {
        var (book, task) = try Self.held(incarnation: Self.first)
        _ = try book.suspend(task.id, now: F.at(2.5))
        let out = book.daemonOnline(F.daemon("d-1"), incarnation: Self.second, now: F.at(3))
        #expect(out.summary == ["d-1:suspend:\(task.id)@1"], "the stop is asked again, at the lease's epoch: \(out.summary)")
        #expect(book.task(task.id)?.epoch == 1)
    }

    @Test func placementsCarryTheIncarnationOfTheCurrentSession() throws {
        var book = TaskBook(leaseDuration: F.lease)
        _ = book.daemonOnline(F.daemon("d-1"), incarnation: Self.first, now: F.t0)
        book.daemonOffline("d-1", now: F.at(1))
        _ = book.daemonOnline(F.daemon("d-1"), incarnation: Self.second, now: F.at(2))
        let task = try book.create(F.tail(), now: F.at(2))
        #expect(book.tick(now: F.at(2)).summary == ["d-1:assign:\(task.id)@1"])
        #expect(book.task(task.id)?.lease?.incarnation == Self.second)
    }

    /// The lease's incarnation is persisted with the record (JSON in the control store), so a
    /// restarted node still tells a reconnect from a restart; records written before there were
    /// incarnations decode with none.
    @Test func theIncarnationSurvivesARestartOfTheNode() throws {
        let (book, task) = try Self.held(incarnation: Self.first)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]  // as the control loop stores records
        let json = try encoder.encode(book.tasks)
        #expect(String(decoding: json, as: UTF8.self).contains(#""incarnation":"00000000000000a1""#), "stored as the wire form")
        let saved = try JSONDecoder().decode([TaskRecord].self, from: json)
        var restored = TaskBook(restoring: saved, leaseDuration: F.lease, now: F.at(100))
        #expect(restored.daemonOnline(F.daemon("d-1"), incarnation: Self.first, now: F.at(101)).summary == ["d-1:assign:\(task.id)@1"])
        var again = TaskBook(restoring: saved, leaseDuration: F.lease, now: F.at(100))
        #expect(again.daemonOnline(F.daemon("d-1"), incarnation: Self.second, now: F.at(101)).summary == ["d-1:assign:\(task.id)@2"])

        let old = String(decoding: json, as: UTF8.self).replacing(#","incarnation":"00000000000000a1""#, with: "")
        let legacy = try JSONDecoder().decode([TaskRecord].self, from: Data(old.utf8))
        #expect(legacy.first?.lease != nil && legacy.first?.lease?.incarnation == nil, "a lease without the field decodes, as unknown")
    }
}
