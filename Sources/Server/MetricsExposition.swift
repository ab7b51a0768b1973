import Platform
import WAL
import Control
import Ingest

/// Renders the node's counters in the Prometheus text exposition format (version 0.0.4).
struct MetricsExposition {
    private var out = ""

    static func render(ingest: IngestServer, wal: WriteAheadLog, alerts: AlertsRuntime, coordinator: ControlCoordinator) -> String {
        var m = MetricsExposition()
        let snapshot = ingest.context.stats.snapshot
        let listeners = ListenerKind.allCases
        func perListener(_ name: String, _ help: String, _ value: (ListenerCounters) -> Int) {
            m.family(name, "counter", help)
            for l in listeners { m.sample(name, ["listener": l.description], Double(value(snapshot.listeners[l] ?? ListenerCounters()))) }
        }
        perListener("hypha_listener_records_total", "Records accepted, per listener.") { $0.records }
        perListener("hypha_listener_bytes_total", "Encoded bytes of accepted records, per listener.") { $0.bytes }
        perListener("hypha_listener_rejects_total", "Malformed lines, frames or records refused, per listener.") { $0.rejects }
        perListener("hypha_listener_dropped_total", "Datagrams dropped under backpressure, per listener.") { $0.dropped }
        perListener("hypha_listener_connections_total", "Connections accepted, per listener.") { $0.connections }
        m.family("hypha_native_batches_total", "counter", "Native batch frames received, by encoding: plain BATCH, or BATCH_COMPRESSED in lz4 or zstd.")
        for e in NativeBatchEncoding.allCases { m.sample("hypha_native_batches_total", ["encoding": e.description], Double(snapshot.native.batches[e.rawValue])) }
        m.family("hypha_native_batch_wire_bytes_total", "counter", "Bytes of native batch frames as received (compressed for lz4 and zstd), by encoding.")
        for e in NativeBatchEncoding.allCases {
            m.sample("hypha_native_batch_wire_bytes_total", ["encoding": e.description], Double(snapshot.native.wireBytes[e.rawValue]))
        }
        m.family("hypha_native_duplicate_batches_total", "counter", "Native batches answered as duplicates (ACK status 1): stored before, nothing written now.")
        m.sample("hypha_native_duplicate_batches_total", [:], Double(snapshot.native.duplicates))

        let shards = 0 ..< wal.shardCount
        m.family("hypha_shard_records_per_second", "gauge", "EMA (alpha 0.1, 1 s tick) of records written per second, per shard.")
        for s in shards { m.sample("hypha_shard_records_per_second", ["shard": "\(s)"], snapshot.shardRates[s].recordsPerSecond) }
        m.family("hypha_shard_bytes_per_second", "gauge", "EMA of uncompressed bytes written per second, per shard.")
        for s in shards { m.sample("hypha_shard_bytes_per_second", ["shard": "\(s)"], snapshot.shardRates[s].bytesPerSecond) }
        m.family("hypha_wal_bytes", "gauge", "Bytes stored in the shard's segments.")
        for s in shards { m.sample("hypha_wal_bytes", ["shard": "\(s)"], Double(wal.shard(s).storedBytes)) }
        m.family("hypha_wal_segments", "gauge", "Segment files of the shard.")
        for s in shards { m.sample("hypha_wal_segments", ["shard": "\(s)"], Double(wal.shard(s).segments.count)) }
        m.family("hypha_wal_durable_sequence", "gauge", "Every sequence below this one is durable, per shard.")
        for s in shards { m.sample("hypha_wal_durable_sequence", ["shard": "\(s)"], Double(wal.shard(s).durableSequence)) }
        m.family("hypha_wal_durable_records_total", "counter", "Records made durable since this node started.")
        m.sample("hypha_wal_durable_records_total", [:], Double(ingest.durableRecordsSinceStart))
        m.family("hypha_wal_sync_seconds_max", "gauge", "Longest sync (msync) of the shard's active segment.")
        for s in shards { m.sample("hypha_wal_sync_seconds_max", ["shard": "\(s)"], Double(wal.shard(s).syncStats.maxNanoseconds) / 1e9) }
        m.family("hypha_wal_sync_seconds_last", "gauge", "Duration of the shard's most recent sync.")
        for s in shards { m.sample("hypha_wal_sync_seconds_last", ["shard": "\(s)"], Double(wal.shard(s).syncStats.lastNanoseconds) / 1e9) }
        m.family("hypha_wal_shard_stopped", "gauge", "1 when the shard stopped writing after a failed sync (restart the node), else 0.")
        for s in shards { m.sample("hypha_wal_shard_stopped", ["shard": "\(s)"], wal.shard(s).failure == nil ? 0 : 1) }
        m.family("hypha_wal_shard_blocked", "gauge", "1 while the shard holds batches it cannot write (a full disk): listeners stop reading until it can.")
        for w in ingest.context.writers { m.sample("hypha_wal_shard_blocked", ["shard": "\(w.shard.shard)"], w.blocked == nil ? 0 : 1) }
        m.family("hypha_wal_lost_records_total", "counter", "Records accepted from listeners that could not be written and no acknowledgement covered.")
        m.sample("hypha_wal_lost_records_total", [:], Double(ingest.lostRecords))
        m.family("hypha_wal_syncs_total", "counter", "Syncs of the shard's active segment.")
        for s in shards { m.sample("hypha_wal_syncs_total", ["shard": "\(s)"], Double(wal.shard(s).syncStats.count)) }
        let usage = ingest.context.gate.usage
        m.family("hypha_in_flight_bytes", "gauge", "Bytes sealed into batches but not yet in the WAL.")
        m.sample("hypha_in_flight_bytes", [:], Double(usage.total))
        m.family("hypha_in_flight_bytes_peak", "gauge", "Most bytes in flight at once since start.")
        m.sample("hypha_in_flight_bytes_peak", [:], Double(usage.peak))
        m.family("hypha_sources", "gauge", "Sources (hosts, peers) currently tracked.")
        m.sample("hypha_sources", [:], Double(snapshot.sources.count))

        let engine = alerts.engine.stats
        m.family("hypha_alerts", "gauge", "Alerts now pending or firing.")
        m.sample("hypha_alerts", ["state": "pending"], Double(engine.pending))
        m.sample("hypha_alerts", ["state": "firing"], Double(engine.firing))
        m.family("hypha_alert_evaluations_total", "counter", "Alert evaluation rounds.")
        m.sample("hypha_alert_evaluations_total", [:], Double(engine.evaluations))
        m.family("hypha_alert_evaluation_seconds", "gauge", "Duration of the last alert evaluation round.")
        m.sample("hypha_alert_evaluation_seconds", [:], Double(engine.lastEvaluation.components.attoseconds) / 1e18 + Double(engine.lastEvaluation.components.seconds))
        let tap = alerts.tap.counts
        m.family("hypha_alert_intake_batches_total", "counter", "Batches of selected records handed to the alert engine, and dropped because it was behind.")
        m.sample("hypha_alert_intake_batches_total", ["outcome": "delivered"], Double(tap.delivered))
        m.sample("hypha_alert_intake_batches_total", ["outcome": "dropped"], Double(tap.dropped))
        m.family("hypha_hook_notifications_total", "counter", "Notifications per hook: delivered, failed, timed out, dropped (queue full).")
        for hook in engine.hooks {
            m.sample("hypha_hook_notifications_total", ["hook": hook.hook, "outcome": "delivered"], Double(hook.delivered))
            m.sample("hypha_hook_notifications_total", ["hook": hook.hook, "outcome": "failed"], Double(hook.failed))
            m.sample("hypha_hook_notifications_total", ["hook": hook.hook, "outcome": "timed_out"], Double(hook.timedOut))
            m.sample("hypha_hook_notifications_total", ["hook": hook.hook, "outcome": "dropped"], Double(hook.dropped))
        }
        m.control(coordinator)
        return m.out
    }

