import Control
import Foundation
import Hummingbird
import Ingest
import NIOCore

/// The configuration part of the HTTP API (docs/api.md, "Configuration and rollouts"):
/// versioned documents, their history and per-daemon status, and rollouts.
struct ConfigAPI: Sendable {
    let coordinator: ControlCoordinator

    /// Adds the reads to `router` and the changes to `admin`, the `/api/v1` group behind the
    /// admin token.
    func add(to router: Router<HyphaRequestContext>, admin: RouterGroup<HyphaRequestContext>) {
        admin.put("config/{name}") { request, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let body = try await request.body.collect(upTo: 2 << 20)
            let put: ConfigPut
            do {
                put = try ConfigPut(request: request, body: Data(body.readableBytesView))
            } catch {
                return json(.badRequest, errorBody("\(error)"))
            }
            let outcome = try await coordinator.perform { state -> Result<ConfigUpdate, ConfigError> in
                do throws(ConfigError) {
                    let update = try state.configs.put(
                        name: name, content: put.content, selector: put.selector, rollout: put.rollout, comment: put.comment,
                        online: Array(state.online.values), now: state.now)
                    state.send(update.commands)
                    return .success(update)
                } catch {
                    return .failure(error)
                }
            }
            switch outcome {
            case .success(let update):
                let reply = ConfigPutReply(document: update.document, rollout: update.rollout, unchanged: update.unchanged)
                return json(update.unchanged ? .ok : .created, try encode(reply))
            case .failure(let error):
                return refusal(error.kind, error.message)
            }
        }
        router.get("/api/v1/config") { _, _ -> Response in
            let list = try await coordinator.perform { state in
                state.configs.names.map { name in
                    ConfigSummary(
                        name: name, current: state.configs.current(name)?.version,
                        lastKnownGood: state.configs.lastKnownGood(name)?.version,
                        versions: state.configs.history(name)?.count ?? 0)
                }
            }
            return json(.ok, try encode(["configs": list]))
        }
        router.get("/api/v1/config/{name}") { _, context -> Response in
            let name = context.parameters.get("name") ?? ""
            let detail = try await coordinator.perform { state -> ConfigDetail? in
                guard let history = state.configs.history(name) else { return nil }
                return ConfigDetail(
                    name: name, current: state.configs.current(name)?.version,
                    lastKnownGood: state.configs.lastKnownGood(name)?.version, versions: history,
                    daemons: state.configs.daemonStates(forName: name))
            }
            guard let detail else { return json(.notFound, errorBody("no configuration named \(name)")) }
            return json(.ok, try encode(detail))
        }
        router.get("/api/v1/rollouts") { _, _ -> Response in
            let rollouts = try await coordinator.perform { $0.configs.rollouts }
            return json(.ok, try encode(["rollouts": rollouts]))
        }
        router.get("/api/v1/rollouts/{id}") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard let rollout = try await coordinator.perform({ $0.configs.rollout(id) }) else {
                return json(.notFound, errorBody("no rollout \(id)"))
            }
            return json(.ok, try encode(rollout))
        }
        admin.post("rollouts/{id}/{action}") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            let action = context.parameters.get("action") ?? ""
            guard ["pause", "resume", "abort"].contains(action) else {
                return json(.notFound, errorBody("unknown action '\(action)': use pause, resume or abort"))
            }
            let outcome = try await coordinator.perform { state -> Result<Rollout, ConfigError> in
                do throws(ConfigError) {
                    switch action {
                    case "pause": try state.configs.pause(id, now: state.now)
                    case "resume": state.send(try state.configs.resume(id, now: state.now))
                    default: state.send(try state.configs.abort(id, now: state.now))
                    }
                    return .success(state.configs.rollout(id)!)
                } catch {
                    return .failure(error)
                }
            }
            switch outcome {
            case .success(let rollout): return json(.ok, try encode(rollout))
            case .failure(let error): return refusal(error.kind, error.message)
            }
        }
    }
}

/// What `PUT /api/v1/config/{name}` asks for. With `Content-Type: application/json` the body is
/// an envelope `{"content": "...", "selector": {...}, "rollout": {...}, "comment": "..."}`;
/// with any other type the body is the document itself, and the selector and rollout come
/// from query parameters (`labels=env=prod,tier=web`, `region`, `batch_size`, `batch_percent`,
/// `gate_seconds`, `max_failure_percent`, `apply_timeout_seconds`, `comment`).
struct ConfigPut {
    var content: [UInt8]
    var selector = DaemonSelector()
    var rollout: RolloutStrategy?
    var comment = ""

    struct Envelope: Decodable {
        var content: String
        var selector: DaemonSelector?
        var rollout: RolloutStrategy?
        var comment: String?
    }

    init(request: Request, body: Data) throws {
        if request.headers[.contentType]?.hasPrefix("application/json") == true {
            let envelope: Envelope
            do { envelope = try JSONDecoder().decode(Envelope.self, from: body) } catch {
                throw RequestError("expected {\"content\": \"…\", \"selector\": {…}, \"rollout\": {…}, \"comment\": \"…\"}: \(describe(error)); send the document itself with another Content-Type")
            }
            content = Array(envelope.content.utf8)
            selector = envelope.selector ?? DaemonSelector()
            rollout = envelope.rollout
            comment = envelope.comment ?? ""
            return
        }
        content = Array(body)
        let query = request.uri.queryParameters
        if let labels = query.get("labels") {
            for pair in labels.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                guard kv.count == 2 else { throw RequestError("labels must look like labels=env=prod,tier=web; got '\(pair)'") }
                selector.labels[String(kv[0])] = String(kv[1])
            }
        }
        selector.region = query.get("region")
        comment = query.get("comment") ?? ""
        func number(_ key: String) throws -> Double? {
            guard let text = query.get(key) else { return nil }
            guard let v = Double(text) else { throw RequestError("\(key) must be a number, got '\(text)'") }
            return v
        }
        let keys = ["batch_size", "batch_percent", "gate_seconds", "max_failure_percent", "apply_timeout_seconds"]
        guard keys.contains(where: { query.get($0) != nil }) else { return }
        var strategy = RolloutStrategy()
        strategy.batchSize = try number("batch_size").map { Int($0) }
        strategy.batchPercent = try number("batch_percent").map { Int($0) }
        if let v = try number("gate_seconds") { strategy.gateSeconds = v }
        if let v = try number("max_failure_percent") { strategy.maxFailurePercent = v }
        if let v = try number("apply_timeout_seconds") { strategy.applyTimeoutSeconds = v }
        rollout = strategy
    }
}

/// The answer to a PUT: the version (new, or the latest when unchanged) and its rollout.
struct ConfigPutReply: Encodable {
    let document: ConfigDocument
    let rollout: Rollout?
    let unchanged: Bool
}

/// One entry of `GET /api/v1/config`.
struct ConfigSummary: Encodable {
    let name: String
    let current: UInt64?
    let lastKnownGood: UInt64?
    let versions: Int

    enum CodingKeys: String, CodingKey {
        case name, current, versions
        case lastKnownGood = "last_known_good"
    }
}

/// `GET /api/v1/config/{name}`: history, and where each daemon is with it.
struct ConfigDetail: Encodable {
    let name: String
    let current: UInt64?
    let lastKnownGood: UInt64?
    let versions: [ConfigDocument]
    let daemons: [String: DaemonConfigState]

    enum CodingKeys: String, CodingKey {
        case name, current, versions, daemons
        case lastKnownGood = "last_known_good"
    }
}
