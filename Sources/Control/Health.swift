import Foundation

// The health model: what `GET /health` returns. Every type is a value, `Codable`, `Equatable`
// and `Sendable`; encoding to JSON and decoding gives back an equal value. Conventions:
// - times are `Int64` nanoseconds since the Unix epoch (server clock); durations are `Double`
//   seconds named `…Seconds`, derived from integer nanoseconds or milliseconds;
// - rates and sizes are never NaN or infinite (the evaluator replaces those by 0);
// - arrays are sorted: daemons by id, shards by index, regions by name;
// - optional fields are absent from the JSON when `nil`.

/// Healthy, Degraded or Offline: the state of a daemon, shard, region or the cluster.
///
/// Ordered by severity (`healthy < degraded < offline`), so the worst of several states is
/// their `max()`. Encodes as `"healthy"`, `"degraded"` or `"offline"`.
public enum HealthState: String, Sendable, Codable, CaseIterable, Comparable {
    /// Working within the thresholds.
    case healthy
    /// Working, but behind: lag over ``HealthThresholds/degradedLag``, or (a region) some of its
    /// daemons or shards are not healthy.
    case degraded
    /// Not heard from for ``HealthThresholds/offlineAfter`` (a daemon), or every daemon offline
    /// (a region).
    case offline

    private var severity: Int {
        switch self {
        case .healthy: 0
        case .degraded: 1
        case .offline: 2
        }
    }

    /// Whether `a` is less severe than `b`.
    public static func < (a: HealthState, b: HealthState) -> Bool { a.severity < b.severity }
}

/// How many daemons are in each state.
public struct HealthCounts: Sendable, Equatable, Codable {
    /// Daemons Healthy.
    public var healthy: Int
    /// Daemons Degraded.
    public var degraded: Int
    /// Daemons Offline.
    public var offline: Int

    /// Counts given one by one.
    public init(healthy: Int = 0, degraded: Int = 0, offline: Int = 0) {
        self.healthy = healthy
        self.degraded = degraded
        self.offline = offline
    }

    /// All daemons counted.
    public var total: Int { healthy + degraded + offline }

    /// Counts one more daemon in `state`.
    public mutating func count(_ state: HealthState) {
        switch state {
        case .healthy: healthy += 1
        case .degraded: degraded += 1
        case .offline: offline += 1
        }
    }
}

/// One native daemon's health.
public struct DaemonHealth: Sendable, Equatable, Codable {
    /// The daemon's id.
    public var id: String
    /// Its region (from its HELLO; ``Topology/defaultRegion`` when it named none).
    public var region: String
    /// Its labels (from its HELLO).
    public var labels: [String: String]
    /// Its agent version (from its HELLO).
    public var agentVersion: String
    /// The shard its batches go to (the hash of its id); `nil` when the node has no shards.
    public var shard: Int?
    /// Whether a connection of the daemon is open.
    public var connected: Bool
    /// Healthy, Degraded (lag over the threshold) or Offline (no heartbeat for too long).
    public var state: HealthState
    /// Why it is not healthy, in words; `nil` when healthy.
    public var reason: String?
    /// When its latest heartbeat arrived; `nil` when none has.
    public var lastHeartbeat: Int64?
    /// When its latest sign of life (HELLO or heartbeat) arrived: Offline is timed from here.
    public var lastSeen: Int64
    /// Its lag: the age of its oldest unacknowledged record at its latest heartbeat (0 before one).
    public var lagSeconds: Double
    /// Bytes it had buffered, unacknowledged, at its latest heartbeat.
    public var backlogBytes: UInt64
    /// Records it has sent since it started (latest heartbeat).
    public var recordsSent: UInt64
    /// Errors it has counted since it started (latest heartbeat).
    public var errors: UInt64
    /// EMA of its records/s from the growth of `recordsSent` between heartbeats; `nil` until two
    /// heartbeats arrived.
    public var recordsPerSecond: Double?

