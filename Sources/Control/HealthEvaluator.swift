import Platform
import WAL

/// Computes ``ClusterHealth`` from a registry snapshot, per-shard inputs, the topology and the
/// time: a pure function (no I/O, no clock, no locks), so every rule is testable with plain
/// values.
///
/// Rules (edges in ``HealthThresholds``):
/// - **Daemon**: Offline when `now − lastSeen ≥ offlineAfter`, where `lastSeen` is its latest
///   heartbeat or HELLO (a disconnected daemon is timed the same way, from its last sign of
///   life, not from the disconnect); else Degraded when its lag (the oldest unacknowledged
///   record age of its latest heartbeat) exceeds `degradedLag`; else Healthy.
/// - **Shard**: Degraded when its WAL sync lag exceeds `degradedLag`, else Healthy. Its region
///   comes from the topology; daemons count on the shard their id hashes to, sources on the
///   shard their name hashes to (as Ingest routes them).
/// - **Region**: the regions are those of the shards (by topology) and of the daemons (by their
///   HELLO). Offline when it has daemons and all are Offline; Degraded when any daemon is
///   Degraded or Offline or any shard is Degraded; else Healthy. A region with no daemons and
///   healthy shards is Healthy: a single node with no configuration and no daemon is Healthy.
/// - **Cluster**: the worst region's state; Healthy when there is no region.
///
/// ```swift
/// let health = HealthEvaluator(thresholds: HealthThresholds(offlineAfter: .seconds(60)))
///     .evaluate(registry: registry.snapshot(), shards: inputs, topology: topology, now: clock.now)
/// ```
///
/// - Complexity: O(daemons + sources + shards), plus sorting.
public struct HealthEvaluator: Sendable, Equatable {
    /// The thresholds applied.
    public var thresholds: HealthThresholds

    /// An evaluator applying `thresholds` (30 s and 5 s by default).
    public init(thresholds: HealthThresholds = HealthThresholds()) { self.thresholds = thresholds }

    /// The health of everything at `now`.
    /// - Parameters:
    ///   - registry: the daemons and sources known (``DaemonRegistry/snapshot()``).
    ///   - shards: one input per shard, indexed by shard number; its count is the shard count.
    ///   - topology: shard → region; shards it does not name are in ``Topology/defaultRegion``.
    ///   - now: nanoseconds since the Unix epoch; ages before it are clamped at 0.
    public func evaluate(registry: RegistrySnapshot, shards: [ShardInput], topology: Topology, now: Int64) -> ClusterHealth {
        let shardCount = shards.count
        let daemons = registry.daemons.map { health(of: $0, shardCount: shardCount, now: now) }

        // Entities per shard.
        var daemonCounts = [Int](repeating: 0, count: shardCount)
        var sourceCounts = [Int](repeating: 0, count: shardCount)
        var lastHeartbeats = [Int64?](repeating: nil, count: shardCount)
        var lastRecords = [Int64?](repeating: nil, count: shardCount)
        for daemon in daemons {
            guard let shard = daemon.shard else { continue }
            daemonCounts[shard] += 1
            lastHeartbeats[shard] = max(lastHeartbeats[shard] ?? .min, daemon.lastSeen)
        }
        if shardCount > 0 {
            for source in registry.sources {
                let shard = SourceHash.shard(for: SourceHash.hash(source.name), shardCount: shardCount)
                sourceCounts[shard] += 1
                lastRecords[shard] = max(lastRecords[shard] ?? .min, source.lastSeen)
            }
        }

        let lagLimit = thresholds.degradedLagNanoseconds
        let shardStats = shards.enumerated().map { index, input in
            let lagging = input.syncLagNanoseconds > lagLimit
            return ShardStats(
                shard: index, region: topology.region(ofShard: index), state: lagging || input.stopped != nil ? .degraded : .healthy,
                reason: input.stopped
                    ?? (lagging ? "WAL sync lag \(Self.seconds(input.syncLagNanoseconds)) exceeds \(Self.seconds(lagLimit))" : nil),
                daemons: daemonCounts[index], sources: sourceCounts[index],
                recordsPerSecond: Self.finite(input.recordsPerSecond), bytesPerSecond: Self.finite(input.bytesPerSecond),
                lagSeconds: Double(input.syncLagNanoseconds) / 1e9, diskBytes: input.diskBytes,
                lastHeartbeat: lastHeartbeats[index], lastRecord: lastRecords[index])
        }

        // Regions.
        let shardsByRegion = Dictionary(grouping: shardStats, by: \.region)
        let daemonsByRegion = Dictionary(grouping: daemons, by: \.region)
        let names = Set(shardsByRegion.keys).union(daemonsByRegion.keys).sorted()
        let regions = names.map { name in
            region(name, shards: shardsByRegion[name] ?? [], daemons: daemonsByRegion[name] ?? [])
        }

        // Cluster.
        let state = regions.map(\.state).max() ?? .healthy
        let unwell = regions.filter { $0.state != .healthy }.map { "region \($0.name) \($0.state.rawValue)" }
        var totals = HealthTotals(sources: registry.sources.count)
        for daemon in daemons { totals.daemons.count(daemon.state) }
        for shard in shardStats {
            totals.recordsPerSecond += shard.recordsPerSecond
            totals.bytesPerSecond += shard.bytesPerSecond
            totals.diskBytes = totals.diskBytes.addingReportingOverflow(shard.diskBytes).partialValue
        }
        return ClusterHealth(
            time: now, state: state, reason: unwell.isEmpty ? nil : unwell.joined(separator: "; "), shards: shardStats,
            regions: regions, daemons: daemons, totals: totals)
    }

