import Control
import Foundation
import Platform
import WAL
import Wire
import Testing

private func healthyShards(_ count: Int = 4) -> [ShardInput] {
    (0 ..< count).map { ShardInput(recordsPerSecond: Double($0) * 10, bytesPerSecond: Double($0) * 1000, diskBytes: 1 << 20) }
}

private func evaluate(
    _ registry: DaemonRegistry, _ thresholds: HealthThresholds = HealthThresholds(), shards: [ShardInput] = healthyShards(),
    topology: Topology = Topology(), now: Int64
) -> ClusterHealth {
    HealthEvaluator(thresholds: thresholds).evaluate(registry: registry.snapshot(), shards: shards, topology: topology, now: now)
}

/// Exact edges, with the manual clock. Offline is `silence ≥ offlineAfter`; Degraded is
/// `lag > degradedLag` (see HealthThresholds).
@Suite struct HealthThresholdTests {
    @Test(arguments: [30 * Sim.second, 10 * Sim.second, 1_500_000_000, 1])
    func offlineAtExactlyOfflineAfter(offlineAfter: Int64) throws {
        let clock = ManualEpochClock(now: Sim.t0 - 3 * Sim.second)
        let registry = DaemonRegistry(clock: clock)
        registry.daemonConnected(hello: Sim.hello("d"), peer: "10.0.0.1")
        clock.set(Sim.t0)
        registry.daemonHeartbeat(id: "d", heartbeat: Sim.heartbeat())
        let thresholds = HealthThresholds(offlineAfter: .nanoseconds(offlineAfter))

        let before = evaluate(registry, thresholds, now: Sim.t0 + offlineAfter - 1)
        #expect(before.daemon("d")?.state == .healthy, "at offlineAfter − 1 ns: \(String(describing: before.daemon("d"))), expected healthy")
        #expect(before.state == .healthy)
        let at = evaluate(registry, thresholds, now: Sim.t0 + offlineAfter)
        let d = try #require(at.daemon("d"))
        #expect(d.state == .offline, "at offlineAfter: \(d.state), expected offline")
        #expect(d.reason?.contains("no heartbeat for") == true, "reason: \(d.reason ?? "nil")")
        #expect(at.region("default")?.state == .offline, "its only daemon is offline")
        #expect(at.state == .offline)
    }

    @Test func defaultThresholdsAre30And5Seconds() {
        #expect(HealthThresholds().offlineAfter == .seconds(30) && HealthThresholds().degradedLag == .seconds(5))
        #expect(HealthThresholds(offlineAfter: .seconds(-1)).offlineAfter == .zero, "negative thresholds count as zero")
    }