    /// A daemon's health given field by field (the evaluator builds these; tests may too).
    public init(
        id: String, region: String, labels: [String: String] = [:], agentVersion: String = "", shard: Int? = nil,
        connected: Bool, state: HealthState, reason: String? = nil, lastHeartbeat: Int64? = nil, lastSeen: Int64,
        lagSeconds: Double = 0, backlogBytes: UInt64 = 0, recordsSent: UInt64 = 0, errors: UInt64 = 0,
        recordsPerSecond: Double? = nil
    ) {
        self.id = id
        self.region = region
        self.labels = labels
        self.agentVersion = agentVersion
        self.shard = shard
        self.connected = connected
        self.state = state
        self.reason = reason
        self.lastHeartbeat = lastHeartbeat
        self.lastSeen = lastSeen
        self.lagSeconds = lagSeconds
        self.backlogBytes = backlogBytes
        self.recordsSent = recordsSent
        self.errors = errors
        self.recordsPerSecond = recordsPerSecond
    }
}

/// One shard's health and figures.
public struct ShardStats: Sendable, Equatable, Codable {
    /// The shard index.
    public var shard: Int
    /// Its region, from the topology in force when the snapshot was taken.
    public var region: String
    /// Healthy, or Degraded when its WAL sync lag exceeds the threshold (shards are never Offline).
    public var state: HealthState
    /// Why it is not healthy, in words; `nil` when healthy.
    public var reason: String?
    /// Daemons and sources routed to the shard (``daemons`` + ``sources``).
    public var entities: Int
    /// Known daemons routed to the shard (by the hash of their id, as Ingest routes them).
    public var daemons: Int
    /// Known plain-protocol sources routed to the shard (by the hash of their name).
    public var sources: Int
    /// The ingest path's EMA of records/s written to the shard.
    public var recordsPerSecond: Double
    /// The ingest path's EMA of bytes/s written to the shard.
    public var bytesPerSecond: Double
    /// The shard's WAL sync lag.
    public var lagSeconds: Double
    /// Bytes of the shard's WAL on disk.
    public var diskBytes: Int64
    /// The latest heartbeat or HELLO of a daemon routed to the shard; `nil` when none.
    public var lastHeartbeat: Int64?
    /// The latest record or reject of a source routed to the shard; `nil` when none.
    public var lastRecord: Int64?

    /// A shard's figures; ``entities`` is computed as `daemons + sources`.
    public init(
        shard: Int, region: String, state: HealthState = .healthy, reason: String? = nil, daemons: Int = 0,
        sources: Int = 0, recordsPerSecond: Double = 0, bytesPerSecond: Double = 0, lagSeconds: Double = 0,
        diskBytes: Int64 = 0, lastHeartbeat: Int64? = nil, lastRecord: Int64? = nil
    ) {
        self.shard = shard
        self.region = region
        self.state = state
        self.reason = reason
        self.entities = daemons + sources
        self.daemons = daemons
        self.sources = sources
        self.recordsPerSecond = recordsPerSecond
        self.bytesPerSecond = bytesPerSecond
        self.lagSeconds = lagSeconds
        self.diskBytes = diskBytes
        self.lastHeartbeat = lastHeartbeat
        self.lastRecord = lastRecord
    }
}

/// One region's health: its daemons (by their HELLO region) and its shards (by the topology).
public struct RegionHealth: Sendable, Equatable, Codable {
    /// The region's name.
    public var name: String
    /// Offline when it has daemons and all are Offline; Degraded when any daemon is Degraded
    /// or Offline or any shard is Degraded; else Healthy.
    public var state: HealthState
    /// Why it is not healthy, in words; `nil` when healthy.
    public var reason: String?
    /// Its daemons per state.
    public var daemons: HealthCounts
    /// Its shard indices, ascending (details in ``ClusterHealth/shards``).
    public var shards: [Int]
    /// Sum of its shards' records/s.
    public var recordsPerSecond: Double
    /// Sum of its shards' bytes/s.
    public var bytesPerSecond: Double
    /// Sum of its shards' WAL bytes on disk.
    public var diskBytes: Int64

