public import Control
public import Ingest
public import WAL
import NIOCore
import Yams

/// Everything `hypha serve` can be told, with its defaults. Built from the optional YAML file
/// (`--config`) and then the command-line flags, which win.
public struct ServeConfiguration: Sendable {
    public var dataDirectory = "hypha-data"
    public var bindHost = "127.0.0.1"
    public var ports = ListenerPorts()
    public var httpPort: Int? = 7401
    public var wal = WALOptions()
    public var limits = IngestLimits()
    /// Tokens a native daemon must present at HELLO (empty: none required).
    public var tokens: Set<String> = []
    /// Token required by mutating HTTP endpoints (nil: none).
    public var adminToken: String?
    /// Largest HTTP request body (`POST /write`), default 32 MiB.
    public var maxBodyBytes = 32 << 20
    public var nodeID = "hypha"
    public var threads = System.coreCount
    /// A daemon is Offline after this long without a heartbeat (default 30 s).
    public var offlineAfterSeconds = 30
    /// A daemon or shard is Degraded when its lag exceeds this (default 5 s).
    public var degradedLagSeconds = 5
    /// Shard → region (default: every shard in one region).
    public var topology = Topology()
    /// The alert rules file (`--rules`), if any.
    public var rulesPath: String?
    /// Seconds between alert evaluations (default 5).
    public var evaluationIntervalSeconds = 5
    /// Bounds and expiry of the daemon and source registry.
    public var registry = RegistryLimits()
    /// How long a task lease lasts without a renewal (`flowLease`, default 10 s).
    public var flowLeaseMilliseconds = 10_000
    /// The heartbeat interval announced to native daemons in HELLO_OK (default 5 s).
    public var heartbeatIntervalMilliseconds = 5_000
    /// Tasks kept at most, terminated ones until retention drops them (default 100,000).
    public var maxTasks = 100_000

    public init() {}

    /// Allowed task lease durations, in milliseconds.
    public static let flowLeaseRange = 100 ... 3_600_000
    /// Allowed heartbeat intervals, in milliseconds.
    public static let heartbeatRange = 50 ... 600_000

    /// The names of the listeners this configuration enables (as `Node.run` reports them).
    public var listenerNames: Set<String> {
        var names: Set<String> = []
        if ports.native != nil { names.insert("native") }
        if ports.syslog != nil { names.formUnion(["syslog", "syslog_udp"]) }
        if ports.json != nil { names.insert("json") }
        if ports.influx != nil { names.insert("influx") }
        if ports.graphite != nil { names.insert("graphite") }
        if httpPort != nil { names.insert("http") }
        return names
    }

