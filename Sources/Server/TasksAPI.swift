import Control
import Foundation
import Hummingbird
import NIOCore

/// The tasks part of the HTTP API (docs/api.md, "Tasks"): create, list, show, suspend, resume
/// and terminate. Every call runs on the control loop and answers once its change is durable.
struct TasksAPI: Sendable {
    let coordinator: ControlCoordinator

    /// Adds the reads to `router` and the changes to `admin`, the `/api/v1` group behind the
    /// admin token.
    func add(to router: Router<HyphaRequestContext>, admin: RouterGroup<HyphaRequestContext>) {
        admin.post("tasks") { request, _ -> EditedResponse<CreatedTasks> in
            let body = try await request.body.collect(upTo: 16 << 20)
            let (specs, single) = try TaskRequest.decode(Data(body.readableBytesView))
            let records = try await coordinator.performRequest { state in
                try specs.map { spec in try state.tasks.create(spec, now: state.now) }
            }
            return EditedResponse(status: .created, response: single ? .one(records[0]) : .batch(TaskList(tasks: records, total: records.count)))
        }
        router.get("/api/v1/tasks") { request, _ -> TaskList in
            let query = request.uri.queryParameters
            let wantedState = query.get("state").flatMap(TaskState.init(rawValue:))
            if let s = query.get("state"), wantedState == nil {
                throw APIError(.badRequest, "unknown state '\(s)': use pending, running, suspending, suspended, terminating or terminated")
            }
            let daemon = query.get("daemon")
            let limit = min(max(Int(query.get("limit") ?? "") ?? 1000, 1), 100_000)
            let offset = max(Int(query.get("offset") ?? "") ?? 0, 0)
            return try await coordinator.perform { state -> TaskList in
                let all = daemon.map { state.tasks.tasks(heldBy: $0) } ?? state.tasks.tasks
                let matching = wantedState.map { s in all.filter { $0.state == s } } ?? all
                let page = Array(matching.dropFirst(offset).prefix(limit))
                return TaskList(tasks: page, total: matching.count)
            }
        }
        router.get("/api/v1/tasks/{id}") { _, context -> JSONReply<TaskRecord> in
            let id = context.parameters.get("id") ?? ""
            guard let record = try await coordinator.perform({ $0.tasks.task(id) }) else {
                throw APIError(.notFound, "no task \(id)")
            }
            return JSONReply(record)
        }
        admin.post("tasks/{id}/{action}") { _, context -> EditedResponse<JSONReply<TaskRecord>> in
            let id = context.parameters.get("id") ?? ""
            let action = context.parameters.get("action") ?? ""
            guard ["suspend", "resume", "terminate"].contains(action) else {
                throw APIError(.notFound, "unknown action '\(action)': use suspend, resume or terminate")
            }
            let record = try await coordinator.performRequest { state -> TaskRecord in
                let commands: [TaskCommand]
                switch action {
                case "suspend": commands = try state.tasks.suspend(id, now: state.now)
                case "resume": commands = try state.tasks.resume(id, now: state.now)
                default: commands = try state.tasks.terminate(id, now: state.now)
                }
                state.send(commands)
                return state.tasks.task(id)!
            }
            return EditedResponse(status: .accepted, response: JSONReply(record))
        }
    }
}

/// `POST /api/v1/tasks` takes one task spec, or `{"tasks": [spec, …]}` (up to 10,000).
enum TaskRequest {
    struct Many: Decodable { var tasks: [TaskSpec] }

    /// The specs of a request body, and whether it held a single spec.
    /// - Throws: ``APIError`` `400` saying what is wrong with the body.
    static func decode(_ data: Data) throws(APIError) -> ([TaskSpec], single: Bool) {
        let decoder = JSONDecoder()
        if let many = try? decoder.decode(Many.self, from: data) {
            guard !many.tasks.isEmpty, many.tasks.count <= 10_000 else {
                throw APIError(.badRequest, "'tasks' must hold 1 to 10,000 task specs, got \(many.tasks.count)")
            }
            return (many.tasks, false)
        }
        do {
            return ([try decoder.decode(TaskSpec.self, from: data)], true)
        } catch {
            throw APIError(.badRequest, "expected a task spec {\"kind\":…,\"stream\":…,\"parameters\":{…},\"selector\":{…}} or {\"tasks\":[…]}: \(describe(error))")
        }
    }
}

/// The answer to `POST /api/v1/tasks`: the record of a single spec, or the list of a batch.
enum CreatedTasks: ResponseEncodable, Sendable {
    case one(TaskRecord)
    case batch(TaskList)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .one(let record): try record.encode(to: encoder)
        case .batch(let list): try list.encode(to: encoder)
        }
    }
}

/// `GET /api/v1/tasks`, and the answer to a batch `POST /api/v1/tasks`.
struct TaskList: ResponseEncodable, Sendable {
    let tasks: [TaskRecord]
    let total: Int
}