    /// One daemon's health at `now`.
    /// - Parameters:
    ///   - daemon: the registry's record.
    ///   - shardCount: the node's shard count, to name the daemon's shard (none when 0).
    ///   - now: nanoseconds since the Unix epoch.
    public func health(of daemon: DaemonRecord, shardCount: Int, now: Int64) -> DaemonHealth {
        let silence = max(0, now.subtractingReportingOverflow(daemon.lastSeen).partialValue)
        let offlineAfter = thresholds.offlineAfterNanoseconds
        let lagMilliseconds = daemon.heartbeat?.oldestUnackedAgeMilliseconds ?? 0
        let lag = lagMilliseconds > UInt64(Int64.max / 1_000_000) ? Int64.max : Int64(lagMilliseconds) * 1_000_000
        let lagLimit = thresholds.degradedLagNanoseconds

        let state: HealthState
        let reason: String?
        if silence >= offlineAfter {
            state = .offline
            let what = daemon.lastHeartbeat == nil ? "no heartbeat since HELLO" : "no heartbeat"
            reason = "\(daemon.connected ? "" : "disconnected, ")\(what) for \(Self.seconds(silence)) (offline after \(Self.seconds(offlineAfter)))"
        } else if lag > lagLimit {
            state = .degraded
            reason = "lag \(Self.seconds(lag)) exceeds \(Self.seconds(lagLimit))"
        } else if let extra = daemon.heartbeat?.extra, extra["spool_full"] == "true" {
            // An agent's spool reached its limit: its inputs stopped reading (docs/agent.md).
            state = .degraded
            reason = "spool full (\(extra["spool_bytes"] ?? "?") of \(extra["spool_max_bytes"] ?? "?") bytes): inputs paused"
        } else {
            state = .healthy
            reason = nil
        }
        return DaemonHealth(
            id: daemon.id, region: daemon.region.isEmpty ? Topology.defaultRegion : daemon.region, labels: daemon.labels,
            agentVersion: daemon.agentVersion,
            shard: shardCount > 0 ? SourceHash.shard(for: SourceHash.hash(daemon.id), shardCount: shardCount) : nil,
            connected: daemon.connected, state: state, reason: reason, lastHeartbeat: daemon.lastHeartbeat,
            lastSeen: daemon.lastSeen, lagSeconds: Double(lagMilliseconds) / 1000,
            backlogBytes: daemon.heartbeat?.backlogBytes ?? 0, recordsSent: daemon.heartbeat?.recordsSent ?? 0,
            errors: daemon.heartbeat?.errors ?? 0, recordsPerSecond: daemon.rate.map { Self.finite($0.recordsPerSecond) })
    }

    private func region(_ name: String, shards: [ShardStats], daemons: [DaemonHealth]) -> RegionHealth {
        var counts = HealthCounts()
        for daemon in daemons { counts.count(daemon.state) }
        let degradedShards = shards.filter { $0.state != .healthy }.map(\.shard).sorted()

        let state: HealthState
        if counts.total > 0 && counts.offline == counts.total {
            state = .offline
        } else if counts.degraded > 0 || counts.offline > 0 || !degradedShards.isEmpty {
            state = .degraded
        } else {
            state = .healthy
        }
        var why: [String] = []
        if counts.total > 0 && counts.offline == counts.total {
            why.append("all \(counts.total) daemon\(counts.total == 1 ? "" : "s") offline")
        } else if counts.offline > 0 {
            why.append("\(counts.offline) of \(counts.total) daemons offline")
        }
        if counts.degraded > 0 { why.append("\(counts.degraded) of \(counts.total) daemons degraded") }
        if !degradedShards.isEmpty {
            why.append("shard\(degradedShards.count == 1 ? "" : "s") \(degradedShards.map(String.init).joined(separator: ", ")) degraded")
        }
        var disk: Int64 = 0
        for shard in shards { disk = disk.addingReportingOverflow(shard.diskBytes).partialValue }
        return RegionHealth(
            name: name, state: state, reason: why.isEmpty ? nil : why.joined(separator: "; "), daemons: counts,
            shards: shards.map(\.shard), recordsPerSecond: shards.reduce(0) { $0 + $1.recordsPerSecond },
            bytesPerSecond: shards.reduce(0) { $0 + $1.bytesPerSecond }, diskBytes: disk)
    }

    private static func finite(_ x: Double) -> Double { x.isFinite ? x : 0 }

    /// `ns` as seconds with up to millisecond precision, rounded up so that a value over a
    /// threshold never prints equal to it: "30 s", "5.5 s", "5.001 s" for 5 s + 1 ns.
    static func seconds(_ ns: Int64) -> String {
        let clamped = max(0, ns)
        let ms = clamped / 1_000_000 + (clamped % 1_000_000 > 0 ? 1 : 0)
        let whole = ms / 1000
        let fraction = ms % 1000
        guard fraction > 0 else { return "\(whole) s" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits) s"
    }
}