    @Test(arguments: [
        // (reported lag ms, degradedLag ns, expected)
        (UInt64(5000), 5 * Sim.second, HealthState.healthy),  // equal: does not exceed
        (5001, 5 * Sim.second, .degraded),
        (5000, 5 * Sim.second - 1, .degraded),  // one nanosecond over a 1-ns-smaller threshold
        (0, 0, .healthy),
        (1, 0, .degraded),
        (250, 200_000_000, .degraded),
    ])
    func degradedWhenLagExceedsTheThreshold(lagMilliseconds: UInt64, degradedLag: Int64, expected: HealthState) throws {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock)
        registry.daemonConnected(hello: Sim.hello("d", region: "eu"), peer: "p")
        registry.daemonHeartbeat(id: "d", heartbeat: Sim.heartbeat(lagMilliseconds: lagMilliseconds, backlogBytes: 9000))
        let health = evaluate(registry, HealthThresholds(degradedLag: .nanoseconds(degradedLag)), now: Sim.t0 + Sim.second)
        let d = try #require(health.daemon("d"))
        #expect(d.state == expected, "lag \(lagMilliseconds) ms against \(degradedLag) ns: \(d.state), expected \(expected)")
        #expect(d.lagSeconds == Double(lagMilliseconds) / 1000 && d.backlogBytes == 9000)
        #expect(health.region("eu")?.state == expected, "one daemon decides its region")
    }

    @Test func anAgentWhoseSpoolIsFullIsDegradedWithTheReason() throws {
        let registry = DaemonRegistry(clock: ManualEpochClock(now: Sim.t0))
        registry.daemonConnected(hello: Sim.hello("d"), peer: "p")
        var heartbeat = Sim.heartbeat()
        heartbeat.extra = ["spool_full": "true", "spool_bytes": "1048576", "spool_max_bytes": "1048576"]
        registry.daemonHeartbeat(id: "d", heartbeat: heartbeat)
        let d = try #require(evaluate(registry, now: Sim.t0 + Sim.second).daemon("d"))
        #expect(d.state == .degraded)
        #expect(d.reason == "spool full (1048576 of 1048576 bytes): inputs paused")
        heartbeat.extra["spool_full"] = "false"
        registry.daemonHeartbeat(id: "d", heartbeat: heartbeat)
        #expect(evaluate(registry, now: Sim.t0 + Sim.second).daemon("d")?.state == .healthy)
    }

    @Test func offlineWinsOverDegraded() throws {
        let registry = DaemonRegistry(clock: ManualEpochClock(now: Sim.t0))
        registry.daemonConnected(hello: Sim.hello("d"), peer: "p")
        registry.daemonHeartbeat(id: "d", heartbeat: Sim.heartbeat(lagMilliseconds: 60_000))
        #expect(evaluate(registry, now: Sim.t0 + 29 * Sim.second).daemon("d")?.state == .degraded)
        #expect(evaluate(registry, now: Sim.t0 + 30 * Sim.second).daemon("d")?.state == .offline)
    }

    @Test func aDisconnectedDaemonIsTimedFromItsLastHeartbeat() throws {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock)
        registry.daemonConnected(hello: Sim.hello("d"), peer: "p")
        registry.daemonHeartbeat(id: "d", heartbeat: Sim.heartbeat())
        clock.advance(by: .seconds(20))
        registry.daemonDisconnected(id: "d")
        let before = try #require(evaluate(registry, now: Sim.t0 + 30 * Sim.second - 1).daemon("d"))
        #expect(before.state == .healthy && !before.connected, "disconnected 10 s ago, heartbeat 30 s − 1 ns ago: \(before.state)")
        let after = try #require(evaluate(registry, now: Sim.t0 + 30 * Sim.second).daemon("d"))
        #expect(after.state == .offline && after.reason?.hasPrefix("disconnected") == true, "reason: \(after.reason ?? "nil")")
    }

    @Test func aDaemonWithoutHeartbeatsIsTimedFromItsHello() throws {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock)
        registry.daemonConnected(hello: Sim.hello("d"), peer: "p")
        #expect(evaluate(registry, now: Sim.t0 + 30 * Sim.second - 1).daemon("d")?.state == .healthy)
        let d = try #require(evaluate(registry, now: Sim.t0 + 30 * Sim.second).daemon("d"))
        #expect(d.state == .offline && d.lastHeartbeat == nil && d.reason?.contains("since HELLO") == true)
    }

    @Test func aShardIsDegradedWhenItsSyncLagExceedsTheThreshold() throws {
        let registry = DaemonRegistry(clock: ManualEpochClock(now: Sim.t0))
        var shards = healthyShards()
        shards[1].syncLagNanoseconds = 5 * Sim.second
        var health = evaluate(registry, shards: shards, now: Sim.t0)
        #expect(health.shards[1].state == .healthy && health.state == .healthy, "a lag equal to the threshold does not exceed it")
        shards[1].syncLagNanoseconds = 5 * Sim.second + 1
        health = evaluate(registry, shards: shards, now: Sim.t0)
        #expect(health.shards[1].state == .degraded, "sync lag 5 s + 1 ns: \(health.shards[1].state)")
        #expect(health.shards[1].reason == "WAL sync lag 5.001 s exceeds 5 s", "reason: \(health.shards[1].reason ?? "nil")")
        #expect(health.region("default")?.state == .degraded && health.state == .degraded)
        #expect(health.region("default")?.reason == "shard 1 degraded")
    }

    @Test func aShardStoppedByAFailedSyncIsDegradedAtOnceWithItsReason() throws {
        let registry = DaemonRegistry(clock: ManualEpochClock(now: Sim.t0))
        var shards = healthyShards()
        shards[2].stopped = "shard 2 stopped after a failed sync (msync failed: EIO); restart the node"
        let health = evaluate(registry, shards: shards, now: Sim.t0)
        #expect(health.shards[2].state == .degraded && health.shards[2].reason == shards[2].stopped, "\(health.shards[2])")
        #expect(health.region("default")?.reason == "shard 2 degraded" && health.state == .degraded)
    }
}

