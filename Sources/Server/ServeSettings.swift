public import Settings
import Control
import Ingest
import Platform
import WAL

extension ServeConfiguration {
    /// Every setting of `hypha serve`, written once: the command's flags, the keys of its YAML
    /// file (`--config`), their ranges, `--help` and the settings table of docs/api.md all come
    /// from here.
    public static let settings = SettingsTable<ServeConfiguration>(
        [nodeSettings, listenerSettings] + WALOptions.settings.lifted(into: \.wal).groups
            + [batchingSettings, limitSettings, querySettings, authenticationSettings, healthSettings, alertSettings, taskSettings])

    private typealias Group = SettingsTable<ServeConfiguration>.Group

    private static let nodeSettings = Group("Node", [
        .text("data", \.dataDirectory, placeholder: "path", help: "The data directory: the write-ahead log and the control state."),
        .text("bind", \.bindHost, placeholder: "address", help: "The address every listener binds to; the default is loopback only."),
        .text("node_id", \.nodeID, placeholder: "name", help: "This node's name, sent to daemons in HELLO_OK."),
        .integer("threads", \.threads, in: 1 ... 1024, shownDefault: "one per core", help: "Event-loop threads of the listeners."),
        .choice("log_level", \.logLevel, placeholder: "level", help: "The level the node logs at, on standard error."),
    ])

    private static let listenerSettings = Group("Listeners", [
        .port("ports.native", flag: "native-port", \.ports.native, help: "Native protocol port."),
        .port("ports.syslog", flag: "syslog-port", \.ports.syslog, help: "Syslog port, TCP and UDP."),
        .port("ports.json", flag: "json-port", \.ports.json, help: "JSON lines port."),
        .port("ports.influx", flag: "influx-port", \.ports.influx, help: "InfluxDB line protocol TCP port."),
        .port("ports.graphite", flag: "graphite-port", \.ports.graphite, help: "Graphite plaintext port."),
        .port("ports.http", flag: "http-port", \.httpPort, help: "HTTP API port: /health, /metrics, the JSON API, POST /write."),
    ])

    private static let batchingSettings = Group("Batching", [
        .choice("codec", \.limits.codec, help: "Compression of each sealed batch."),
        .bytes("batch_kib", \.limits.batchBytes, unit: .kibibytes, in: 1 ... 65_536, help: "Seal a shard's batch once it holds this much."),
        .duration(
            "linger_ms", \.limits.linger, unit: .milliseconds, in: 1 ... 60_000,
            help: "Seal a shard's batch this long after its first record, if it is not full sooner."),
    ])

    private static let limitSettings = Group("Limits", [
        .bytes(
            "limits.line_kib", flag: "max-line-kib", \.limits.maxLineBytes, unit: .kibibytes, in: 1 ... 65_536,
            help: "Longest line on the line protocols."),
        .bytes(
            "limits.frame_mib", flag: "max-frame-mib", \.limits.maxFrameBytes, unit: .mebibytes, in: 1 ... 1024,
            help: "Largest native frame and octet-counted syslog message."),
        .bytes(
            "limits.batch_mib", flag: "max-batch-mib", \.limits.maxBatchBytes, unit: .mebibytes, in: 1 ... BatchHeader.maxPayload >> 20,
            help: "Largest uncompressed native BATCH_COMPRESSED (max_batch_bytes in HELLO_OK); never more than fits in one WAL segment."),
        .integer(
            "limits.connections", flag: "max-connections", \.limits.maxConnections, in: 1 ... 1_000_000,
            help: "Most open connections, all listeners together."),
        .duration(
            "limits.idle_timeout_s", flag: "idle-timeout-s", \.limits.idleTimeout, unit: .seconds, in: 1 ... 604_800,
            help: "Close connections idle this long."),
        .bytes(
            "limits.in_flight_mib", flag: "max-in-flight-mib", \.limits.maxInFlightBytes, unit: .mebibytes,
            in: 1 ... 1 << 20, help: "Bytes sealed but not yet in the WAL, all shards together, before the listeners stop reading."),
        .bytes(
            "limits.in_flight_shard_mib", flag: "max-in-flight-shard-mib", \.limits.maxInFlightShardBytes,
            unit: .mebibytes, in: 1 ... 1 << 20, help: "The same bound for each shard."),
        .bytes(
            "limits.body_mib", flag: "max-body-mib", \.maxBodyBytes, unit: .mebibytes, in: 1 ... 4096,
            help: "Largest HTTP request body (POST /write)."),
    ])

