import WAL
import Control
import Foundation
import Hummingbird
import Ingest
import NIOCore

/// The control plane's HTTP API (docs/api.md): health, daemons, topology, alerts, rules.
struct ControlAPI: Sendable {
    let control: ControlPlaneRuntime
    let coordinator: ControlCoordinator
    let alerts: AlertsRuntime

    /// Adds the reads to `router` and the changes to `admin`, the `/api/v1` group behind the
    /// admin token.
    func add(to router: Router<HyphaRequestContext>, admin: RouterGroup<HyphaRequestContext>) {
        router.get("/health") { _, _ -> Response in
            json(.ok, try control.health().jsonString())
        }
        router.get("/api/v1/daemons") { _, _ -> Response in
            let health = control.health()
            let sources = control.registry.sources()
            let body = try encode(DaemonList(daemons: health.daemons, sources: sources))
            return json(.ok, body)
        }
        router.get("/api/v1/daemons/{id}") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            guard let record = control.registry.daemon(id: id), let health = control.health().daemon(id) else {
                return json(.notFound, errorBody("no daemon \(id)"))
            }
            let (tasks, configs) = try await coordinator.perform { state in
                (state.tasks.tasks(heldBy: id), state.configs.daemonStates(id))
            }
            return json(.ok, try encode(DaemonDetail(health: health, record: record, tasks: tasks, configs: configs)))
        }
        router.get("/api/v1/alerts") { _, _ -> Response in
            json(.ok, try encode(AlertList(alerts: alerts.engine.activeAlerts)))
        }
        router.get("/api/v1/rules") { _, _ -> Response in
            json(.ok, try encode(RuleList(path: alerts.rulesPath, rules: alerts.engine.rules)))
        }
        admin.post("rules/reload") { _, _ -> Response in
            if let problem = alerts.reload() {
                return json(.badRequest, "{\"error\":\(RecordJSON.quoted(problem)),\"kept\":\"the previous rules\"}")
            }
            return json(.ok, try encode(RuleList(path: alerts.rulesPath, rules: alerts.engine.rules)))
        }
        router.get("/api/v1/topology") { _, _ -> Response in
            json(.ok, try encode(TopologyDocument(control.monitor.topology)))
        }
        admin.put("topology") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let document: TopologyDocument
            do {
                document = try JSONDecoder().decode(TopologyDocument.self, from: Data(body.readableBytesView))
            } catch {
                return json(.badRequest, #"{"error":"expected {\"shards\":{\"0\":\"region\",...}}"}"#)
            }
            guard let topology = document.topology else {
                return json(.badRequest, #"{"error":"shard keys must be shard numbers"}"#)
            }
            do {
                try topology.validate(shardCount: control.shardCount)
            } catch {
                return json(.badRequest, errorBody("\(error)"))
            }
            control.monitor.topology = topology
            return json(.ok, try encode(TopologyDocument(topology)))
        }
    }

}

/// `GET /api/v1/daemons`.
struct DaemonList: Encodable {
    let daemons: [DaemonHealth]
    let sources: [SourceRecord]
}

/// `GET /api/v1/alerts`.
struct AlertList: Encodable {
    let alerts: [ActiveAlert]
}

/// `GET /api/v1/rules`.
struct RuleList: Encodable {
    let path: String?
    let rules: [AlertRule]
}

/// `GET /api/v1/daemons/{id}`: its health, what the registry knows, the tasks it holds and
/// where it is with each configuration.
struct DaemonDetail: Encodable {
    let health: DaemonHealth
    let record: DaemonRecord
    let tasks: [TaskRecord]
    let configs: [DaemonConfigState]
}

/// The topology on the wire: `{"shards":{"0":"eu-west","1":"us-east"}}`.
struct TopologyDocument: Codable {
    var shards: [String: String]

    init(_ topology: Topology) {
        shards = Dictionary(uniqueKeysWithValues: topology.shardRegions.map { (String($0.key), $0.value) })
    }

    /// The topology, or `nil` when a key is not a shard number.
    var topology: Topology? {
        var map: [Int: String] = [:]
        for (key, region) in shards {
            guard let shard = Int(key) else { return nil }
            map[shard] = region
        }
        return Topology(shardRegions: map)
    }
}