@Suite struct HealthRuleTests {
    @Test func aSingleNodeWithNoConfigurationAndNoDaemonIsHealthy() {
        let health = evaluate(DaemonRegistry(clock: ManualEpochClock()), now: Sim.t0)
        #expect(health.state == .healthy && health.reason == nil)
        #expect(health.regions.map(\.name) == ["default"], "regions \(health.regions.map(\.name)), expected [default]")
        #expect(health.regions.first?.shards == [0, 1, 2, 3] && health.regions.first?.daemons == HealthCounts())
        #expect(health.shards.map(\.region) == Array(repeating: "default", count: 4))
        #expect(health.totals == HealthTotals(sources: 0, recordsPerSecond: 60, bytesPerSecond: 6000, diskBytes: 4 << 20))

        let bare = HealthEvaluator().evaluate(registry: RegistrySnapshot(), shards: [], topology: Topology(), now: Sim.t0)
        #expect(bare.state == .healthy && bare.regions.isEmpty, "no shards, no daemons: healthy and empty")
    }

    /// Three daemons heartbeating through the DaemonObserver API every 5 s; then one stops, then
    /// the other of its region.
    @Test func threeDaemonsThenOneStopsThenARegionGoesDark() throws {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock)
        let monitor = HealthMonitor(registry: registry)
        let observer: any DaemonObserver = registry
        let regions = ["eu-1": "eu", "eu-2": "eu", "us-1": "us"]
        var sent: [String: UInt64] = [:]
        for (id, region) in regions.sorted(by: { $0.key < $1.key }) {
            observer.daemonConnected(hello: Sim.hello(id, region: region), peer: "10.0.0.\(sent.count + 1)")
        }
        func beat(_ ids: [String]) {
            for id in ids {
                sent[id, default: 0] += 500
                observer.daemonHeartbeat(id: id, heartbeat: Sim.heartbeat(lagMilliseconds: 40, recordsSent: sent[id]!))
            }
        }

        // A minute of heartbeats from all three.
        for _ in 0 ..< 12 {
            clock.advance(by: .seconds(5))
            beat(["eu-1", "eu-2", "us-1"])
        }
        var health = monitor.health(shards: healthyShards())
        #expect(health.daemons.map(\.state) == [.healthy, .healthy, .healthy], "\(health.daemons.map { ($0.id, $0.state, $0.reason) })")
        #expect(health.regions.map(\.name) == ["default", "eu", "us"])
        #expect(health.regions.allSatisfy { $0.state == .healthy } && health.state == .healthy)
        #expect(health.totals.daemons == HealthCounts(healthy: 3))
        let rate = try #require(health.daemon("us-1")?.recordsPerSecond)
        #expect(rate > 0 && rate <= 100, "us-1 sends 100 records/s; EMA \(rate)")

        // eu-1 stops; the others go on every 5 s.
        let stoppedAt = clock.now
        for _ in 0 ..< 5 {
            clock.advance(by: .seconds(5))
            beat(["eu-2", "us-1"])
        }
        clock.set(stoppedAt + 30 * Sim.second - 1)
        health = monitor.health(shards: healthyShards())
        #expect(health.daemon("eu-1")?.state == .healthy && health.state == .healthy, "29.999… s of silence is not yet offline")
        clock.set(stoppedAt + 30 * Sim.second)
        beat(["eu-2", "us-1"])
        health = monitor.health(shards: healthyShards())
        #expect(health.daemon("eu-1")?.state == .offline, "eu-1 silent 30 s: \(String(describing: health.daemon("eu-1")?.state))")
        #expect(health.daemon("eu-2")?.state == .healthy && health.daemon("us-1")?.state == .healthy)
        let eu = try #require(health.region("eu"))
        #expect(eu.state == .degraded && eu.daemons == HealthCounts(healthy: 1, offline: 1), "eu: \(eu)")
        #expect(eu.reason == "1 of 2 daemons offline", "reason: \(eu.reason ?? "nil")")
        #expect(health.region("us")?.state == .healthy && health.region("default")?.state == .healthy)
        #expect(health.state == .degraded && health.reason == "region eu degraded", "cluster: \(health.state), \(health.reason ?? "nil")")
        #expect(health.totals.daemons == HealthCounts(healthy: 2, offline: 1))

