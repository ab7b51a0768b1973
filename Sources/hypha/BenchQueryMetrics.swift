import ArgumentParser
import Foundation
import Logging
import Platform
import PromQL
import WAL

/// `hypha bench query-metrics`: writes a metrics WAL of known shape, then times a PromQL range
/// query over it (the issue's target: `sum by (host) (rate(m[5m]))`, 1,000 series × 24 h at
/// 10 s, step 60 s, ≤ 1 s).
struct BenchQueryMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query-metrics",
        abstract: "Time a PromQL range query over a generated metrics WAL.",
        discussion: """
            Writes --series counters named m (labels host=host-NNN, ten series per host, and cpu) \
            sampled every --interval seconds for --hours hours, straight through the WAL (lz4 \
            batches, each series in its host's shard), then runs the query --runs times over the \
            whole span with --step and prints each run's wall time, the samples read and the \
            series returned. The time includes reading and decompressing the WAL.
            """
    )

    @Option(help: "Series to write.") var series = 1000
    @Option(help: "Hours of samples.") var hours = 24
    @Option(help: "Seconds between samples.") var interval = 10
    @Option(help: "WAL shards.") var shards = 4
    @Option(help: "The query.") var query = "sum by (host) (rate(m[5m]))"
    @Option(help: "Range query step, seconds.") var step = 60
    @Option(help: "Times to run the query.") var runs = 3
    @Option(help: "Use (and keep) this data directory; an existing WAL there is queried as it is.") var data: String?

    func run() throws {
        let directory = data ?? NSTemporaryDirectory() + "hypha-bench-promql-\(getpid())"
        defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let start: Int64 = 1_700_000_000_000
        let end = start + Int64(hours) * 3_600_000
        if !FileManager.default.fileExists(atPath: directory + "/wal/meta") {
            let began = MonotonicClock.nanoseconds()
            let written = try write(directory, start: start, end: end)
            print(String(format: "wrote %d samples of %d series in %.1f s", written, series, Double(MonotonicClock.nanoseconds() - began) / 1e9))
        }
        let engine = MetricsQueryEngine(dataDirectory: directory)
        for run in 1 ... max(1, runs) {
            let began = MonotonicClock.nanoseconds()
            let result = try engine.rangeQuery(query, start: start, end: end, step: Int64(step) * 1000)
            let seconds = Double(MonotonicClock.nanoseconds() - began) / 1e9
            guard case .matrix(let matrix) = result else { continue }
            print(String(format: "run %d: %.3f s, %d series, %d points", run, seconds, matrix.count, matrix.reduce(0) { $0 + $1.points.count }))
        }
    }

    /// Writes the samples in time order, one batch per shard every 10,000 records or so.
    private func write(_ directory: String, start: Int64, end: Int64) throws -> Int {
        let logger = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let wal = try WriteAheadLog.open(dataDirectory: directory, options: WALOptions(shardCount: shards, durability: .none), logger: logger)
        let hosts = (0 ..< series).map { "host-\(String(format: "%03d", $0 / 10))" }
        let shardOf = hosts.map { SourceHash.shard(for: SourceHash.hash($0), shardCount: shards) }
        var payloads = [[UInt8]](repeating: [], count: shards)
        var counts = [Int](repeating: 0, count: shards)
        var bounds = [(Int64, Int64)](repeating: (.max, .min), count: shards)
        var written = 0
        func flush(_ shard: Int) throws {
            guard counts[shard] > 0 else { return }
            _ = try wal.shard(shard).append(BatchDraft(
                payload: payloads[shard], recordCount: counts[shard], minTimestamp: bounds[shard].0, maxTimestamp: bounds[shard].1))
            written += counts[shard]
            payloads[shard].removeAll(keepingCapacity: true)
            counts[shard] = 0
            bounds[shard] = (.max, .min)
        }
        var t = start
        var step = 0
        while t <= end {
            for i in 0 ..< series {
                let shard = shardOf[i]
                let ns = t * 1_000_000
                // A counter growing by i+1 a step, reset every 6 hours.
                let value = Double((step % 2160) * (i % 7 + 1))
                RecordEncoder.append(MetricSample(timestamp: ns, name: "m", value: value, labels: [("host", hosts[i]), ("cpu", String(i % 10))]), to: &payloads[shard])
                counts[shard] += 1
                bounds[shard] = (min(bounds[shard].0, ns), max(bounds[shard].1, ns))
                if counts[shard] >= 10_000 { try flush(shard) }
            }
            t += Int64(interval) * 1000
            step += 1
        }
        for shard in 0 ..< shards { try flush(shard) }
        try wal.close()
        return written
    }
}
