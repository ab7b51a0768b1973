import Control
import Ingest
import Server
import Settings
import Testing
import WAL

/// The settings table of `hypha serve` (and of the WAL commands, which share its WAL part).
@Suite struct ServeSettingsTests {
    private let table = ServeConfiguration.settings

    /// Every flag `hypha serve` had before the table, which scripts, tests and docs use.
    static let establishedFlags = [
        "data", "bind", "native-port", "syslog-port", "json-port", "influx-port", "graphite-port", "http-port", "shards",
        "durability", "sync-interval-ms", "segment-mib", "retention-mib", "retention-hours", "codec", "batch-kib", "linger-ms",
        "max-line-kib", "max-frame-mib", "max-connections", "idle-timeout-s", "max-in-flight-mib", "max-in-flight-shard-mib",
        "max-body-mib", "token", "admin-token", "node-id", "offline-after-s", "degraded-lag-s", "rules", "evaluation-interval-s",
        "max-daemons", "max-sources", "source-expiry-s", "daemon-expiry-s", "flow-lease-ms", "heartbeat-interval-ms", "max-tasks",
        "threads", "log-level",
    ]

    /// Every YAML key the configuration file took before the table.
    static let establishedKeys = [
        "data", "bind", "node_id", "threads", "shards", "durability", "sync_interval_ms", "segment_mib", "retention_mib",
        "retention_hours", "codec", "batch_kib", "linger_ms", "tokens", "admin_token", "offline_after_s", "degraded_lag_s",
        "topology", "rules", "evaluation_interval_s", "max_daemons", "max_sources", "source_expiry_s", "daemon_expiry_s",
        "flow_lease_ms", "heartbeat_interval_ms", "max_tasks", "ports.native", "ports.syslog", "ports.json", "ports.influx",
        "ports.graphite", "ports.http", "limits.line_kib", "limits.frame_mib", "limits.connections", "limits.idle_timeout_s",
        "limits.in_flight_mib", "limits.in_flight_shard_mib", "limits.body_mib",
    ]

    @Test(arguments: establishedFlags)
    func everyEstablishedFlagStillExists(flag: String) {
        #expect(table.setting(flag: flag) != nil, "--\(flag) is a setting of hypha serve")
    }

    @Test(arguments: establishedKeys)
    func everyEstablishedKeyStillExists(key: String) {
        #expect(table.setting(key: key) != nil, "'\(key)' is a key of the configuration file")
    }

    @Test func theDocumentedDefaultsAreTheDefaults() throws {
        // Applying every setting's documented default as its flag must leave the defaults as they
        // were: what help and docs say is what a node does without the flag.
        let defaults = ServeConfiguration()
        var reapplied = ServeConfiguration()
        for setting in table.settings where setting.flag != nil && setting.documentedDefault(defaults) == setting.value(in: defaults) {
            let value = setting.value(in: defaults)
            guard value != "(none)" else { continue }
            try table.apply(arguments: ["--\(setting.flag!)=\(value)"], to: &reapplied)
        }
        for setting in table.settings {
            #expect(setting.value(in: reapplied) == setting.value(in: defaults), "\(setting.key): \(setting.value(in: reapplied)) after re-applying its default \(setting.value(in: defaults))")
        }
        #expect(reapplied.wal.segmentSize == 64 << 20 && reapplied.limits.lingerNanoseconds == 5_000_000, "units round-trip")
        #expect(table.setting(key: "threads")?.documentedDefault(defaults) == "one per core", "a machine-dependent default is described")
    }

    @Test func unitsScaleIntoBytesAndDurations() throws {
        var c = ServeConfiguration()
        try table.apply(arguments: [
            "--segment-mib", "2", "--batch-kib", "3", "--linger-ms", "7", "--idle-timeout-s", "9", "--sync-interval-ms", "11",
            "--retention-hours", "2", "--retention-mib", "0", "--flow-lease-ms", "1500", "--source-expiry-s", "60",
        ], to: &c)
        #expect(c.wal.segmentSize == 2 << 20, "segment \(c.wal.segmentSize)")
        #expect(c.limits.batchBytes == 3 << 10, "batch \(c.limits.batchBytes)")
        #expect(c.limits.lingerNanoseconds == 7_000_000, "linger \(c.limits.lingerNanoseconds) ns")
        #expect(c.limits.idleTimeoutSeconds == 9, "idle timeout \(c.limits.idleTimeoutSeconds) s")
        #expect(c.wal.syncIntervalMilliseconds == 11, "sync interval \(c.wal.syncIntervalMilliseconds) ms")
        #expect(c.wal.retention.maxAgeSeconds == 7200, "retention age \(String(describing: c.wal.retention.maxAgeSeconds)) s")
        #expect(c.wal.retention.maxBytesPerShard == nil, "retention 0 MiB is no size limit")
        #expect(c.flowLease == .milliseconds(1500), "flow lease \(c.flowLease)")
        #expect(c.registry.sourceExpiry == .seconds(60), "source expiry \(c.registry.sourceExpiry)")
    }

