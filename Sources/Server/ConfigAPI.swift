import Control
import Foundation
import Hummingbird
import NIOCore

/// The configuration part of the HTTP API (docs/api.md, "Configuration and rollouts"):
/// versioned documents, their history and per-daemon status, and rollouts.
struct ConfigAPI: Sendable {
    let coordinator: ControlCoordinator

    /// Adds the reads to `router` and the changes to `admin`, the `/api/v1` group behind the
    /// admin token.
    func add(to router: Router<HyphaRequestContext>, admin: RouterGroup<HyphaRequestContext>) {
        admin.put("config/{name}") { request, context -> EditedResponse<ConfigPutReply> in
            let name = context.parameters.get("name") ?? ""
            let body = try await request.body.collect(upTo: 2 << 20)
            let put = try ConfigPut(request: request, body: Data(body.readableBytesView))
            let update = try await coordinator.performRequest { state -> ConfigUpdate in
                let update = try state.configs.put(
                    name: name, content: put.content, selector: put.selector, rollout: put.rollout, comment: put.comment,
                    online: Array(state.online.values), now: state.now)
                state.send(update.commands)
                return update
            }
            let reply = ConfigPutReply(document: update.document, rollout: update.rollout, unchanged: update.unchanged)
            return EditedResponse(status: update.unchanged ? .ok : .created, response: reply)
        }
        router.get("/api/v1/config") { _, _ -> ConfigList in
            let summaries = try await coordinator.perform { state in
                state.configs.names.map { name in
                    ConfigSummary(
                        name: name, current: state.configs.current(name)?.version,
                        lastKnownGood: state.configs.lastKnownGood(name)?.version,
                        versions: state.configs.history(name)?.count ?? 0)
                }
            }
            return ConfigList(configs: summaries)
        }
        router.get("/api/v1/config/{name}") { _, context -> ConfigDetail in
            let name = context.parameters.get("name") ?? ""
            let detail = try await coordinator.perform { state -> ConfigDetail? in
                guard let history = state.configs.history(name) else { return nil }
                return ConfigDetail(
                    name: name, current: state.configs.current(name)?.version,
                    lastKnownGood: state.configs.lastKnownGood(name)?.version, versions: history,
                    daemons: state.configs.daemonStates(forName: name))
            }
            guard let detail else { throw APIError(.notFound, "no configuration named \(name)") }
            return detail
        }
        router.get("/api/v1/rollouts") { _, _ -> RolloutList in
            RolloutList(rollouts: try await coordinator.perform { $0.configs.rollouts })
        }
        router.get("/api/v1/rollouts/{id}") { _, context -> JSONReply<Rollout> in
            let id = context.parameters.get("id") ?? ""
            guard let rollout = try await coordinator.perform({ $0.configs.rollout(id) }) else {
                throw APIError(.notFound, "no rollout \(id)")
            }
            return JSONReply(rollout)
        }
        admin.post("rollouts/{id}/{action}") { _, context -> JSONReply<Rollout> in
            let id = context.parameters.get("id") ?? ""
            let action = context.parameters.get("action") ?? ""
            guard ["pause", "resume", "abort"].contains(action) else {
                throw APIError(.notFound, "unknown action '\(action)': use pause, resume or abort")
            }
            let rollout = try await coordinator.performRequest { state -> Rollout in
                switch action {
                case "pause": try state.configs.pause(id, now: state.now)
                case "resume": state.send(try state.configs.resume(id, now: state.now))
                default: state.send(try state.configs.abort(id, now: state.now))
                }
                return state.configs.rollout(id)!
            }
            return JSONReply(rollout)
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

    /// Reads the request.
    /// - Throws: ``APIError`` `400` naming what is wrong with the envelope or a query parameter.
    init(request: Request, body: Data) throws(APIError) {
        if request.headers[.contentType]?.hasPrefix("application/json") == true {
            let envelope: Envelope
            do { envelope = try JSONDecoder().decode(Envelope.self, from: body) } catch {
                throw APIError(.badRequest, "expected {\"content\": \"…\", \"selector\": {…}, \"rollout\": {…}, \"comment\": \"…\"}: \(describe(error)); send the document itself with another Content-Type")
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
                guard kv.count == 2 else { throw APIError(.badRequest, "labels must look like labels=env=prod,tier=web; got '\(pair)'") }
                selector.labels[String(kv[0])] = String(kv[1])
            }
        }
        selector.region = query.get("region")
        comment = query.get("comment") ?? ""
        func number(_ key: String) throws(APIError) -> Double? {
            guard let text = query.get(key) else { return nil }
            guard let v = Double(text) else { throw APIError(.badRequest, "\(key) must be a number, got '\(text)'") }
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
struct ConfigPutReply: ResponseEncodable, Sendable {
    let document: ConfigDocument
    let rollout: Rollout?
    let unchanged: Bool
}

/// `GET /api/v1/config`.
struct ConfigList: ResponseEncodable, Sendable {
    let configs: [ConfigSummary]
}

/// One entry of `GET /api/v1/config`.
struct ConfigSummary: Encodable, Sendable {
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
struct ConfigDetail: ResponseEncodable, Sendable {
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

/// `GET /api/v1/rollouts`.
struct RolloutList: ResponseEncodable, Sendable {
    let rollouts: [Rollout]
}