    /// Applies a YAML document. Every key must be known; an unknown key is an error that names
    /// it (with its path), so a typo never silently falls back to a default.
    public mutating func apply(yaml text: String) throws(ConfigurationError) {
        let node: Yams.Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw ConfigurationError("invalid YAML: \(error)")
        }
        guard let node else { return }
        guard let root = node.mapping else { throw ConfigurationError("the configuration must be a mapping of keys to values") }
        for (keyNode, value) in root {
            guard let key = keyNode.string else { throw ConfigurationError("a key is not a string") }
            try apply(key: key, value: value)
        }
    }

    private mutating func apply(key: String, value: Yams.Node) throws(ConfigurationError) {
        switch key {
        case "data": dataDirectory = try value.text(key)
        case "bind": bindHost = try value.text(key)
        case "node_id": nodeID = try value.text(key)
        case "threads": threads = try value.integer(key, 1 ... 1024)
        case "shards": wal.shardCount = try value.integer(key, 1 ... 65_536)
        case "durability":
            guard let d = Durability(rawValue: try value.text(key)) else { throw ConfigurationError("durability must be none, interval or batch") }
            wal.durability = d
        case "sync_interval_ms": wal.syncIntervalMilliseconds = try value.integer(key, 1 ... 60_000)
        case "segment_mib": wal.segmentSize = try value.integer(key, 1 ... 4096) << 20
        case "retention_mib":
            let v = try value.integer(key, 0 ... Int(Int32.max))
            wal.retention.maxBytesPerShard = v == 0 ? nil : v << 20
        case "retention_hours":
            let v = try value.integer(key, 0 ... 1_000_000)
            wal.retention.maxAgeSeconds = v == 0 ? nil : Int64(v) * 3600
        case "codec":
            guard let c = WALCodec(name: try value.text(key)) else { throw ConfigurationError("codec must be lz4, zstd or none") }
            limits.codec = c
        case "batch_kib": limits.batchBytes = try value.integer(key, 1 ... 65_536) << 10
        case "linger_ms": limits.lingerNanoseconds = UInt64(try value.integer(key, 1 ... 60_000)) * 1_000_000
        case "tokens":
            guard let list = value.sequence else { throw ConfigurationError("tokens must be a list of strings") }
            tokens = Set(try list.map { n throws(ConfigurationError) in try n.text("tokens[]") })
        case "admin_token": adminToken = try value.text(key)
        case "offline_after_s": offlineAfterSeconds = try value.integer(key, 1 ... 86_400)
        case "degraded_lag_s": degradedLagSeconds = try value.integer(key, 1 ... 86_400)
        case "rules": rulesPath = try value.text(key)
        case "evaluation_interval_s": evaluationIntervalSeconds = try value.integer(key, 1 ... 3600)
        case "max_daemons": registry.maxDaemons = try value.integer(key, 1 ... 10_000_000)
        case "max_sources": registry.maxSources = try value.integer(key, 1 ... 10_000_000)
        case "source_expiry_s": registry.sourceExpiry = .seconds(try value.integer(key, 1 ... 86_400 * 365))
        case "daemon_expiry_s": registry.daemonExpiry = .seconds(try value.integer(key, 1 ... 86_400 * 365))
        case "flow_lease_ms": flowLeaseMilliseconds = try value.integer(key, Self.flowLeaseRange)
        case "heartbeat_interval_ms": heartbeatIntervalMilliseconds = try value.integer(key, Self.heartbeatRange)
        case "max_tasks": maxTasks = try value.integer(key, 1 ... 10_000_000)
        case "topology":
            var map: [Int: String] = [:]
            try value.each(key) { (k: String, v: Yams.Node) throws(ConfigurationError) in
                guard let shard = Int(k) else { throw ConfigurationError("topology keys must be shard numbers, got '\(k)'") }
                map[shard] = try v.text("topology.\(k)")
            }
            topology = Topology(shardRegions: map)
        case "ports":
            try value.each(key) { (k: String, v: Yams.Node) throws(ConfigurationError) in
                let port = try v.port("ports.\(k)")
                switch k {
                case "native": ports.native = port
                case "syslog": ports.syslog = port
                case "json": ports.json = port
                case "influx": ports.influx = port
                case "graphite": ports.graphite = port
                case "http": httpPort = port
                default: throw ConfigurationError("unknown configuration key 'ports.\(k)' (known: native, syslog, json, influx, graphite, http)")
                }
            }
        case "limits":
            try value.each(key) { (k: String, v: Yams.Node) throws(ConfigurationError) in
                let path = "limits.\(k)"
                switch k {
                case "line_kib": limits.maxLineBytes = try v.integer(path, 1 ... 65_536) << 10
                case "frame_mib": limits.maxFrameBytes = try v.integer(path, 1 ... 1024) << 20
                case "connections": limits.maxConnections = try v.integer(path, 1 ... 1_000_000)
                case "idle_timeout_s": limits.idleTimeoutSeconds = try v.integer(path, 1 ... 86_400 * 7)
                case "in_flight_mib": limits.maxInFlightBytes = try v.integer(path, 1 ... 1 << 20) << 20
                case "in_flight_shard_mib": limits.maxInFlightShardBytes = try v.integer(path, 1 ... 1 << 20) << 20
                case "body_mib": maxBodyBytes = try v.integer(path, 1 ... 4096) << 20
                default: throw ConfigurationError("unknown configuration key '\(path)' (known: line_kib, frame_mib, connections, idle_timeout_s, in_flight_mib, in_flight_shard_mib, body_mib)")
                }
            }
        default:
            throw ConfigurationError("unknown configuration key '\(key)' (known: data, bind, node_id, threads, shards, durability, sync_interval_ms, segment_mib, retention_mib, retention_hours, codec, batch_kib, linger_ms, tokens, admin_token, offline_after_s, degraded_lag_s, topology, rules, evaluation_interval_s, max_daemons, max_sources, source_expiry_s, daemon_expiry_s, flow_lease_ms, heartbeat_interval_ms, max_tasks, ports, limits)")
        }
    }
}

/// A configuration file or flag that cannot be used, with the reason.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Yams.Node {
    func text(_ key: String) throws(ConfigurationError) -> String {
        guard let s = scalar?.string else { throw ConfigurationError("'\(key)' must be a string (line \(mark?.line ?? 0))") }
        return s
    }

    func integer(_ key: String, _ range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let s = scalar?.string, let v = Int(s) else { throw ConfigurationError("'\(key)' must be a whole number (line \(mark?.line ?? 0))") }
        guard range.contains(v) else { throw ConfigurationError("'\(key)' must be between \(range.lowerBound) and \(range.upperBound), got \(v)") }
        return v
    }

    /// A port number, or `off`/`false` to disable the listener.
    func port(_ key: String) throws(ConfigurationError) -> Int? {
        if let s = scalar?.string, ["off", "false", "no"].contains(s.lowercased()) { return nil }
        return try integer(key, 0 ... 65_535)
    }

    func each(_ key: String, _ body: (String, Yams.Node) throws(ConfigurationError) -> Void) throws(ConfigurationError) {
        guard let map = mapping else { throw ConfigurationError("'\(key)' must be a mapping") }
        for (k, v) in map {
            guard let name = k.string else { throw ConfigurationError("a key under '\(key)' is not a string") }
            try body(name, v)
        }
    }
}
