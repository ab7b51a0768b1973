import Control
// NativeHello and NativeHeartbeat have no public initialiser (Ingest decodes them from frames).
import Platform
import WAL
import Wire
import Testing

/// Builders shared by the registry and health tests.
enum Sim {
    static let t0: Int64 = 1_700_000_000_000_000_000
    static let second: Int64 = 1_000_000_000

    static func hello(_ id: String, region: String = "", labels: [String: String] = [:]) -> NativeHello {
        NativeHello(version: 1, daemonID: id, region: region, labels: labels, token: "", agentVersion: "hypha-agent 1.2.3")
    }

    static func heartbeat(lagMilliseconds: UInt64 = 0, recordsSent: UInt64 = 0, backlogBytes: UInt64 = 0, errors: UInt64 = 0)
        -> NativeHeartbeat
    {
        NativeHeartbeat(
            sentAtMilliseconds: 0, backlogBytes: backlogBytes, oldestUnackedAgeMilliseconds: lagMilliseconds,
            recordsSent: recordsSent, errors: errors, extra: ["version": "1.2.3"])
    }

    /// A source as the ingest statistics report it after one tick of `records` records.
    static func source(_ name: String, lastSeen: Int64, records: Int = 10, listener: String = "syslog_tcp") -> SourceRecord {
        var rate = ThroughputEMA()
        rate.tick(records: records, bytes: records * 100)
        return SourceRecord(
            name: name, listener: listener, records: records, bytes: records * 100, lastSeen: lastSeen,
            recordsPerSecond: rate.recordsPerSecond, bytesPerSecond: rate.bytesPerSecond)
    }

    static func sources(_ list: [SourceRecord]) -> [SourceRecord] { list }
}

@Suite struct RegistryTests {
    @Test func manualClockMovesOnlyWhenTold() {
        let clock = ManualEpochClock(now: Sim.t0)
        #expect(clock.now == Sim.t0)
        clock.advance(by: .milliseconds(1500))
        #expect(clock.now == Sim.t0 + 1_500_000_000, "advanced \(clock.now - Sim.t0) ns, expected 1.5 s")
        clock.advance(nanoseconds: -1)
        #expect(clock.now == Sim.t0 + 1_499_999_999)
        clock.set(42)
        #expect(clock.now == 42)
        let system = SystemEpochClock().now
        #expect(system > Sim.t0, "the system clock reads \(system), before 2023")
    }

    @Test func helloHeartbeatAndDisconnectAreRecorded() throws {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock)
        registry.daemonConnected(hello: Sim.hello("d1", labels: ["env": "prod"]), peer: "10.0.0.7")
        var d = try #require(registry.daemon(id: "d1"))
        #expect(d.region == Topology.defaultRegion, "an empty HELLO region is recorded as \(d.region), expected default")
        #expect(d.labels == ["env": "prod"] && d.peer == "10.0.0.7" && d.agentVersion == "hypha-agent 1.2.3")
        #expect(d.connected && d.connections == 1 && d.firstSeen == Sim.t0 && d.lastSeen == Sim.t0)
        #expect(d.lastHeartbeat == nil && d.heartbeat == nil && d.rate == nil)

