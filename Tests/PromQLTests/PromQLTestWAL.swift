import PromQL
import TestSupport
import WAL

/// Base time of the test data: 2023-11-14T22:13:20Z, in seconds.
let t0: Int64 = 1_700_000_000

/// A data directory whose WAL holds `samples`, written through ``WriteAheadLog`` (two shards,
/// one batch per sample's `host` label, as `hypha serve` routes them).
func writeWAL(_ samples: [MetricSample], shards: Int = 2) throws -> TemporaryDirectory {
    let directory = TemporaryDirectory("hypha-promql")
    let wal = try WriteAheadLog.open(dataDirectory: directory.path, options: WALOptions(shardCount: shards, segmentSize: 1 << 20), logger: quietLogger)
    var byShard = [[MetricSample]](repeating: [], count: shards)
    for s in samples {
        let host = s.labels.first { $0.0 == "host" }?.1 ?? ""
        byShard[SourceHash.shard(for: SourceHash.hash(host), shardCount: shards)].append(s)
    }
    for (shard, list) in byShard.enumerated() where !list.isEmpty {
        var payload: [UInt8] = []
        for s in list { RecordEncoder.append(s, to: &payload) }
        let times = list.map(\.timestamp)
        _ = try wal.shard(shard).append(BatchDraft(payload: payload, recordCount: list.count, minTimestamp: times.min()!, maxTimestamp: times.max()!))
    }
    try wal.close()
    return directory
}

/// A sample at `t0 + seconds`.
func sample(_ name: String, _ seconds: Int64, _ value: Double, _ labels: [(String, String)]) -> MetricSample {
    MetricSample(timestamp: (t0 + seconds) * 1_000_000_000, name: name, value: value, labels: labels)
}

/// The test data set:
/// - `requests_total{host="a"}`: 0, 10, 20, 30, 40, then a reset: 5, 15 (every 10 s from t0);
/// - `requests_total{host="b"}`: 0, 5, 10, …, 30 (every 10 s from t0);
/// - `temp{host="a", room="x"}`: 1, 2, 3, 4, 5 and `temp{host="b", room="y"}`: 10, 20, 30, 40, 50
///   (every 10 s from t0);
/// - `cpu.load{host="c"}` (a Graphite-style name) 0.5 at t0.
func testData() -> [MetricSample] {
    var out: [MetricSample] = []
    for (i, v) in [0.0, 10, 20, 30, 40, 5, 15].enumerated() { out.append(sample("requests_total", Int64(i) * 10, v, [("host", "a")])) }
    for i in 0 ..< 7 { out.append(sample("requests_total", Int64(i) * 10, Double(i * 5), [("host", "b")])) }
    for i in 0 ..< 5 {
        out.append(sample("temp", Int64(i) * 10, Double(i + 1), [("room", "x"), ("host", "a")]))
        out.append(sample("temp", Int64(i) * 10, Double((i + 1) * 10), [("host", "b"), ("room", "y")]))
    }
    out.append(sample("cpu.load", 0, 0.5, [("host", "c")]))
    return out
}

extension QueryResult {
    /// `labels → value` of an instant vector, for comparisons.
    var vectorValues: [String: Double] {
        guard case .vector(let samples) = self else { return [:] }
        return Dictionary(uniqueKeysWithValues: samples.map { ($0.labels.description, $0.value) })
    }
}

func isClose(_ a: Double?, _ b: Double) -> Bool {
    guard let a else { return false }
    return abs(a - b) <= 1e-9 * max(1, abs(b))
}
