import Control
import Foundation
import Hummingbird
import NIOCore

/// The control plane's HTTP API (docs/api.md): health, daemons, topology, alerts, rules.
struct ControlAPI: Sendable {
    let control: ControlPlaneRuntime
    let coordinator: ControlCoordinator
    let alerts: AlertsRuntime

    /// Adds the reads to `router` and the changes to `admin`, the `/api/v1` group behind the
    /// admin token.
    func add(to router: Router<HyphaRequestContext>, admin: RouterGroup<HyphaRequestContext>) {
        router.get("/health") { _, _ in
            JSONReply(control.health())
        }
        router.get("/api/v1/daemons") { _, _ in
            DaemonList(daemons: control.health().daemons, sources: control.registry.sources())
        }
        router.get("/api/v1/daemons/{id}") { _, context -> DaemonDetail in
            let id = context.parameters.get("id") ?? ""
            guard let record = control.registry.daemon(id: id), let health = control.health().daemon(id) else {
                throw APIError(.notFound, "no daemon \(id)")
            }
            let (tasks, configs) = try await coordinator.perform { state in
                (state.tasks.tasks(heldBy: id), state.configs.daemonStates(id))
            }
            return DaemonDetail(health: health, record: record, tasks: tasks, configs: configs)
        }
        router.get("/api/v1/alerts") { _, _ in
            AlertList(alerts: alerts.engine.activeAlerts)
        }
        router.get("/api/v1/rules") { _, _ in
            RuleList(path: alerts.rulesPath, rules: alerts.engine.rules)
        }
        admin.post("rules/reload") { _, _ -> RuleList in
            if let problem = alerts.reload() {
                throw APIError(.badRequest, body: .init(error: problem, kept: "the previous rules"))
            }
            return RuleList(path: alerts.rulesPath, rules: alerts.engine.rules)
        }
        router.get("/api/v1/topology") { _, _ in
            TopologyDocument(control.monitor.topology)
        }
        admin.put("topology") { request, _ -> TopologyDocument in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let document = try? JSONDecoder().decode(TopologyDocument.self, from: Data(body.readableBytesView)) else {
                throw APIError(.badRequest, #"expected {"shards":{"0":"region",...}}"#)
            }
            guard let topology = document.topology else {
                throw APIError(.badRequest, "shard keys must be shard numbers")
            }
            do {
                try topology.validate(shardCount: control.shardCount)
            } catch {
                throw APIError(.badRequest, "\(error)")
            }
            control.monitor.topology = topology
            return TopologyDocument(topology)
        }
    }
}

/// `GET /api/v1/daemons`.
struct DaemonList: ResponseEncodable, Sendable {
    let daemons: [DaemonHealth]
    let sources: [SourceRecord]
}

/// `GET /api/v1/alerts`.
struct AlertList: ResponseEncodable, Sendable {
    let alerts: [ActiveAlert]
}

/// `GET /api/v1/rules` and `POST /api/v1/rules/reload`.
struct RuleList: ResponseEncodable, Sendable {
    let path: String?
    let rules: [AlertRule]
}

/// `GET /api/v1/daemons/{id}`: its health, what the registry knows, the tasks it holds and
/// where it is with each configuration.
struct DaemonDetail: ResponseEncodable, Sendable {
    let health: DaemonHealth
    let record: DaemonRecord
    let tasks: [TaskRecord]
    let configs: [DaemonConfigState]
}

/// The topology on the wire: `{"shards":{"0":"eu-west","1":"us-east"}}`.
struct TopologyDocument: ResponseCodable, Sendable {
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
