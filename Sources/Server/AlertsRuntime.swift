import Control
import Foundation
import Ingest
import WAL
import Logging
import Synchronization

/// Alerting inside a running node: the rules (from `--rules`, reloadable), the engine and its
/// hooks, the stream tap that feeds it the records its rules select, and the alert state file.
///
/// Thread-safe. The tap's thread calls `consume`; the control service calls `evaluate`.
final class AlertsRuntime: Sendable {
    let engine: AlertEngine
    let hooks: HookDispatcher
    let tap: StreamTap
    let rulesPath: String?
    private let logger: Logger
    private let lastRejects = Mutex<(time: Int64, counts: [String: Int])>((0, [:]))

    /// Loads the rules (an unreadable or invalid file is an error naming the line) and restores
    /// the alert state saved under `<data>/control/alerts.json`.
    /// - Parameter evaluationInterval: after a restart, restored alerts are held (not resolved by
    ///   their still-empty windows) for the longer of their rule's window and two intervals.
    init(rulesPath: String?, dataDirectory: String, nodeID: String, evaluationInterval: Duration, logger: Logger) throws {
        self.rulesPath = rulesPath
        self.logger = logger
        let rules = try AlertRuleSet.load(yaml: try Self.read(rulesPath))
        try FileManager.default.createDirectory(atPath: dataDirectory + "/control", withIntermediateDirectories: true)
        hooks = HookDispatcher(logger: logger)
        let engine = try AlertEngine(
            rules: rules, hooks: hooks, store: AlertStateStore(path: dataDirectory + "/control/alerts.json"),
            options: AlertEngineOptions(nodeName: nodeID, restoreGrace: 2 * evaluationInterval.components.seconds * 1_000_000_000), logger: logger)
        self.engine = engine
        tap = StreamTap(filter: TapFilter(engine.interest)) { bytes, _ in
            engine.consume(bytes)
        }
    }

    private static func read(_ path: String?) throws -> String {
        guard let path else { return "" }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("cannot read the rules file \(path)")
        }
        return text
    }

    /// Re-reads the rules file. On any error the old rules stay and the error is returned.
    func reload() -> String? {
        do {
            try engine.reload(yaml: try Self.read(rulesPath))
        } catch {
            logger.warning("rules not reloaded; the previous rules stay", metadata: ["rules.path": "\(rulesPath ?? "-")", "error": "\(error)"])
            return "\(error)"
        }
        tap.update(TapFilter(engine.interest))
        logger.info("rules reloaded", metadata: ["rules.path": "\(rulesPath ?? "-")", "rules.count": "\(engine.rules.count)"])
        return nil
    }

    /// One evaluation round over what the stream brought and the node's health.
    func evaluate(health: ClusterHealth, stats: IngestStats.Snapshot, dataDirectory: String) {
        engine.evaluate(signals: signals(health: health, stats: stats, dataDirectory: dataDirectory))
    }

    /// The control plane's own signals for the built-in rules.
    func signals(health: ClusterHealth, stats: IngestStats.Snapshot, dataDirectory: String) -> ControlSignals {
        let now = health.time
        let counts = Dictionary(uniqueKeysWithValues: stats.listeners.map { ($0.key.description, $0.value.rejects) })
        let rates: [ControlSignals.Listener] = lastRejects.withLock { last in
            defer { last = (now, counts) }
            let seconds = last.time == 0 ? 0 : Double(now - last.time) / 1e9
            return counts.sorted { $0.key < $1.key }.map { name, total in
                .init(name: name, rejectsPerSecond: seconds > 0 ? Double(max(0, total - (last.counts[name] ?? 0))) / seconds : 0)
            }
        }
        var disk: ControlSignals.Disk?
        if let attributes = try? FileManager.default.attributesOfFileSystem(forPath: dataDirectory),
            let size = (attributes[.systemSize] as? NSNumber)?.doubleValue, let free = (attributes[.systemFreeSize] as? NSNumber)?.doubleValue,
            size > 0
        {
            disk = .init(usedFraction: (size - free) / size)
        }
        return ControlSignals(
            daemons: health.daemons.map { .init(id: $0.id, region: $0.region, state: $0.state) },
            regions: health.regions.map { .init(name: $0.name, state: $0.state) },
            listeners: rates,
            shards: health.shards.map { .init(shard: $0.shard, syncLagSeconds: $0.lagSeconds, walBytes: $0.diskBytes) },
            disk: disk)
    }

    /// Hands the engine every record the tap still holds and stops the tap (shutdown, once
    /// ingest has drained).
    func drainTap() { tap.stop() }

    /// Saves the alert state and delivers the queued notifications (shutdown).
    func shutdown() {
        tap.stop()
        _ = engine.flushState()
        hooks.shutdown()
    }
}

extension AlertEngine {
    /// Decodes records the tap selected (WAL encoding) and feeds them to the rules.
    func consume(_ bytes: [UInt8]) {
        var cursor = RecordCursor(bytes, count: bytes.count)
        var samples: [MetricSample] = []
        var logs: [LogRecord] = []
        while let record = try? cursor.next() {
            switch record {
            case .metric(let m): samples.append(m)
            case .log(let l): logs.append(l)
            }
        }
        ingest(samples: samples)
        ingest(logs: logs)
    }
}

extension TapFilter {
    /// The stream tap's filter for what the alert rules want.
    init(_ interest: AlertInterest) {
        self.init(metricNames: interest.metricNames, wantsLogs: interest.wantsLogs, logSeverityCeiling: interest.logSeverityCeiling)
    }
}