        clock.advance(by: .seconds(5))
        registry.daemonHeartbeat(id: "d1", heartbeat: Sim.heartbeat(lagMilliseconds: 250, recordsSent: 1000, backlogBytes: 4096, errors: 2))
        clock.advance(by: .seconds(5))
        registry.daemonHeartbeat(id: "d1", heartbeat: Sim.heartbeat(lagMilliseconds: 120, recordsSent: 6000, backlogBytes: 512, errors: 3))
        d = try #require(registry.daemon(id: "d1"))
        #expect(d.lastHeartbeat == Sim.t0 + 10 * Sim.second && d.lastSeen == Sim.t0 + 10 * Sim.second)
        #expect(d.heartbeatCount == 2)
        #expect(d.heartbeat == DaemonHeartbeatStats(
            backlogBytes: 512, oldestUnackedAgeMilliseconds: 120, recordsSent: 6000, errors: 3, extra: ["version": "1.2.3"]))
        // 5000 records in 5 s = 1000/s; the EMA's first step from 0 is α·1000.
        let rate = try #require(d.rate).recordsPerSecond
        #expect(abs(rate - ThroughputEMA.alpha * 1000) < 1e-9, "rate \(rate), expected \(ThroughputEMA.alpha * 1000)")

        // A reconnect that overlaps the old connection's close.
        registry.daemonConnected(hello: Sim.hello("d1", region: "eu", labels: ["env": "staging"]), peer: "10.0.0.8")
        registry.daemonDisconnected(id: "d1")
        d = try #require(registry.daemon(id: "d1"))
        #expect(d.connected, "the new connection is still open (connections \(d.connections), expected 1)")
        #expect(d.region == "eu" && d.labels == ["env": "staging"] && d.peer == "10.0.0.8")
        clock.advance(by: .seconds(1))
        registry.daemonDisconnected(id: "d1")
        d = try #require(registry.daemon(id: "d1"))
        #expect(!d.connected && d.lastDisconnect == Sim.t0 + 11 * Sim.second)
        #expect(d.lastSeen == Sim.t0 + 10 * Sim.second, "a disconnect is not a sign of life")

        // Unknown ids: a disconnect is ignored, a heartbeat re-creates a minimal record.
        registry.daemonDisconnected(id: "ghost")
        #expect(registry.daemon(id: "ghost") == nil)
        registry.daemonHeartbeat(id: "ghost", heartbeat: Sim.heartbeat())
        let ghost = try #require(registry.daemon(id: "ghost"))
        #expect(ghost.region == Topology.defaultRegion && ghost.connected)
    }

    @Test func sourcesAreMirroredFromIngest() throws {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock)
        registry.absorb(sources: Sim.sources([
            Sim.source("web-1", lastSeen: Sim.t0 - Sim.second, records: 50, listener: "json"),
            Sim.source("10.1.2.3", lastSeen: Sim.t0, records: 7, listener: "syslog_udp"),
        ]))
        let web = try #require(registry.source(named: "web-1"))
        #expect(web.listener == "json" && web.records == 50 && web.bytes == 5000 && web.lastSeen == Sim.t0 - Sim.second)
        #expect(web.firstSeen == Sim.t0 && abs(web.recordsPerSecond - 5) < 1e-9)
        #expect(registry.sources().map(\.name) == ["10.1.2.3", "web-1"], "sorted by name")

        // Later counts replace earlier ones; lastSeen never goes back.
        clock.advance(by: .seconds(1))
        registry.absorb(sources: Sim.sources([Sim.source("web-1", lastSeen: Sim.t0 - 2 * Sim.second, records: 60)]))
        let later = try #require(registry.source(named: "web-1"))
        #expect(later.records == 60 && later.lastSeen == Sim.t0 - Sim.second && later.firstSeen == Sim.t0)
    }

    @Test func sourceBoundEvictsTheLongestSilent() {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock, limits: RegistryLimits(maxSources: 3))
        // Five sources, silent for 5, 4, 3, 2, 1 seconds.
        registry.absorb(sources: Sim.sources((1 ... 5).map { Sim.source("h\($0)", lastSeen: Sim.t0 - Int64(6 - $0) * Sim.second) }))
        let kept = registry.sources().map(\.name)
        #expect(kept == ["h3", "h4", "h5"], "kept \(kept), expected the three most recent")
        #expect(registry.snapshot().counters.evictedSources == 2)

        // A new source pushes out the longest-silent one that is left.
        clock.advance(by: .seconds(1))
        registry.absorb(sources: Sim.sources([Sim.source("h6", lastSeen: clock.now)]))
        #expect(registry.sources().map(\.name) == ["h4", "h5", "h6"])
        #expect(registry.snapshot().counters.evictedSources == 3)
    }

    @Test func silentSourcesExpire() {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock, limits: RegistryLimits(sourceExpiry: .seconds(60)))
        registry.absorb(sources: Sim.sources([
            Sim.source("old", lastSeen: Sim.t0 - 61 * Sim.second),  // already past expiry: never added
            Sim.source("a", lastSeen: Sim.t0),
            Sim.source("b", lastSeen: Sim.t0 + 30 * Sim.second),
        ]))
        #expect(registry.sources().map(\.name) == ["a", "b"])
        registry.expire(now: Sim.t0 + 60 * Sim.second)
        #expect(registry.sources().map(\.name) == ["a", "b"], "at exactly the expiry a source is kept")
        registry.expire(now: Sim.t0 + 60 * Sim.second + 1)
        #expect(registry.sources().map(\.name) == ["b"], "one nanosecond past the expiry it is forgotten")
        clock.set(Sim.t0 + 91 * Sim.second)
        registry.absorb(sources: [])
        #expect(registry.sources().isEmpty, "absorb expires too")
        #expect(registry.snapshot().counters.expiredSources == 2)
    }

    @Test func daemonBoundEvictsDisconnectedFirstThenLongestSilent() {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock, limits: RegistryLimits(maxDaemons: 3))
        for id in ["a", "b", "c"] {
            registry.daemonConnected(hello: Sim.hello(id), peer: "p")
            clock.advance(by: .seconds(1))
        }
        registry.daemonHeartbeat(id: "a", heartbeat: Sim.heartbeat())  // a is now the most recent
        registry.daemonDisconnected(id: "c")  // c is the only disconnected one
        registry.daemonConnected(hello: Sim.hello("d"), peer: "p")
        #expect(registry.daemons().map(\.id) == ["a", "b", "d"], "the disconnected daemon goes first")
        clock.advance(by: .seconds(1))
        registry.daemonConnected(hello: Sim.hello("e"), peer: "p")
        #expect(registry.daemons().map(\.id) == ["a", "d", "e"], "then the longest-silent connected one (b)")
        #expect(registry.snapshot().counters.evictedDaemons == 2)
    }

    @Test func disconnectedDaemonsExpireConnectedOnesStay() {
        let clock = ManualEpochClock(now: Sim.t0)
        let registry = DaemonRegistry(clock: clock, limits: RegistryLimits(daemonExpiry: .seconds(3600)))
        registry.daemonConnected(hello: Sim.hello("gone"), peer: "p")
        registry.daemonConnected(hello: Sim.hello("quiet"), peer: "p")
        registry.daemonHeartbeat(id: "gone", heartbeat: Sim.heartbeat())
        clock.advance(by: .seconds(10))
        registry.daemonDisconnected(id: "gone")
        registry.expire(now: Sim.t0 + 3600 * Sim.second)
        #expect(registry.daemons().map(\.id) == ["gone", "quiet"], "at exactly the expiry (from the last heartbeat) it is kept")
        registry.expire(now: Sim.t0 + 3600 * Sim.second + 1)
        #expect(registry.daemons().map(\.id) == ["quiet"], "a connected daemon never expires")
        #expect(RegistryLimits().daemonExpiry == .seconds(86_400) && RegistryLimits().sourceExpiry == .seconds(3600))
    }
}
