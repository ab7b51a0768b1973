@testable import Control
import Testing

/// `TaskBook.create(allOf:now:)`: a batch of tasks is created whole or not at all.
@Suite struct TaskBatchTests {
    typealias F = TaskFixture

    static let specs = [
        F.tail("a"),
        TaskSpec(kind: .hostmetrics, stream: "host"),
        TaskSpec(kind: .exec, stream: "job", parameters: ["command": "uptime", "interval_seconds": "60"]),
    ]

    @Test func aValidBatchIsCreatedInOrder() throws {
        var book = TaskBook(leaseDuration: F.lease)
        let created = try book.create(allOf: Self.specs, now: F.t0)
        #expect(created.map(\.id) == ["t-1", "t-2", "t-3"] && created.allSatisfy { $0.state == .pending && $0.createdAt == F.t0 })
        #expect(created.map(\.spec) == (try Self.specs.map { try $0.validated() }), "the stored specs are the validated ones")
        #expect(book.tasks == created)
        #expect(book.takeChanges().records == created, "every new record is to be persisted")
    }

    @Test(arguments: 0 ..< 3)
    func oneInvalidSpecCreatesNothingAndNamesItsIndexAndField(badIndex: Int) {
        var book = TaskBook(leaseDuration: F.lease)
        var specs = Self.specs
        specs[badIndex] = TaskSpec(kind: .tail, stream: "bad", parameters: ["path": "relative/*.log"])
        #expect(throws: TaskError(.invalid, #"path "relative/*.log" is not absolute; it must start with /"#, field: "parameters.path", index: badIndex)) {
            _ = try book.create(allOf: specs, now: F.t0)
        }
        #expect(book.tasks.isEmpty && book.nextSerial == 1 && !book.hasRecordChanges, "the book is as it was")
        #expect(book.pending.isEmpty, "nothing waits to be placed")
    }

    @Test func theFirstInvalidSpecIsTheOneNamed() {
        var book = TaskBook(leaseDuration: F.lease)
        let specs = [F.tail("a"), TaskSpec(kind: .listen, stream: "l"), TaskSpec(kind: .hostmetrics, stream: "")]
        #expect(throws: TaskError(.invalid, "a listen task needs parameter port (1...65535)", field: "parameters.port", index: 1)) {
            _ = try book.create(allOf: specs, now: F.t0)
        }
    }

    @Test func aBatchThatDoesNotFitIsRefusedWhole() throws {
        var book = TaskBook(leaseDuration: F.lease, maxTasks: 4)
        _ = try book.create(F.tail("first"), now: F.t0)
        _ = book.takeChanges()
        do throws(TaskError) {
            _ = try book.create(allOf: Self.specs + [F.tail("d")], now: F.t0)
            Issue.record("four more than fit were created")
        } catch {
            #expect(error.kind == .limit && error.index == nil, "\(error)")
            #expect(error.message == "this node keeps 1 task; 4 more would pass its limit of 4 (terminated tasks are dropped 3600 s after they end)")
        }
        #expect(book.tasks.map(\.id) == ["t-1"] && book.nextSerial == 2 && !book.hasRecordChanges)
        #expect(try book.create(allOf: Self.specs, now: F.t0).map(\.id) == ["t-2", "t-3", "t-4"], "a batch that fits exactly is created")
    }

    @Test func aSingleSpecNamesItsFieldButNoIndex() {
        var book = TaskBook(leaseDuration: F.lease)
        #expect(throws: TaskError(.invalid, "stream must be 1 to 128 bytes; it is 0", field: "stream")) {
            _ = try book.create(TaskSpec(kind: .hostmetrics, stream: ""), now: F.t0)
        }
    }
}
