import Control
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

/// Creating, listing, showing, suspending, resuming and terminating tasks (docs/api.md, "Tasks").
@Suite struct TaskRoutesTests {
    /// `GET /api/v1/tasks` and a batch `POST /api/v1/tasks`.
    struct TaskListReply: Decodable {
        var tasks: [TaskRecord]
        var total: Int
    }

    static let tail = #"{"kind":"tail","stream":"app","parameters":{"path":"/var/log/app/*.log"},"selector":{"labels":{"env":"prod"}}}"#
    static let host = #"{"kind":"hostmetrics","stream":"host"}"#

    @Test func oneSpecCreatesOnePendingTask() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.post, "/api/v1/tasks", body: Self.tail)
            #expect(response.status == .created)
            let record = try response.decoded(TaskRecord.self)
            #expect(record.id == "t-1" && record.serial == 1 && record.state == .pending && record.epoch == 0, "\(response.text)")
            #expect(record.spec.parameters == ["path": "/var/log/app/*.log", "from": "end"], "the stored spec has its defaults")
            #expect(record.spec.selector.labels == ["env": "prod"])
        }
    }

    @Test func aBatchCreatesEveryTask() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.post, "/api/v1/tasks", body: #"{"tasks":[\#(Self.tail),\#(Self.host)]}"#)
            #expect(response.status == .created)
            let list = try response.decoded(TaskListReply.self)
            #expect(list.total == 2 && list.tasks.map(\.id) == ["t-1", "t-2"] && list.tasks.map(\.spec.kind) == [.tail, .hostmetrics], "\(response.text)")
        }
    }

    @Test(arguments: [
        (#"{"kind":"tail","stream":"app","parameters":{"path":"logs/*.log"}}"#, 1, #"tasks[1].parameters.path: path "logs/*.log" is not absolute; it must start with /"#),
        (#"{"kind":"exec","stream":"x"}"#, 3, "tasks[3].parameters.command: an exec task needs parameter command"),
        (#"{"kind":"ftp","stream":"x"}"#, 0, "tasks[0].kind: Cannot initialize TaskKind from invalid String value ftp"),
        (#"{"kind":"hostmetrics"}"#, 2, "tasks[2].stream: missing"),
    ])
    func aBatchWithOneBadSpecCreatesNothingAndNamesIt(bad: String, at index: Int, error: String) async throws {
        try await TestNode.run { _, client in
            var specs = [Self.tail, Self.host, Self.tail, Self.host]
            specs[index] = bad
            let response = try await client.send(.post, "/api/v1/tasks", body: #"{"tasks":[\#(specs.joined(separator: ","))]}"#)
            #expect(response.status == .badRequest && response.errorMessage == error, "\(response.text)")
            let list = try await client.send(.get, "/api/v1/tasks")
            #expect(list.text == #"{"tasks":[],"total":0}"#, "all or none: nothing was created: \(list.text)")
            let next = try await client.send(.post, "/api/v1/tasks", body: Self.host).decoded(TaskRecord.self)
            #expect(next.id == "t-1", "no serial was used")
        }
    }

    @Test func aBatchPastTheTaskLimitCreatesNothing() async throws {
        try await TestNode.run(configure: { configuration, _ in configuration.maxTasks = 2 }) { _, client in
            let response = try await client.send(.post, "/api/v1/tasks", body: #"{"tasks":[\#(Self.host),\#(Self.host),\#(Self.host)]}"#)
            #expect(response.status == .tooManyRequests, "\(response.text)")
            #expect(response.errorMessage == "this node keeps 0 tasks; 3 more would pass its limit of 2 (terminated tasks are dropped 3600 s after they end)")
            #expect(try await client.send(.get, "/api/v1/tasks").text == #"{"tasks":[],"total":0}"#, "all or none")
        }
    }

    @Test(arguments: [
        (#"{"kind":"tail","stream":"app","parameters":{"path":"logs/*.log"}}"#, #"path "logs/*.log" is not absolute; it must start with /"#),
        (#"{"kind":"hostmetrics","stream":"a b"}"#, #"stream "a b" may only contain A-Z, a-z, 0-9, '.', '_' and '-'"#),
        (#"{"kind":"exec","stream":"x","parameters":{"cmd":"ls"}}"#, "unknown parameter for an exec task: cmd (known: command, interval_seconds, mode, shell, timeout_seconds)"),
        (#"{"tasks":[]}"#, "'tasks' must hold 1 to 10,000 task specs, got 0"),
    ])
    func anInvalidSpecIsRefusedNamingTheField(body: String, error: String) async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.post, "/api/v1/tasks", body: body)
            #expect(response.status == .badRequest && response.errorMessage == error, "\(response.text)")
            #expect(try await client.send(.get, "/api/v1/tasks").text == #"{"tasks":[],"total":0}"#, "nothing was created")
        }
    }

    @Test(arguments: [#"{"kind":"ftp","stream":"x"}"#, #"{"stream":"x"}"#, "not json"])
    func aBodyThatIsNoSpecIsRefused(body: String) async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.post, "/api/v1/tasks", body: body)
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(response.errorMessage?.hasPrefix("expected a task spec") == true, "\(response.text)")
        }
    }

    @Test func creatingPastTheTaskLimitIs429() async throws {
        try await TestNode.run(configure: { configuration, _ in configuration.maxTasks = 1 }) { _, client in
            #expect(try await client.send(.post, "/api/v1/tasks", body: Self.host).status == .created)
            let response = try await client.send(.post, "/api/v1/tasks", body: Self.host)
            #expect(response.status == .tooManyRequests && response.errorMessage?.contains("limit") == true, "\(response.text)")
        }
    }

    @Test func theListFiltersByStateAndDaemonAndPages() async throws {
        try await TestNode.run { _, client in
            _ = try await client.send(.post, "/api/v1/tasks", body: #"{"tasks":[\#(Self.host),\#(Self.host),\#(Self.host)]}"#)
            #expect(try await client.send(.post, "/api/v1/tasks/t-2/suspend").status == .accepted)

            let all = try await client.send(.get, "/api/v1/tasks")
            #expect(all.status == .ok)
            #expect(try all.decoded(TaskListReply.self).tasks.map(\.id) == ["t-1", "t-2", "t-3"], "\(all.text)")
            let suspended = try await client.send(.get, "/api/v1/tasks?state=suspended").decoded(TaskListReply.self)
            #expect(suspended.tasks.map(\.id) == ["t-2"] && suspended.total == 1)
            let page = try await client.send(.get, "/api/v1/tasks?limit=1&offset=2").decoded(TaskListReply.self)
            #expect(page.tasks.map(\.id) == ["t-3"] && page.total == 3, "total counts every match")
            let held = try await client.send(.get, "/api/v1/tasks?daemon=nobody").decoded(TaskListReply.self)
            #expect(held.tasks.isEmpty && held.total == 0)
        }
    }

    @Test func anUnknownStateFilterIs400() async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(.get, "/api/v1/tasks?state=bogus")
            #expect(response.status == .badRequest)
            #expect(response.errorMessage == "unknown state 'bogus': use pending, running, suspending, suspended, terminating or terminated", "\(response.text)")
        }
    }

    @Test func oneTaskByIdOr404() async throws {
        try await TestNode.run { _, client in
            let created = try await client.send(.post, "/api/v1/tasks", body: Self.host).decoded(TaskRecord.self)
            let response = try await client.send(.get, "/api/v1/tasks/\(created.id)")
            try #expect(response.status == .ok && (try response.decoded(TaskRecord.self)) == created, "\(response.text)")
            let missing = try await client.send(.get, "/api/v1/tasks/t-99")
            #expect(missing.status == .notFound && missing.errorMessage == "no task t-99", "\(missing.text)")
        }
    }

    @Test func suspendResumeAndTerminateAnswer202WithTheRecord() async throws {
        try await TestNode.run { _, client in
            _ = try await client.send(.post, "/api/v1/tasks", body: Self.host)
            for (action, state) in [("suspend", TaskState.suspended), ("resume", .pending), ("terminate", .terminated)] {
                let response = try await client.send(.post, "/api/v1/tasks/t-1/\(action)")
                #expect(response.status == .accepted, "\(action): \(response.text)")
                #expect(try response.decoded(TaskRecord.self).state == state, "\(action): \(response.text)")
            }
        }
    }

    @Test func anActionThatDoesNotApplyIs409() async throws {
        try await TestNode.run { _, client in
            _ = try await client.send(.post, "/api/v1/tasks", body: Self.host)
            let resume = try await client.send(.post, "/api/v1/tasks/t-1/resume")
            #expect(resume.status == .conflict && resume.errorMessage == "task t-1 is pending; only a suspended task can be resumed", "\(resume.text)")
            _ = try await client.send(.post, "/api/v1/tasks/t-1/terminate")
            let terminate = try await client.send(.post, "/api/v1/tasks/t-1/terminate")
            #expect(terminate.status == .conflict && terminate.errorMessage == "task t-1 is already terminated", "\(terminate.text)")
        }
    }

    @Test func anUnknownTaskOrActionIs404() async throws {
        try await TestNode.run { _, client in
            let task = try await client.send(.post, "/api/v1/tasks/t-99/suspend")
            #expect(task.status == .notFound && task.errorMessage == "no task t-99", "\(task.text)")
            _ = try await client.send(.post, "/api/v1/tasks", body: Self.host)
            let action = try await client.send(.post, "/api/v1/tasks/t-1/restart")
            #expect(action.status == .notFound, "\(action.text)")
            #expect(action.errorMessage == "unknown action 'restart': use suspend, resume or terminate", "\(action.text)")
        }
    }
}
