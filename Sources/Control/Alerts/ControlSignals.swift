import Platform
public import WAL

/// The control plane's own signals, handed to ``AlertEngine/evaluate(now:signals:)`` each round
/// for the built-in rules (``AlertRuleSet/builtinRules(_:)``).
///
/// The engine turns them into samples of reserved metrics stamped with the evaluation time
/// (see ``ControlSignals/Metric``); rules, built-in or written in the rules file, select those
/// like any metric. Samples from the stream whose names start with `hypha:` are ignored, so a
/// client cannot forge them.
///
/// ```swift
/// let signals = ControlSignals(
///     daemons: [.init(id: "web-1", region: "eu", state: .offline)],
///     regions: [.init(name: "eu", state: .degraded)],
///     listeners: [.init(name: "syslog-tcp", rejectsPerSecond: 0)],
///     shards: [.init(shard: 0, syncLagSeconds: 0.02, walBytes: 1 << 30)],
///     disk: .init(usedFraction: 0.42))
/// engine.evaluate(now: clock.now, signals: signals)
/// ```
public struct ControlSignals: Sendable, Equatable {
    /// One daemon's health.
    public struct Daemon: Sendable, Equatable {
        /// The daemon's id.
        public var id: String
        /// Its region.
        public var region: String
        /// Its health.
        public var state: HealthState
        /// A daemon's signal.
        public init(id: String, region: String, state: HealthState) {
            self.id = id
            self.region = region
            self.state = state
        }
    }

    /// One region's health.
    public struct Region: Sendable, Equatable {
        /// The name.
        public var name: String
        /// Its health.
        public var state: HealthState
        /// A region's signal.
        public init(name: String, state: HealthState) {
            self.name = name
            self.state = state
        }
    }

    /// One ingest listener's reject rate (records or frames refused per second, as measured
    /// over the caller's last interval).
    public struct Listener: Sendable, Equatable {
        /// The name.
        public var name: String
        /// Rejects per second.
        public var rejectsPerSecond: Double
        /// A listener's signal.
        public init(name: String, rejectsPerSecond: Double) {
            self.name = name
            self.rejectsPerSecond = rejectsPerSecond
        }
    }

    /// One WAL shard's sync lag and size.
    public struct Shard: Sendable, Equatable {
        /// The shard index.
        public var shard: Int
        /// Seconds since the oldest unsynced write (0 when everything is synced).
        public var syncLagSeconds: Double
        /// Bytes of WAL segments on disk.
        public var walBytes: Int64
        /// A shard's signal.
        public init(shard: Int, syncLagSeconds: Double, walBytes: Int64) {
            self.shard = shard
            self.syncLagSeconds = syncLagSeconds
            self.walBytes = walBytes
        }
    }

    /// The data directory's file system.
    public struct Disk: Sendable, Equatable {
        /// Used / total bytes, 0…1.
        public var usedFraction: Double
        /// The file system's signal.
        public init(usedFraction: Double) { self.usedFraction = usedFraction }
    }

    /// The reserved metric names the signals become, with their labels and values.
    public enum Metric {
        /// `{daemon, region}`: 0 healthy, 1 degraded, 2 offline.
        public static let daemonHealth = "hypha:daemon_health"
        /// `{region}`: 0 healthy, 1 degraded, 2 offline.
        public static let regionHealth = "hypha:region_health"
        /// `{listener}`: rejects per second.
        public static let listenerRejects = "hypha:listener_rejects_per_second"
        /// `{shard}`: seconds of sync lag.
        public static let shardSyncLag = "hypha:shard_sync_lag_seconds"
        /// `{shard}`: WAL bytes on disk.
        public static let shardWALBytes = "hypha:shard_wal_bytes"
        /// No labels: used fraction of the data file system.
        public static let diskUsedFraction = "hypha:disk_used_fraction"
        /// The prefix reserved for these names.
        public static let reservedPrefix = "hypha:"
    }

    /// Every known daemon.
    public var daemons: [Daemon]
    /// Every region.
    public var regions: [Region]
    /// Every ingest listener.
    public var listeners: [Listener]
    /// Every WAL shard.
    public var shards: [Shard]
    /// `nil` when unknown (no disk-usage sample is produced).
    public var disk: Disk?

    /// Signals; everything defaults to empty.
    public init(daemons: [Daemon] = [], regions: [Region] = [], listeners: [Listener] = [], shards: [Shard] = [], disk: Disk? = nil) {
        self.daemons = daemons
        self.regions = regions
        self.listeners = listeners
        self.shards = shards
        self.disk = disk
    }

    static func level(_ state: HealthState) -> Double {
        switch state {
        case .healthy: 0
        case .degraded: 1
        case .offline: 2
        }
    }

    /// The signals as metric samples stamped `now`.
    public func samples(at now: Int64) -> [MetricSample] {
        var out: [MetricSample] = []
        out.reserveCapacity(daemons.count + regions.count + listeners.count + 2 * shards.count + 1)
        for d in daemons {
            out.append(MetricSample(timestamp: now, name: Metric.daemonHealth, value: Self.level(d.state), labels: [("daemon", d.id), ("region", d.region)]))
        }
        for r in regions {
            out.append(MetricSample(timestamp: now, name: Metric.regionHealth, value: Self.level(r.state), labels: [("region", r.name)]))
        }
        for l in listeners {
            out.append(MetricSample(timestamp: now, name: Metric.listenerRejects, value: l.rejectsPerSecond, labels: [("listener", l.name)]))
        }
        for s in shards {
            out.append(MetricSample(timestamp: now, name: Metric.shardSyncLag, value: s.syncLagSeconds, labels: [("shard", String(s.shard))]))
            out.append(MetricSample(timestamp: now, name: Metric.shardWALBytes, value: Double(s.walBytes), labels: [("shard", String(s.shard))]))
        }
        if let disk {
            out.append(MetricSample(timestamp: now, name: Metric.diskUsedFraction, value: disk.usedFraction))
        }
        return out
    }
}