        // eu-2 stops too, and its connection closes: 30 s later the whole region is offline.
        observer.daemonDisconnected(id: "eu-2")
        let lastEU2 = clock.now
        for _ in 0 ..< 6 {
            clock.advance(by: .seconds(5))
            beat(["us-1"])
        }
        #expect(clock.now == lastEU2 + 30 * Sim.second)
        health = monitor.health(shards: healthyShards())
        #expect(health.region("eu")?.state == .offline, "eu: \(String(describing: health.region("eu")))")
        #expect(health.region("eu")?.reason == "all 2 daemons offline")
        #expect(health.region("us")?.state == .healthy)
        #expect(health.state == .offline && health.reason == "region eu offline")
    }

    @Test func aTopologyUpdateShowsInTheNextSnapshot() throws {
        let registry = DaemonRegistry(clock: ManualEpochClock(now: Sim.t0))
        let monitor = HealthMonitor(registry: registry)
        var shards = healthyShards()
        shards[2].syncLagNanoseconds = 8 * Sim.second
        var health = monitor.health(shards: shards)
        #expect(health.regions.map(\.name) == ["default"] && health.region("default")?.state == .degraded)

        let topology = Topology(shardRegions: [2: "slow", 3: "slow"])
        try topology.validate(shardCount: shards.count)
        monitor.topology = topology
        health = monitor.health(shards: shards)
        #expect(health.shards.map(\.region) == ["default", "default", "slow", "slow"], "\(health.shards.map(\.region))")
        let slow = try #require(health.region("slow"))
        #expect(slow.shards == [2, 3] && slow.state == .degraded && slow.recordsPerSecond == 50 && slow.diskBytes == 2 << 20)
        let rest = try #require(health.region("default"))
        #expect(rest.shards == [0, 1] && rest.state == .healthy, "shard 2 moved out of default: \(rest)")
        #expect(health.state == .degraded && health.reason == "region slow degraded")

        // Thresholds are live too.
        monitor.thresholds = HealthThresholds(degradedLag: .seconds(10))
        #expect(monitor.health(shards: shards).state == .healthy)
    }

    @Test func entitiesAreCountedOnTheShardIngestRoutesThemTo() throws {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock)
        let ids = (0 ..< 10).map { "daemon-\($0)" }
        for id in ids { registry.daemonConnected(hello: Sim.hello(id), peer: "p") }
        let names = (0 ..< 25).map { "host-\($0)" }
        registry.absorb(sources: Sim.sources(names.enumerated().map { Sim.source($1, lastSeen: Sim.t0 - Int64($0)) }))
        clock.advance(by: .seconds(1))
        registry.daemonHeartbeat(id: "daemon-3", heartbeat: Sim.heartbeat())

        let shardCount = 4
        let health = evaluate(registry, shards: healthyShards(shardCount), now: clock.now)
        for shard in 0 ..< shardCount {
            let daemons = ids.filter { SourceHash.shard(for: SourceHash.hash($0), shardCount: shardCount) == shard }
            let sources = names.filter { SourceHash.shard(for: SourceHash.hash($0), shardCount: shardCount) == shard }
            let stats = health.shards[shard]
            #expect(stats.daemons == daemons.count && stats.sources == sources.count, "shard \(shard): \(stats.daemons)+\(stats.sources), expected \(daemons.count)+\(sources.count)")
            #expect(stats.entities == daemons.count + sources.count)
            let expectedHeartbeat: Int64? = daemons.isEmpty ? nil : (daemons.contains("daemon-3") ? clock.now : Sim.t0)
            #expect(stats.lastHeartbeat == expectedHeartbeat, "shard \(shard) last heartbeat")
            let expectedRecord = sources.isEmpty ? nil : sources.map { name in Sim.t0 - Int64(names.firstIndex(of: name)!) }.max()
            #expect(stats.lastRecord == expectedRecord)
        }
        #expect(health.daemons.map(\.shard) == ids.sorted().map { SourceHash.shard(for: SourceHash.hash($0), shardCount: shardCount) })
        #expect(health.totals.sources == 25 && health.shards.reduce(0) { $0 + $1.entities } == 35)
    }
}

@Suite struct HealthJSONTests {
    /// A realistic snapshot: two regions by topology plus one by HELLO, a healthy, a degraded and
    /// an offline daemon, sources, rates from real EMA ticks, a degraded shard.
    private func realistic() -> ClusterHealth {
        let clock = ManualEpochClock(now: Sim.t0 + 123_456_789)
        let registry = DaemonRegistry(clock: clock)
        registry.daemonConnected(hello: Sim.hello("edge-a", region: "eu", labels: ["env": "prod", "rack": "r1"]), peer: "10.0.0.1")
        registry.daemonConnected(hello: Sim.hello("edge-b", region: "us"), peer: "10.0.0.2")
        registry.daemonConnected(hello: Sim.hello("edge-c", labels: ["ünïcode": "✓ \"quoted\""]), peer: "[::1]")
        var sent: UInt64 = 0
        for step in 0 ..< 9 {
            clock.advance(nanoseconds: 5 * Sim.second + 3_333)
            sent += 1234 + UInt64(step)
            registry.daemonHeartbeat(id: "edge-a", heartbeat: Sim.heartbeat(lagMilliseconds: 12, recordsSent: sent, backlogBytes: 77))
            registry.daemonHeartbeat(id: "edge-b", heartbeat: Sim.heartbeat(lagMilliseconds: 7_345, recordsSent: sent / 3, errors: 4))
            if step == 0 { registry.daemonHeartbeat(id: "edge-c", heartbeat: Sim.heartbeat(recordsSent: UInt64.max)) }
        }
        registry.daemonDisconnected(id: "edge-c")
        registry.absorb(sources: Sim.sources((0 ..< 12).map { Sim.source("host-\($0)", lastSeen: clock.now - Int64($0) * 7_777, records: 3 * $0 + 1) }))
        var shards: [ShardInput] = []
        for shard in 0 ..< 6 {
            var ema = ThroughputEMA()
            for tick in 0 ..< 9 { ema.tick(records: 1000 * shard + tick * 7, bytes: 98_765 * shard + tick, seconds: 0.987) }
            shards.append(ShardInput(
                recordsPerSecond: ema.recordsPerSecond, bytesPerSecond: ema.bytesPerSecond, diskBytes: Int64(1_234_567 * shard),
                syncLagNanoseconds: shard == 4 ? 6_543_210_987 : 1_234_567))
        }
        return HealthEvaluator().evaluate(
            registry: registry.snapshot(), shards: shards, topology: Topology(shardRegions: [0: "eu", 1: "eu", 2: "us", 4: "us"]),
            now: clock.now + 1)
    }

