public import ArgumentParser
import Foundation
import Ingest
import WAL
public import Logging
import Control
import Server

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Hypha node: ingest listeners, the write-ahead log and the HTTP API.",
        discussion: """
            Opens (and recovers) the write-ahead log under --data, then listens on every enabled \
            port, bound to --bind (loopback by default). Settings come from the defaults, then the \
            YAML file given with --config (unknown keys are an error), then these flags. A port of 0 \
            picks a free port; 'off' disables a listener. When every listener is up, one JSON line \
            {"event":"ready","listeners":{...}} is printed on standard output.

            SIGTERM or SIGINT drains the node: it stops accepting, seals, writes and syncs every \
            batch, sends the last native acknowledgements, and exits 0.
            """
    )

    @Option(help: "A YAML configuration file (keys: data, bind, node_id, threads, shards, durability, sync_interval_ms, segment_mib, retention_mib, retention_hours, codec, batch_kib, linger_ms, tokens, admin_token, offline_after_s, degraded_lag_s, topology, rules, evaluation_interval_s, max_daemons, max_sources, source_expiry_s, daemon_expiry_s, flow_lease_ms, heartbeat_interval_ms, max_tasks, ports.{native,syslog,json,influx,graphite,http}, limits.{line_kib,frame_mib,connections,idle_timeout_s,in_flight_mib,in_flight_shard_mib,body_mib}).")
    var config: String?

    @Option(help: "The data directory (default ./hypha-data).") var data: String?
    @Option(help: "Address every listener binds to (default 127.0.0.1, loopback only).") var bind: String?
    @Option(help: "Native protocol port (default 7400).") var nativePort: Port?
    @Option(help: "Syslog port, TCP and UDP (default 5514).") var syslogPort: Port?
    @Option(help: "JSON lines port (default 7402).") var jsonPort: Port?
    @Option(help: "InfluxDB line protocol TCP port (default 8089).") var influxPort: Port?
    @Option(help: "Graphite plaintext port (default 2003).") var graphitePort: Port?
    @Option(help: "HTTP API port: /health, /metrics, POST /write (default 7401).") var httpPort: Port?

    @Option(help: "WAL shards (default 4). Fixed when the data directory is created.") var shards: Int?
    @Option(help: "When a record is durable and may be acknowledged: none (page cache), interval (group commit; default), batch (synced per batch).") var durability: Durability?
    @Option(help: "Group-commit period in milliseconds for interval durability (default 10).") var syncIntervalMs: Int?
    @Option(help: "Segment file size in MiB (default 64).") var segmentMib: Int?
    @Option(help: "Keep at most this many MiB of WAL per shard; 0 = no size limit (default 8192).") var retentionMib: Int?
    @Option(help: "Delete closed segments older than this many hours; 0 = keep forever (default 168).") var retentionHours: Int?
    @Option(help: "Batch compression: lz4 (default), zstd or none.") var codec: WALCodec?
    @Option(help: "Seal a shard's batch at this many KiB (default 256).") var batchKib: Int?
    @Option(help: "... or this many milliseconds after its first record (default 5).") var lingerMs: Int?

    @Option(help: "Longest line on line protocols, in KiB (default 64).") var maxLineKib: Int?
    @Option(help: "Largest native frame, in MiB (default 8).") var maxFrameMib: Int?
    @Option(help: "Most open connections, all listeners together (default 10000).") var maxConnections: Int?
    @Option(help: "Close connections idle this many seconds (default 300).") var idleTimeoutS: Int?
    @Option(help: "Bytes in flight to the WAL before listeners stop reading, in MiB (default 256).") var maxInFlightMib: Int?
    @Option(help: "... per shard, in MiB (default 16).") var maxInFlightShardMib: Int?
    @Option(help: "Largest HTTP request body, in MiB (default 32).") var maxBodyMib: Int?

    @Option(help: "A token native daemons must present at HELLO; repeat for several. None: no token required.") var token: [String] = []
    @Option(help: "Token required by mutating HTTP endpoints.") var adminToken: String?
    @Option(help: "This node's name, sent to daemons in HELLO_OK (default: hypha).") var nodeId: String?
    @Option(help: "A daemon is Offline after this many seconds without a heartbeat (default 30).") var offlineAfterS: Int?
    @Option(help: "A daemon or shard is Degraded when its lag exceeds this many seconds (default 5).") var degradedLagS: Int?
    @Option(help: "Alert rules file (YAML; reloaded on SIGHUP and POST /api/v1/rules/reload).") var rules: String?
    @Option(help: "Seconds between alert evaluations (default 5).") var evaluationIntervalS: Int?
    @Option(help: "Most native daemons tracked; the longest-silent disconnected ones are dropped first (default 10000).") var maxDaemons: Int?
    @Option(help: "Most plain-protocol sources (hosts, peers) tracked; the longest-silent are dropped first (default 10000).") var maxSources: Int?
    @Option(help: "Forget a source silent this many seconds (default 3600).") var sourceExpiryS: Int?
    @Option(help: "Forget a disconnected daemon silent this many seconds (default 86400).") var daemonExpiryS: Int?
    @Option(help: "A task's lease (flowLease) lasts this many milliseconds without a renewal; then the task moves to another daemon (default 10000).") var flowLeaseMs: Int?
    @Option(help: "Heartbeat interval announced to native daemons, in milliseconds; each heartbeat renews the daemon's leases (default 5000).") var heartbeatIntervalMs: Int?
    @Option(help: "Most tasks kept; terminated ones count until they are dropped an hour after they end (default 100000).") var maxTasks: Int?
    @Option(help: "Event-loop threads (default: one per core).") var threads: Int?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default info).") var logLevel: Logger.Level = .info

    func resolved() throws -> ServeConfiguration {
        var c = ServeConfiguration()
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else {
                throw ValidationError("cannot read configuration file \(config)")
            }
            do { try c.apply(yaml: text) } catch { throw ValidationError("\(config): \(error)") }
        }
        if let data { c.dataDirectory = data }
        if let bind { c.bindHost = bind }
        if let nativePort { c.ports.native = nativePort.value }
        if let syslogPort { c.ports.syslog = syslogPort.value }
        if let jsonPort { c.ports.json = jsonPort.value }
        if let influxPort { c.ports.influx = influxPort.value }
        if let graphitePort { c.ports.graphite = graphitePort.value }
        if let httpPort { c.httpPort = httpPort.value }
        if let shards { c.wal.shardCount = try check("--shards", shards, 1 ... 65_536) }
        if let durability { c.wal.durability = durability }
        if let syncIntervalMs { c.wal.syncIntervalMilliseconds = try check("--sync-interval-ms", syncIntervalMs, 1 ... 60_000) }
        if let segmentMib { c.wal.segmentSize = try check("--segment-mib", segmentMib, 1 ... 4096) << 20 }
        if let retentionMib { c.wal.retention.maxBytesPerShard = try check("--retention-mib", retentionMib, 0 ... Int(Int32.max)) == 0 ? nil : retentionMib << 20 }
        if let retentionHours { c.wal.retention.maxAgeSeconds = try check("--retention-hours", retentionHours, 0 ... 1_000_000) == 0 ? nil : Int64(retentionHours) * 3600 }
        if let codec { c.limits.codec = codec }
        if let batchKib { c.limits.batchBytes = try check("--batch-kib", batchKib, 1 ... 65_536) << 10 }
        if let lingerMs { c.limits.lingerNanoseconds = UInt64(try check("--linger-ms", lingerMs, 1 ... 60_000)) * 1_000_000 }
        if let maxLineKib { c.limits.maxLineBytes = try check("--max-line-kib", maxLineKib, 1 ... 65_536) << 10 }
        if let maxFrameMib { c.limits.maxFrameBytes = try check("--max-frame-mib", maxFrameMib, 1 ... 1024) << 20 }
        if let maxConnections { c.limits.maxConnections = try check("--max-connections", maxConnections, 1 ... 1_000_000) }
        if let idleTimeoutS { c.limits.idleTimeoutSeconds = try check("--idle-timeout-s", idleTimeoutS, 1 ... 604_800) }
        if let maxInFlightMib { c.limits.maxInFlightBytes = try check("--max-in-flight-mib", maxInFlightMib, 1 ... 1 << 20) << 20 }
        if let maxInFlightShardMib { c.limits.maxInFlightShardBytes = try check("--max-in-flight-shard-mib", maxInFlightShardMib, 1 ... 1 << 20) << 20 }
        if let maxBodyMib { c.maxBodyBytes = try check("--max-body-mib", maxBodyMib, 1 ... 4096) << 20 }
        if !token.isEmpty { c.tokens = Set(token) }
        if let adminToken { c.adminToken = adminToken }
        if let nodeId { c.nodeID = nodeId }
        if let threads { c.threads = try check("--threads", threads, 1 ... 1024) }
        if let offlineAfterS { c.offlineAfterSeconds = try check("--offline-after-s", offlineAfterS, 1 ... 86_400) }
        if let degradedLagS { c.degradedLagSeconds = try check("--degraded-lag-s", degradedLagS, 1 ... 86_400) }
        if let rules { c.rulesPath = rules }
        if let maxDaemons { c.registry.maxDaemons = try check("--max-daemons", maxDaemons, 1 ... 10_000_000) }
        if let maxSources { c.registry.maxSources = try check("--max-sources", maxSources, 1 ... 10_000_000) }
        if let sourceExpiryS { c.registry.sourceExpiry = .seconds(try check("--source-expiry-s", sourceExpiryS, 1 ... 86_400 * 365)) }
        if let daemonExpiryS { c.registry.daemonExpiry = .seconds(try check("--daemon-expiry-s", daemonExpiryS, 1 ... 86_400 * 365)) }
        if let flowLeaseMs { c.flowLeaseMilliseconds = try check("--flow-lease-ms", flowLeaseMs, ServeConfiguration.flowLeaseRange) }
        if let heartbeatIntervalMs { c.heartbeatIntervalMilliseconds = try check("--heartbeat-interval-ms", heartbeatIntervalMs, ServeConfiguration.heartbeatRange) }
        if let maxTasks { c.maxTasks = try check("--max-tasks", maxTasks, 1 ... 10_000_000) }
        if let evaluationIntervalS { c.evaluationIntervalSeconds = try check("--evaluation-interval-s", evaluationIntervalS, 1 ... 3600) }
        return c
    }

    private func check(_ flag: String, _ value: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard range.contains(value) else { throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)") }
        return value
    }

    func run() async throws {
        let configuration = try resolved()
        var configured = Logger(label: "hypha")
        configured.logLevel = logLevel
        let logger = configured
        try await NodeRunner.run(configuration, logger: logger) { listeners in
            logger.info("hypha node ready", metadata: [
                "data": "\(configuration.dataDirectory)", "shards": "\(configuration.wal.shardCount)",
                "durability": "\(configuration.wal.durability)", "bind": "\(configuration.bindHost)",
            ])
            let fields = listeners.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
            var line = Array("{\"event\":\"ready\",\"listeners\":{\(fields)}}\n".utf8)
            _ = line.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
        }
    }
}

/// A listener port: a number (0 = any free port) or `off`.
struct Port: ExpressibleByArgument {
    let value: Int?
    init?(argument: String) {
        if ["off", "false", "no"].contains(argument.lowercased()) {
            value = nil
        } else if let n = Int(argument), (0 ... 65_535).contains(n) {
            value = n
        } else {
            return nil
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