    /// A region's health; `shards` are sorted here.
    public init(
        name: String, state: HealthState, reason: String? = nil, daemons: HealthCounts = HealthCounts(), shards: [Int] = [],
        recordsPerSecond: Double = 0, bytesPerSecond: Double = 0, diskBytes: Int64 = 0
    ) {
        self.name = name
        self.state = state
        self.reason = reason
        self.daemons = daemons
        self.shards = shards.sorted()
        self.recordsPerSecond = recordsPerSecond
        self.bytesPerSecond = bytesPerSecond
        self.diskBytes = diskBytes
    }
}

/// Node-wide sums.
public struct HealthTotals: Sendable, Equatable, Codable {
    /// Daemons per state.
    public var daemons: HealthCounts
    /// Known plain-protocol sources.
    public var sources: Int
    /// Sum of every shard's records/s.
    public var recordsPerSecond: Double
    /// Sum of every shard's bytes/s.
    public var bytesPerSecond: Double
    /// Sum of every shard's WAL bytes on disk.
    public var diskBytes: Int64

    /// Totals given one by one.
    public init(
        daemons: HealthCounts = HealthCounts(), sources: Int = 0, recordsPerSecond: Double = 0, bytesPerSecond: Double = 0,
        diskBytes: Int64 = 0
    ) {
        self.daemons = daemons
        self.sources = sources
        self.recordsPerSecond = recordsPerSecond
        self.bytesPerSecond = bytesPerSecond
        self.diskBytes = diskBytes
    }
}

/// The whole node's health at one moment: what `GET /health` returns.
///
/// Produced by ``HealthEvaluator/evaluate(registry:shards:topology:now:)``. Encode it with
/// ``jsonString()`` (sorted keys, so equal values give equal bytes); `JSONDecoder` gives back
/// an equal value.
public struct ClusterHealth: Sendable, Equatable, Codable {
    /// When the snapshot was taken (nanoseconds since the Unix epoch).
    public var time: Int64
    /// The worst region's state (Healthy when there is no region).
    public var state: HealthState
    /// Why it is not healthy, in words (the regions that are not); `nil` when healthy.
    public var reason: String?
    /// Every shard, by index.
    public var shards: [ShardStats]
    /// Every region (named by the topology or by a daemon), by name.
    public var regions: [RegionHealth]
    /// Every known daemon, by id.
    public var daemons: [DaemonHealth]
    /// Node-wide sums.
    public var totals: HealthTotals

    /// A snapshot; `shards`, `regions` and `daemons` are sorted here.
    public init(
        time: Int64, state: HealthState, reason: String? = nil, shards: [ShardStats] = [], regions: [RegionHealth] = [],
        daemons: [DaemonHealth] = [], totals: HealthTotals = HealthTotals()
    ) {
        self.time = time
        self.state = state
        self.reason = reason
        self.shards = shards.sorted { $0.shard < $1.shard }
        self.regions = regions.sorted { $0.name < $1.name }
        self.daemons = daemons.sorted { $0.id < $1.id }
        self.totals = totals
    }

    /// The region named `name`, if any.
    public func region(_ name: String) -> RegionHealth? { regions.first { $0.name == name } }

    /// The daemon with `id`, if known.
    public func daemon(_ id: String) -> DaemonHealth? { daemons.first { $0.id == id } }

    /// The JSON text of this snapshot, keys sorted.
    /// - Throws: `EncodingError` only if a value cannot be encoded (the evaluator never
    ///   produces such values).
    public func jsonString(prettyPrinted: Bool = false) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = prettyPrinted ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Decodes a snapshot from the JSON text ``jsonString(prettyPrinted:)`` produces.
    public init(jsonString: String) throws {
        self = try JSONDecoder().decode(ClusterHealth.self, from: Data(jsonString.utf8))
    }
}