    @Test func aRealisticSnapshotRoundTrips() throws {
        let health = realistic()
        // It exercises what it should.
        #expect(Set(health.daemons.map(\.state)) == [.healthy, .degraded, .offline], "\(health.daemons.map { ($0.id, $0.state) })")
        #expect(health.regions.map(\.name) == ["default", "eu", "us"] && health.state == .offline)
        #expect(health.regions.map(\.state) == [.offline, .healthy, .degraded], "\(health.regions.map { ($0.name, $0.state) })")
        #expect(health.shards[4].state == .degraded && health.totals.sources == 12)

        let plain = try JSONDecoder().decode(ClusterHealth.self, from: JSONEncoder().encode(health))
        #expect(plain == health, "JSONEncoder → JSONDecoder changed the value")
        let text = try health.jsonString()
        let back = try ClusterHealth(jsonString: text)
        #expect(back == health, "jsonString → init(jsonString:) changed the value")
        #expect(try back.jsonString() == text, "equal values encode to equal text (sorted keys)")
        #expect(try ClusterHealth(jsonString: health.jsonString(prettyPrinted: true)) == health)
        #expect(text.contains(#""state":"degraded""#) && text.contains(#""time":\#(health.time)"#))
    }

    @Test func extremeValuesRoundTrip() throws {
        let health = ClusterHealth(
            time: Int64.max, state: .offline, reason: "region z offline",
            shards: [ShardStats(
                shard: 0, region: "z", state: .degraded, reason: "r", daemons: 1, sources: 2, recordsPerSecond: 0.1 + 0.2,
                bytesPerSecond: .greatestFiniteMagnitude, lagSeconds: .leastNonzeroMagnitude, diskBytes: .max, lastHeartbeat: .min, lastRecord: 0)],
            regions: [RegionHealth(name: "z", state: .offline, daemons: HealthCounts(offline: 1), shards: [0], recordsPerSecond: 1 / 3)],
            daemons: [DaemonHealth(
                id: "d\u{0}\n\"", region: "z", labels: ["": ""], shard: nil, connected: false, state: .offline, lastSeen: -1,
                lagSeconds: 18_446_744_073_709_551.615, backlogBytes: .max, recordsSent: .max, errors: 0, recordsPerSecond: -0.0)],
            totals: HealthTotals(daemons: HealthCounts(offline: 1), sources: 2, recordsPerSecond: 123_456_789.123_456_789))
        let back = try ClusterHealth(jsonString: health.jsonString())
        #expect(back == health, "\(back) != \(health)")
    }

    @Test func theRegistrySnapshotRoundTrips() throws {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock)
        registry.daemonConnected(hello: Sim.hello("a", region: "eu", labels: ["k": "v"]), peer: "1.2.3.4")
        for _ in 0 ..< 3 {
            clock.advance(by: .milliseconds(4999))
            registry.daemonHeartbeat(id: "a", heartbeat: Sim.heartbeat(lagMilliseconds: 3, recordsSent: UInt64(clock.now % 1_000_000)))
        }
        registry.absorb(sources: Sim.sources([Sim.source("h", lastSeen: clock.now, records: 17, listener: "influx_http")]))
        let snapshot = registry.snapshot()
        let back = try JSONDecoder().decode(RegistrySnapshot.self, from: JSONEncoder().encode(snapshot))
        #expect(back == snapshot)
    }
}
