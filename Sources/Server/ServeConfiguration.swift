public import Control
public import Ingest
public import Logging
public import WAL
import NIOCore

/// Everything `hypha serve` can be told, with its defaults. Every field is set by one entry of
/// ``settings`` (its flag, YAML key, range and help); `hypha serve` applies the YAML file given
/// with `--config` and then the flags, which win.
public struct ServeConfiguration: Sendable {
    /// The data directory: the write-ahead log and the control state.
    public var dataDirectory = "hypha-data"
    /// The address every listener binds to (loopback by default).
    public var bindHost = "127.0.0.1"
    /// This node's name, sent to daemons in HELLO_OK.
    public var nodeID = "hypha"
    /// Event-loop threads (default: one per core).
    public var threads = System.coreCount
    /// The level the node logs at.
    public var logLevel: Logger.Level = .info
    /// The ingest listeners' ports (nil: the listener is off).
    public var ports = ListenerPorts()
    /// The HTTP API's port (nil: no HTTP API).
    public var httpPort: Int? = 7401
    /// How the write-ahead log is laid out, synced and kept.
    public var wal = WALOptions()
    /// Batching and the bounds of the record path.
    public var limits = IngestLimits()
    /// Largest HTTP request body (`POST /write`), default 32 MiB.
    public var maxBodyBytes = 32 << 20
    /// Tokens a native daemon must present at HELLO (empty: none required).
    public var tokens: Set<String> = []
    /// Token required by mutating HTTP endpoints (nil: none).
    public var adminToken: String?
    /// A daemon is Offline after this long without a heartbeat (default 30 s).
    public var offlineAfter: Duration = .seconds(30)
    /// A daemon or shard is Degraded when its lag exceeds this (default 5 s).
    public var degradedLag: Duration = .seconds(5)
    /// Shard → region (default: every shard in one region).
    public var topology = Topology()
    /// Bounds and expiry of the daemon and source registry; the source bounds also bound the
    /// ingest statistics (``IngestStats``).
    public var registry = RegistryLimits()
    /// The alert rules file, if any.
    public var rulesPath: String?
    /// Time between alert evaluations (default 5 s).
    public var evaluationInterval: Duration = .seconds(5)
    /// How long a task lease (`flowLease`) lasts without a renewal (default 10 s).
    public var flowLease: Duration = .seconds(10)
    /// The heartbeat interval announced to native daemons in HELLO_OK (default 5 s).
    public var heartbeatInterval: Duration = .seconds(5)
    /// Tasks kept at most, terminated ones until retention drops them (default 100,000).
    public var maxTasks = 100_000
    /// Bounds of the queries of the HTTP API (`/api/v1/logs/…` and the PromQL endpoints).
    public var queries = QueryLimits()

    /// Every default.
    public init() {}

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
}

/// A file that `hypha serve` needs and cannot use (the alert rules), with the reason.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How much the log queries of the HTTP API may take (docs/query.md, "Limits").
public struct QueryLimits: Sendable, Equatable {
    /// Queries that scan at once; more are answered 503 with Retry-After (default 2).
    public var concurrency = 2
    /// Threads one query scans with, at nice 10 so ingestion keeps the CPU (default: half the
    /// cores, at least one).
    public var threads = max(1, System.coreCount / 2)
    /// The largest `limit` a search may ask for (default 10,000).
    public var maxRows = 10_000
    /// The largest answer, in bytes of JSON (default 16 MiB).
    public var maxResponseBytes = 16 << 20
    /// How long one query may run (default 60 s).
    public var timeout: Duration = .seconds(60)
    /// Most samples one PromQL query may load from the WAL or return (default 50,000,000).
    public var maxSamples = 50_000_000

    public init() {}
}
