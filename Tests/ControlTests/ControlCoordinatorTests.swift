@testable import Control
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// The coordinator without sessions: requests run on its thread, their changes are committed
/// to the store before they are answered, and a new coordinator on the same store restores
/// everything (with the lease grace).
@Suite struct ControlCoordinatorTests {
    static func coordinator(_ store: any ControlStore, clock: ManualEpochClock) throws -> ControlCoordinator {
        var settings = ControlCoordinator.Settings()
        settings.leaseDuration = .seconds(10)
        settings.tickInterval = .milliseconds(10)
        return try ControlCoordinator(
            store: store, settings: settings, clock: clock, logger: quietLogger, health: { [:] }, throughput: { [:] })
    }

    @Test func requestsAreDurableBeforeTheyAreAnsweredAndComeBackAfterARestart() async throws {
        let store = MemoryControlStore()
        let clock = ManualEpochClock(now: TestTime.t0)
        let first = try Self.coordinator(store, clock: clock)
        let created = try await first.perform { state in
            try (0 ..< 3).map { i in try state.tasks.create(TaskSpec(kind: .exec, stream: "s", parameters: ["command": "job \(i)"]), now: state.now) }
        }
        // Answered: so already in the store.
        #expect(store.values(under: "tasks/").map(\.key) == created.map { "tasks/\($0.id)" })
        _ = try await first.perform { state in try state.tasks.terminate(created[2].id, now: state.now) }
        let document = try await first.perform { state in
            try state.configs.put(
                name: "agent", content: Array("level: info\n".utf8), selector: DaemonSelector(), rollout: nil, comment: "",
                online: [], now: state.now
            ).document
        }
        first.stop()

        clock.advance(by: .seconds(60))
        let second = try Self.coordinator(store, clock: clock)
        defer { second.stop() }
        let (tasks, history, next) = try await second.perform { state in
            (state.tasks.tasks, state.configs.history("agent") ?? [], try state.tasks.create(TaskSpec(kind: .hostmetrics, stream: "h"), now: state.now))
        }
        #expect(tasks.map(\.id) == created.map(\.id))
        #expect(tasks.map(\.state) == [.pending, .pending, .terminated])
        #expect(history.map(\.hash) == [document.hash])
        #expect(next.serial == 4, "serials are never reused")
    }

    @Test func failedRequestsAreAnsweredWithTheirError() async throws {
        let coordinator = try Self.coordinator(MemoryControlStore(), clock: ManualEpochClock(now: TestTime.t0))
        defer { coordinator.stop() }
        await #expect(throws: TaskError.self) {
            try await coordinator.perform { state in try state.tasks.suspend("t-404", now: state.now) }
        }
    }

    @Test func aStoppedCoordinatorRefusesRequests() async throws {
        let coordinator = try Self.coordinator(MemoryControlStore(), clock: ManualEpochClock(now: TestTime.t0))
        coordinator.stop()
        await #expect(throws: ControlUnavailable.self) { try await coordinator.perform { $0.tasks.tasks.count } }
    }

    @Test func anUndecodableEntryStopsTheStartWithItsKey() throws {
        let store = MemoryControlStore()
        try store.commit([.put(key: "tasks/t-1", value: Array("{not json".utf8))])
        #expect {
            _ = try Self.coordinator(store, clock: ManualEpochClock(now: TestTime.t0))
        } throws: { error in
            "\(error)".contains("tasks/t-1")
        }
    }

    @Test func checkpointsRoundTripThroughTheirBinaryForm() {
        let checkpoint = ["2049:77": "4096", "": "", "ключ": String(repeating: "x", count: 300)]
        #expect(CheckpointCodec.decode(CheckpointCodec.encode(checkpoint)) == checkpoint)
        let bytes = CheckpointCodec.encode(["a": "b"])
        for cut in 1 ..< bytes.count { #expect(CheckpointCodec.decode(Array(bytes[0 ..< cut])) == nil, "cut at \(cut)") }
    }

    @Test func theFenceTableAgreesWithTheBook() throws {
        var book = TaskBook(leaseDuration: 10_000_000_000)
        _ = book.daemonOnline(DaemonCandidate(id: "d-1"), incarnation: TaskFixture.incarnation, now: TestTime.t0)
        _ = book.daemonOnline(DaemonCandidate(id: "d-2"), incarnation: TaskFixture.incarnation, now: TestTime.t0)
        let tasks = try (0 ..< 4).map { _ in try book.create(TaskSpec(kind: .hostmetrics, stream: "h"), now: TestTime.t0) }
        _ = book.tick(now: TestTime.t0)
        _ = try book.suspend(tasks[3].id, now: TestTime.t0)
        _ = book.report(TaskStatus(taskID: tasks[3].id, epoch: 1, state: .suspended), from: book.task(tasks[3].id)!.lease!.holder, now: TestTime.t0)
        let table = TaskFenceTable()
        table.update(book.tasks)
        for task in book.tasks {
            for daemon in ["d-1", "d-2", "d-3"] {
                for epoch: UInt64 in [0, 1, 2] {
                    let producer = TaskProducerID.make(serial: task.serial, epoch: epoch)
                    #expect(table.verdict(daemonID: daemon, producerID: producer).isAdmitted == book.fence(daemonID: daemon, producerID: producer).isAdmitted)
                }
            }
        }
        #expect(table.count == 3, "the suspended task has no lease")
    }
}

extension TaskFenceVerdict {
    var isAdmitted: Bool { self == .admitted }
}