    private mutating func control(_ coordinator: ControlCoordinator) {
        let status = coordinator.status
        family("hypha_control_tasks", "gauge", "Tasks per state.")
        for state in TaskState.allCases { sample("hypha_control_tasks", ["state": state.rawValue], Double(status.tasks[state] ?? 0)) }
        family("hypha_control_rollouts", "gauge", "Rollouts kept, per state.")
        for (state, n) in status.rollouts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            sample("hypha_control_rollouts", ["state": state.rawValue], Double(n))
        }
        family("hypha_control_sessions", "gauge", "Native daemon sessions the control plane can send to.")
        sample("hypha_control_sessions", [:], Double(status.sessions))
        family("hypha_control_fenced_batches_total", "counter", "Task batches refused because their lease epoch was not current.")
        sample("hypha_control_fenced_batches_total", [:], Double(coordinator.fencedBatches))
        family("hypha_control_commits_total", "counter", "Durable commits of the control store, and failed attempts.")
        sample("hypha_control_commits_total", ["outcome": "ok"], Double(status.commits))
        sample("hypha_control_commits_total", ["outcome": "failed"], Double(status.commitFailures))
        family("hypha_control_store_bytes", "gauge", "Bytes the control store occupies on disk.")
        sample("hypha_control_store_bytes", [:], Double(status.storeBytes))
    }

    private mutating func family(_ name: String, _ type: String, _ help: String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private mutating func sample(_ name: String, _ labels: [String: String], _ value: Double) {
        out += name
        if !labels.isEmpty {
            out += "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escape($0.value))\"" }.joined(separator: ",") + "}"
        }
        out += " " + RecordJSON.number(value).replacingNull() + "\n"
    }

    private func escape(_ s: String) -> String {
        s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}

extension String {
    fileprivate func replacingNull() -> String { self == "null" ? "NaN" : self }
}
