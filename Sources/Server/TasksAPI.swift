import Control
import Foundation
import Hummingbird
import Ingest
import NIOCore

/// The tasks part of the HTTP API (docs/api.md, "Tasks"): create, list, show, suspend, resume
/// and terminate. Every call runs on the control loop and answers once its change is durable.
struct TasksAPI: Sendable {
    let coordinator: ControlCoordinator

    /// Adds the reads to `router` and the changes to `admin`, the `/api/v1` group behind the
    /// admin token.
    func add(to router: Router<HyphaRequestContext>, admin: RouterGroup<HyphaRequestContext>) {
        admin.post("tasks") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            let specs: [TaskSpec]
            let single: Bool
            do {
                (specs, single) = try TaskRequest.decode(Data(body.readableBytesView))
            } catch {
                return json(.badRequest, errorBody("\(error)"))
            }
            let created = try await coordinator.perform { state -> Result<[TaskRecord], TaskError> in
                var records: [TaskRecord] = []
                for spec in specs {
                    do throws(TaskError) { records.append(try state.tasks.create(spec, now: state.now)) } catch { return .failure(error) }
                }
                return .success(records)
            }
            switch created {
            case .success(let records):
                return single ? json(.created, try encode(records[0])) : json(.created, try encode(TaskList(tasks: records, total: records.count)))
            case .failure(let error):
                return refusal(error.kind, error.message)
            }
        }
        router.get("/api/v1/tasks") { request, _ -> Response in
            let query = request.uri.queryParameters
            let wantedState = query.get("state").flatMap(TaskState.init(rawValue:))
            if let s = query.get("state"), wantedState == nil {
                return json(.badRequest, errorBody("unknown state '\(s)': use pending, running, suspending, suspended, terminating or terminated"))
            }
            let daemon = query.get("daemon")
            let limit = min(max(Int(query.get("limit") ?? "") ?? 1000, 1), 100_000)
            let offset = max(Int(query.get("offset") ?? "") ?? 0, 0)
            let list = try await coordinator.perform { state -> TaskList in
                let all = daemon.map { state.tasks.tasks(heldBy: $0) } ?? state.tasks.tasks
                let matching = wantedState.map { s in all.filter { $0.state == s } } ?? all
                let page = Array(matching.dropFirst(offset).prefix(limit))
                return TaskList(tasks: page, total: matching.count)
            }
            return json(.ok, try encode(list))
        }
        router.get("/api/v1/tasks/{id}") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard let record = try await coordinator.perform({ $0.tasks.task(id) }) else {
                return json(.notFound, errorBody("no task \(id)"))
            }
            return json(.ok, try encode(record))
        }
        admin.post("tasks/{id}/{action}") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            let action = context.parameters.get("action") ?? ""
            guard ["suspend", "resume", "terminate"].contains(action) else {
                return json(.notFound, errorBody("unknown action '\(action)': use suspend, resume or terminate"))
            }
            let outcome = try await coordinator.perform { state -> Result<TaskRecord, TaskError> in
                do throws(TaskError) {
                    let commands: [TaskCommand]
                    switch action {
                    case "suspend": commands = try state.tasks.suspend(id, now: state.now)
                    case "resume": commands = try state.tasks.resume(id, now: state.now)
                    default: commands = try state.tasks.terminate(id, now: state.now)
                    }
                    state.send(commands)
                    return .success(state.tasks.task(id)!)
                } catch {
                    return .failure(error)
                }
            }
            switch outcome {
            case .success(let record): return json(.accepted, try encode(record))
            case .failure(let error): return refusal(error.kind, error.message)
            }
        }
    }
}

/// `POST /api/v1/tasks` takes one task spec, or `{"tasks": [spec, …]}` (up to 10,000).
enum TaskRequest {
    struct Many: Decodable { var tasks: [TaskSpec] }

    static func decode(_ data: Data) throws -> ([TaskSpec], single: Bool) {
        let decoder = JSONDecoder()
        if let many = try? decoder.decode(Many.self, from: data) {
            guard !many.tasks.isEmpty, many.tasks.count <= 10_000 else {
                throw RequestError("'tasks' must hold 1 to 10,000 task specs, got \(many.tasks.count)")
            }
            return (many.tasks, false)
        }
        do {
            return ([try decoder.decode(TaskSpec.self, from: data)], true)
        } catch {
            throw RequestError("expected a task spec {\"kind\":…,\"stream\":…,\"parameters\":{…},\"selector\":{…}} or {\"tasks\":[…]}: \(describe(error))")
        }
    }
}

/// `GET /api/v1/tasks`.
struct TaskList: Encodable {
    let tasks: [TaskRecord]
    let total: Int
}