    private static let querySettings = Group("Queries", [
        .integer(
            "query.concurrency", flag: "query-concurrency", \.queries.concurrency, in: 1 ... 64,
            help: "Log queries (/api/v1/logs/...) that scan at once, and PromQL queries that run at once (each kind); more log queries are answered 503 with Retry-After, as many more PromQL queries may wait and the rest are refused."),
        .integer(
            "query.threads", flag: "query-threads", \.queries.threads, in: 1 ... 1024, shownDefault: "half the cores",
            help: "Threads one log query scans shards with, at nice 10 so ingestion keeps the CPU."),
        .integer(
            "query.max_rows", flag: "query-max-rows", \.queries.maxRows, in: 1 ... 1_000_000,
            help: "The largest limit a log search may ask for; a larger one is answered 422."),
        .bytes(
            "query.response_mib", flag: "query-response-mib", \.queries.maxResponseBytes, unit: .mebibytes, in: 1 ... 4096,
            help: "The largest answer of a log query; a larger one is answered 413."),
        .duration(
            "query.timeout_s", flag: "query-timeout-s", \.queries.timeout, unit: .seconds, in: 1 ... 86_400,
            help: "How long a query may run: a log query is answered 503, a PromQL query fails (errorType timeout)."),
        .integer(
            "query.max_samples", flag: "query-max-samples", \.queries.maxSamples, in: 1 ... 2_000_000_000,
            help: "Most samples one PromQL query (/api/v1/query, /api/v1/query_range, /api/v1/series) may load or return; past it the query fails (errorType execution)."),
    ])

    private static let authenticationSettings = Group("Authentication", [
        .list(
            "tokens", flag: "token", \.tokens, placeholder: "token",
            help: "A token native daemons must present at HELLO; with none, no token is required."),
        .text(
            "admin_token", \.adminToken, placeholder: "token",
            help: "The token mutating HTTP endpoints require (Authorization: Bearer); with none, they are open."),
    ])

    private static let healthSettings = Group("Health and registry", [
        .duration(
            "offline_after_s", \.offlineAfter, unit: .seconds, in: 1 ... 86_400,
            help: "A daemon is Offline after this long without a heartbeat."),
        .duration(
            "degraded_lag_s", \.degradedLag, unit: .seconds, in: 1 ... 86_400,
            help: "A daemon or shard is Degraded when its lag exceeds this."),
        .mapping(
            "topology", \.topology, placeholder: "{<shard>: <region>, ...}",
            help: "The region of each shard (PUT /api/v1/topology changes it at run time).",
            parse: Self.topology(from:name:), show: Self.describe(_:)),
        .integer(
            "max_daemons", \.registry.maxDaemons, in: 1 ... 10_000_000,
            help: "Most native daemons tracked; the longest-silent disconnected ones are dropped first."),
        .integer(
            "max_sources", \.registry.maxSources, in: 1 ... 10_000_000,
            help: "Most plain-protocol sources (hosts, peers) tracked, by each event loop, the ingest statistics and the registry."),
        .duration(
            "source_expiry_s", \.registry.sourceExpiry, unit: .seconds, in: 1 ... 86_400 * 365,
            help: "Forget a source silent this long."),
        .duration(
            "daemon_expiry_s", \.registry.daemonExpiry, unit: .seconds, in: 1 ... 86_400 * 365,
            help: "Forget a disconnected daemon silent this long."),
    ])

    private static let alertSettings = Group("Alerts", [
        .text(
            "rules", \.rulesPath, placeholder: "file",
            help: "Alert rules file (YAML; reloaded on SIGHUP and POST /api/v1/rules/reload)."),
        .duration(
            "evaluation_interval_s", \.evaluationInterval, unit: .seconds, in: 1 ... 3600,
            help: "Time between alert evaluations."),
    ])

    private static let taskSettings = Group("Tasks", [
        .duration(
            "flow_lease_ms", \.flowLease, unit: .milliseconds, in: 100 ... 3_600_000,
            help: "A task's lease (flowLease) lasts this long without a renewal; then the task moves to another daemon."),
        .duration(
            "heartbeat_interval_ms", \.heartbeatInterval, unit: .milliseconds, in: 50 ... 600_000,
            help: "Heartbeat interval announced to native daemons; each heartbeat renews the daemon's leases."),
        .integer(
            "max_tasks", \.maxTasks, in: 1 ... 10_000_000,
            help: "Most tasks kept; terminated ones count until they are dropped, an hour after they end."),
    ])

    /// The topology from the entries of `topology:` (shard number: region).
    private static func topology(from entries: [(key: String, value: String)], name: String) throws(SettingsError) -> Topology {
        var regions: [Int: String] = [:]
        for (key, region) in entries {
            guard let shard = Int(key), shard >= 0 else {
                throw SettingsError(.invalidValue, "\(name) keys must be shard numbers, got '\(key)'")
            }
            regions[shard] = region
        }
        return Topology(shardRegions: regions)
    }

    /// `topology` as help shows it.
    private static func describe(_ topology: Topology) -> String {
        guard !topology.shardRegions.isEmpty else { return "every shard in region \(Topology.defaultRegion)" }
        return topology.shardRegions.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
    }
}

extension IngestLimits {
    /// ``lingerNanoseconds`` as a `Duration`, as the settings table stores it.
    var linger: Duration {
        get { .nanoseconds(Int64(clamping: lingerNanoseconds)) }
        set { lingerNanoseconds = UInt64(max(0, newValue.clampedNanoseconds)) }
    }

    /// ``idleTimeoutSeconds`` as a `Duration`, as the settings table stores it.
    var idleTimeout: Duration {
        get { .seconds(idleTimeoutSeconds) }
        set { idleTimeoutSeconds = Int(newValue.components.seconds) }
    }
}
