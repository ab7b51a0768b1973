import Control
import Fleet
import Foundation
import Platform
import WAL
import Wire
import NIOCore
import Testing
import TestSupport

/// A daemon that holds a task and restarts within its lease (docs/protocol.md 5.9.2 and 10.2):
/// the node gives a new incarnation, or a version 1 daemon that cannot name one, the next
/// epoch, so the fresh process's batches, which start again at sequence 1, are stored; a
/// reconnect with the same incarnation keeps the epoch, and a resent batch is a counted
/// duplicate.
@Suite("Daemon restarts within the lease", .serialized)
struct DaemonRestartEndToEndTests {
    static let arguments = ["--flow-lease-ms", "20000", "--heartbeat-interval-ms", "200"]

    /// One simulated daemon, started on its own loop; `shutdown()` kills it without a goodbye.
    static func start(_ node: HyphaNode, id: String, incarnation: DaemonIncarnation?) async throws -> Fleet {
        try await Fleet.start(count: 1, node: try node.nativeAddress(), threads: 1) { _ in
            SimulatedDaemon.Configuration(daemonID: id, labels: ["who": id], incarnation: incarnation)
        }
    }

    static func spec(for id: String) -> String {
        #"{"kind":"tail","stream":"app","parameters":{"path":"/var/log/\#(id)/*.log"},"selector":{"labels":{"who":"\#(id)"}}}"#
    }

    static func messages(_ node: HyphaNode) throws -> [String] {
        try node.records().compactMap { if case .log(let l) = $0 { l.message } else { nil } }
    }

    @Test("A new incarnation gets the next epoch, its batches are stored; the same incarnation keeps the epoch and a resend is a counted duplicate")
    func restartWithANewIncarnation() async throws {
        let node = try HyphaNode(arguments: Self.arguments)
        defer { node.remove() }
        let task = try #require(try node.createTasks([Self.spec(for: "r1")]).first)
        let first = DaemonIncarnation.random()
        let before = try await Self.start(node, id: "r1", incarnation: first)
        let old = before.daemons[0]
        #expect(await eventually { old.runningTasks[task.id] == 1 }, "the task runs at epoch 1")
        for i in 1 ... 2 {
            let answer = try await old.sendTaskData(taskID: task.id, records: [record("first process \(i)")])
            #expect(answer.isAcknowledged && !answer.isDuplicate, "batch \(i) of the first process is stored: \(answer)")
        }
        await before.shutdown()

        // The process restarts without its state, well within the lease: a new incarnation.
        let second = DaemonIncarnation.random()
        let restarted = try await Self.start(node, id: "r1", incarnation: second)
        let fresh = restarted.daemons[0]
        #expect(await eventually { fresh.runningTasks[task.id] == 2 }, "assigned again at epoch 2: \(fresh.assignments.map(\.epoch))")
        #expect(fresh.assignments.map(\.epoch) == [2], "never at the old epoch: \(fresh.assignments.map(\.epoch))")
        let assignment = try #require(fresh.assignments.first)
        #expect(assignment.producerID == TaskProducerID.make(serial: 1, epoch: 2), "a new producer id")
        for i in 1 ... 2 {
            let answer = try await fresh.sendTaskData(taskID: task.id, records: [record("second process \(i)")])
            #expect(answer.isAcknowledged && !answer.isDuplicate, "batch \(i) of the fresh process (sequence \(i) again) is stored, not a duplicate: \(answer)")
        }
        let moved = try node.task(task.id)
        #expect(moved.epoch == 2 && moved.lease?.holder == "r1" && moved.lease?.incarnation == second, "\(moved)")
        #expect(moved.history.map(\.end) == [.restarted, nil], "\(moved.history)")
        await restarted.shutdown()

        // A reconnect with the same incarnation (a network blip): the epoch stays, and a batch
        // resent under the same producer id and sequence is a duplicate, counted.
        let reconnected = try await Self.start(node, id: "r1", incarnation: second)
        let same = reconnected.daemons[0]
        #expect(await eventually { same.runningTasks[task.id] == 2 }, "the same epoch again: \(same.assignments.map(\.epoch))")
        let resent = try await same.sendBatch(producerID: assignment.producerID, sequence: 2, records: [record("second process 2")])
        #expect(resent.isAcknowledged && resent.isDuplicate, "the resend is a duplicate: \(resent)")
        #expect(try node.task(task.id).epoch == 2, "the epoch did not move")
        #expect(waitForMetric(node, "hypha_native_duplicate_batches_total", atLeast: 1), "the duplicate is counted in /metrics")
        let (_, page) = try node.http("/api/v1/daemons/r1")
        #expect(page.contains(#""duplicateBatches":1"#) && page.contains(#""incarnation":"\#(second)""#), "and on the daemon's page: \(page)")
        await reconnected.shutdown()

        node.stop()
        let stored = try Self.messages(node)
        #expect(stored == ["first process 1", "first process 2", "second process 1", "second process 2"], "every batch stored once: \(stored)")
    }

    @Test("A version 1 daemon that restarts within its lease gets the next epoch too")
    func versionOneRestart() async throws {
        let node = try HyphaNode(arguments: Self.arguments)
        defer { node.remove() }
        let task = try #require(try node.createTasks([Self.spec(for: "old")]).first)
        let before = try await Self.start(node, id: "old", incarnation: nil)
        #expect(await eventually { before.daemons[0].runningTasks[task.id] == 1 })
        #expect(try await before.daemons[0].sendTaskData(taskID: task.id, records: [record("v1 first")]).isAcknowledged)
        await before.shutdown()

        let after = try await Self.start(node, id: "old", incarnation: nil)
        let fresh = after.daemons[0]
        #expect(await eventually { fresh.runningTasks[task.id] == 2 }, "epoch 2: \(fresh.assignments.map(\.epoch))")
        let answer = try await fresh.sendTaskData(taskID: task.id, records: [record("v1 second")])
        #expect(answer.isAcknowledged && !answer.isDuplicate, "stored, not dropped: \(answer)")
        await after.shutdown()
        node.stop()
        #expect(try Self.messages(node) == ["v1 first", "v1 second"])
    }
}