    @Test func flagsWinOverTheFile() throws {
        var c = ServeConfiguration()
        try table.apply(yaml: """
            shards: 2
            max_sources: 50
            source_expiry_s: 60
            tokens: [a, b]
            ports: {native: 0, syslog: off}
            limits: {connections: 100}
            topology: {0: eu-west, 1: us-east}
            """, to: &c)
        try table.apply(arguments: ["--shards", "3", "--max-sources=3", "--syslog-port", "5514", "--token", "c"], to: &c)
        #expect(c.wal.shardCount == 3, "--shards over the file: \(c.wal.shardCount)")
        #expect(c.registry.maxSources == 3, "--max-sources over the file: \(c.registry.maxSources)")
        #expect(c.registry.sourceExpiry == .seconds(60), "the file's source expiry: \(c.registry.sourceExpiry)")
        #expect(c.ports.native == 0 && c.ports.syslog == 5514, "ports: \(c.ports)")
        #expect(c.limits.maxConnections == 100, "the file's connections: \(c.limits.maxConnections)")
        #expect(c.tokens == ["c"], "--token replaces the file's tokens: \(c.tokens)")
        #expect(c.topology.shardRegions == [0: "eu-west", 1: "us-east"], "topology: \(c.topology.shardRegions)")
    }

    @Test(arguments: [
        (["--segment-mib", "0"], "--segment-mib must be between 1 and 4096, got 0"),
        (["--shards=65537"], "--shards must be between 1 and 65536, got 65537"),
        (["--max-source", "3"], "unknown flag '--max-source'; did you mean '--max-sources'?"),
        (["--durability", "always"], "--durability must be one of none, interval, batch, got 'always'"),
        (["--log-level", "loud"], "--log-level must be one of trace, debug, info, notice, warning, error, critical, got 'loud'"),
    ])
    func serveFlagErrorsReadWell(arguments: [String], expected: String) {
        var c = ServeConfiguration()
        var produced: String?
        do throws(SettingsError) { try table.apply(arguments: arguments, to: &c) } catch { produced = error.message }
        #expect(produced == expected, "produced \(produced ?? "no error"), expected \(expected)")
    }

    @Test(arguments: [
        ("flow_lease_ms: 5", "'flow_lease_ms' must be between 100 and 3600000, got 5 (line 1)"),
        ("limits:\n  conections: 10", "unknown configuration key 'limits.conections'; did you mean 'limits.connections'? (known: line_kib, frame_mib, batch_mib, connections, idle_timeout_s, in_flight_mib, in_flight_shard_mib, body_mib)"),
        ("topology: {east: x}", "'topology' keys must be shard numbers, got 'east' (line 1)"),
    ])
    func serveFileErrorsReadWell(text: String, expected: String) {
        var c = ServeConfiguration()
        var produced: String?
        do throws(SettingsError) { try table.apply(yaml: text, to: &c) } catch { produced = error.message }
        #expect(produced == expected, "produced \(produced ?? "no error"), expected \(expected)")
    }

    @Test func theWALCommandsShareTheServeTablesWALSettings() throws {
        for setting in WALOptions.settings.settings {
            let served = table.setting(flag: setting.flag ?? "")
            #expect(served?.key == setting.key && served?.allowed == setting.allowed && served?.help == setting.help,
                    "--\(setting.flag ?? "") is the same setting in hypha serve: \(served?.allowed ?? "missing") against \(setting.allowed)")
        }
        var options = WALOptions()
        #expect(throws: SettingsError.self, "the WAL settings have upper bounds") {
            try WALOptions.settings.apply(arguments: ["--segment-mib", "5000"], to: &options)
        }
        try WALOptions.settings.apply(arguments: ["--shards=2", "--durability", "batch"], to: &options)
        #expect(options.shardCount == 2 && options.durability == .batch, "\(options.shardCount) \(options.durability)")
    }
}