/// Thresholds of the built-in rules. The rules file can change any built-in rule further
/// (`builtin_rules:`) or replace it with a rule of the same name.
public struct BuiltinRuleOptions: Sendable, Equatable {
    /// `IngestRejectRate` fires when a listener's average rejects per second over
    /// ``rejectWindow`` exceed this. Default 10.
    public var rejectsPerSecond: Double = 10
    /// Default 1 minute.
    public var rejectWindow: Int64 = 60 * AlertDuration.second
    /// `WALSyncLag` fires when a shard's sync lag has been above this many seconds for
    /// ``syncLagFor``. Default 5 (the Degraded threshold of the design).
    public var syncLagSeconds: Double = 5
    /// Default 30 seconds.
    public var syncLagFor: Int64 = 30 * AlertDuration.second
    /// `WALDiskUsage` fires when one shard's WAL exceeds this many bytes. Default 64 GiB.
    public var walBytesPerShard: Double = 64 * 1024 * 1024 * 1024
    /// `DiskUsage` fires when the data file system is fuller than this. Default 0.9.
    public var diskUsedFraction: Double = 0.9

    /// The documented defaults.
    public init() {}
}

extension AlertRuleSet {
    /// The names of the built-in rules.
    public enum Builtin {
        /// Per daemon (`daemon`, `region`): the daemon is Offline. Critical.
        public static let daemonOffline = "DaemonOffline"
        /// Per region: Degraded or Offline. Warning.
        public static let regionDegraded = "RegionDegraded"
        /// Per listener: rejects per second above the threshold. Warning.
        public static let ingestRejectRate = "IngestRejectRate"
        /// Per shard: WAL sync lag above the threshold. Warning.
        public static let walSyncLag = "WALSyncLag"
        /// Per shard: WAL bytes above the threshold. Warning.
        public static let walDiskUsage = "WALDiskUsage"
        /// The data file system is almost full. Critical.
        public static let diskUsage = "DiskUsage"
    }

    /// The built-in rules over ``ControlSignals``. Health rules take the newest value (over a
    /// 15 s window, so a daemon that leaves the registry stops alerting soon after).
    ///
    /// | name | reads | fires when |
    /// |---|---|---|
    /// | `DaemonOffline` | `hypha:daemon_health` by daemon, region | last ≥ 2 |
    /// | `RegionDegraded` | `hypha:region_health` by region | last ≥ 1 |
    /// | `IngestRejectRate` | `hypha:listener_rejects_per_second` by listener | avg over 1m > 10 |
    /// | `WALSyncLag` | `hypha:shard_sync_lag_seconds` by shard | last > 5 for 30s |
    /// | `WALDiskUsage` | `hypha:shard_wal_bytes` by shard | last > 64 GiB |
    /// | `DiskUsage` | `hypha:disk_used_fraction` | last > 0.9 |
    public static func builtinRules(_ options: BuiltinRuleOptions = BuiltinRuleOptions()) -> [AlertRule] {
        let s = AlertDuration.second
        func rule(
            _ name: String, _ severity: AlertSeverity, _ metric: String, _ aggregation: AlertAggregation, window: Int64,
            _ condition: AlertCondition, for forDuration: Int64 = 0, groupBy: [String], summary: String
        ) -> AlertRule {
            AlertRule(
                name: name, severity: severity, selector: .metric(MetricSelector(metric: metric)), aggregation: aggregation,
                window: window, condition: condition, for: forDuration, groupBy: groupBy, annotations: ["summary": summary],
                isBuiltin: true)
        }
        typealias M = ControlSignals.Metric
        return [
            rule(Builtin.daemonOffline, .critical, M.daemonHealth, .last, window: 15 * s, AlertCondition(.greaterOrEqual, 2),
                 groupBy: ["daemon", "region"], summary: "daemon {{ $labels.daemon }} in region {{ $labels.region }} is offline"),
            rule(Builtin.regionDegraded, .warning, M.regionHealth, .last, window: 15 * s, AlertCondition(.greaterOrEqual, 1),
                 groupBy: ["region"], summary: "region {{ $labels.region }} is degraded (level {{ $value }}; 2 is offline)"),
            rule(Builtin.ingestRejectRate, .warning, M.listenerRejects, .avg, window: options.rejectWindow,
                 AlertCondition(.greater, options.rejectsPerSecond), groupBy: ["listener"],
                 summary: "listener {{ $labels.listener }} rejects {{ $value }} records/s"),
            rule(Builtin.walSyncLag, .warning, M.shardSyncLag, .last, window: 15 * s, AlertCondition(.greater, options.syncLagSeconds),
                 for: options.syncLagFor, groupBy: ["shard"], summary: "WAL shard {{ $labels.shard }} is {{ $value }} s behind on sync"),
            rule(Builtin.walDiskUsage, .warning, M.shardWALBytes, .last, window: 15 * s, AlertCondition(.greater, options.walBytesPerShard),
                 groupBy: ["shard"], summary: "WAL shard {{ $labels.shard }} holds {{ $value }} bytes"),
            rule(Builtin.diskUsage, .critical, M.diskUsedFraction, .last, window: 15 * s, AlertCondition(.greater, options.diskUsedFraction),
                 groupBy: [], summary: "the data file system is {{ $value }} full"),
        ]
    }
}
