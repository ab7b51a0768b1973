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
            let created: CreatedTasks
            switch try TaskRequest(body: body) {
            case .one(let spec):
                created = .one(try await coordinator.performRequest { state in try state.tasks.create(spec, now: state.now) })
            case .batch(let specs):
                let records = try await coordinator.performRequest { state in try state.tasks.create(allOf: specs, now: state.now) }
                created = .batch(TaskList(tasks: records, total: records.count))
            }
            return EditedResponse(status: .created, response: created)
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

/// What `POST /api/v1/tasks` takes: one task spec, or `{"tasks": [spec, …]}` with 1 to
/// 10,000 specs, which are created all or none (``TaskBook/create(allOf:now:)``).
enum TaskRequest: Decodable, Sendable {
    case one(TaskSpec)
    case batch([TaskSpec])

    /// The most specs a batch may hold.
    static let maxBatch = 10_000

    private enum Keys: String, CodingKey {
        case tasks
    }

    /// A body with a `tasks` key is a batch; any other body is one spec.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        if container.contains(.tasks) {
            self = .batch(try container.decode([TaskSpec].self, forKey: .tasks))
        } else {
            self = .one(try TaskSpec(from: decoder))
        }
    }

    /// Decodes a request body.
    /// - Throws: ``APIError`` `400` saying what is wrong: for a batch, the spec and its field
    ///   (`tasks[3].kind: …`); for one spec, what a spec looks like and what it lacks.
    init(body: ByteBuffer) throws(APIError) {
        do {
            self = try JSONDecoder().decode(TaskRequest.self, from: Data(body.readableBytesView))
        } catch let error as DecodingError where error.field.hasPrefix("tasks") {
            throw APIError(.badRequest, "\(error.field): \(error.problem)")
        } catch {
            throw APIError(.badRequest, "expected a task spec {\"kind\":…,\"stream\":…,\"parameters\":{…},\"selector\":{…}} or {\"tasks\":[…]}: \(describe(error))")
        }
        if case .batch(let specs) = self, !(1 ... Self.maxBatch).contains(specs.count) {
            throw APIError(.badRequest, "'tasks' must hold 1 to 10,000 task specs, got \(specs.count)")
        }
    }
}

extension APIError {
    /// The answer to a request the task book refused. An error about a spec of a batch names
    /// the spec and its field: `tasks[3].parameters.path: path "logs" is not absolute; …`.
    init(_ error: TaskError) {
        guard let index = error.index else {
            self.init(refused: error.kind, error.message)
            return
        }
        let spec = "tasks[\(index)]" + (error.field.map { ".\($0)" } ?? "")
        self.init(refused: error.kind, "\(spec): \(error.message)")
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
