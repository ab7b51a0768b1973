import Glibc
import Platform
import Synchronization
import WAL

/// Reads the metric samples of a WAL into series: every shard's batches that overlap the time
/// range (skipped by their headers otherwise), one thread per shard up to the number of cores.
///
/// A sample's series is found by the raw bytes of its name and labels as stored, hashed, so a
/// sample costs a hash and a table lookup, not a decode; the labels are decoded, mapped to
/// Prometheus' rules (``PrometheusNames``) and matched against the query's selectors once
/// per distinct label set. Samples of series no selector wants are not kept.
enum SeriesScan {
    /// The series with a sample in `range` (milliseconds, inclusive) that `wanted` accepts,
    /// each with its samples in that range in time order.
    /// - Throws: `execution` past `limits.maxSamples`, `timeout` past the deadline, `execution`
    ///   when the WAL cannot be read.
    static func load(
        dataDirectory: String, range: ClosedRange<Int64>, limits: QueryLimits, deadline: Deadline,
        wanted: @escaping @Sendable (Labels) -> Bool
    ) throws(PromQLError) -> [Series] {
        let shardCount: Int
        do {
            shardCount = try WALReader(dataDirectory: dataDirectory).shardCount
        } catch {
            throw PromQLError(.execution, "cannot read the write-ahead log: \(error)")
        }
        let limit = Int64.max / 1_000_000 - 1
        let nanoseconds = max(-limit, range.lowerBound) * 1_000_000 ... min(limit, range.upperBound) * 1_000_000 + 999_999
        let loaded = SampleBudget()
        let results = Mutex<[Result<ShardSeries, PromQLError>?]>(Array(repeating: nil, count: shardCount))
        let threads = max(1, min(shardCount, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        let worker = WorkerThread<Int>(name: "hypha-promql-scan", threads: threads, intake: .one) { wake in
            for shard in wake.jobs {
                let result: Result<ShardSeries, PromQLError>
                do throws(PromQLError) {
                    var series = ShardSeries(wanted: wanted, range: range)
                    try series.scan(
                        dataDirectory: dataDirectory, shard: shard, nanoseconds: nanoseconds, loaded: loaded, limits: limits,
                        deadline: deadline)
                    result = .success(series)
                } catch {
                    result = .failure(error)
                }
                results.withLock { $0[shard] = result }
            }
        }
        worker.submit(contentsOf: Array(0 ..< shardCount))
        worker.stop()
        var merged: [Labels: Int] = [:]
        var out: [Series] = []
        for result in results.withLock({ $0 }) {
            guard let result else { throw PromQLError(.execution, "a shard scan did not finish") }
            let shard = try result.get()
            let samples = shard.grouped()
            for (i, labels) in shard.labels.enumerated() where !samples.timestamps[i].isEmpty {
                if let existing = merged[labels] {
                    out[existing].timestamps += samples.timestamps[i]
                    out[existing].values += samples.values[i]
                } else {
                    merged[labels] = out.count
                    out.append(Series(labels: labels, timestamps: samples.timestamps[i], values: samples.values[i]))
                }
            }
        }
        for i in out.indices { out[i].normalize() }
        return out
    }
}

/// The series of one shard while it is scanned.
private struct ShardSeries {
    let wanted: @Sendable (Labels) -> Bool
    let range: ClosedRange<Int64>
    var labels: [Labels] = []
    /// Every kept sample in read order, as (series, time, value) in three flat arrays: one
    /// append per sample, grouped by series once at the end (``grouped()``).
    private var sampleSeries: [Int32] = []
    private var sampleTimes: [Int64] = []
    private var sampleValues: [Double] = []
    private var byLabels: [Labels: Int] = [:]
    /// Raw key hash → first entry with that hash.
    private var byHash: [UInt64: Int] = [:]
    private var entries: [RawKey] = []

    /// The stored bytes of a name and labels, and the series they belong to (-1: not wanted).
    private struct RawKey {
        let bytes: [UInt8]
        let series: Int
        var next: Int
    }

    init(wanted: @escaping @Sendable (Labels) -> Bool, range: ClosedRange<Int64>) {
        self.wanted = wanted
        self.range = range
    }

    mutating func scan(
        dataDirectory: String, shard: Int, nanoseconds: ClosedRange<Int64>, loaded: SampleBudget, limits: QueryLimits, deadline: Deadline
    ) throws(PromQLError) {
        do {
            try read(dataDirectory: dataDirectory, shard: shard, nanoseconds: nanoseconds, loaded: loaded, limits: limits, deadline: deadline)
        } catch let error as PromQLError {
            throw error
        } catch {
            throw PromQLError(.execution, "cannot read shard \(shard) of the write-ahead log: \(error)")
        }
    }

    private mutating func read(
        dataDirectory: String, shard: Int, nanoseconds: ClosedRange<Int64>, loaded: SampleBudget, limits: QueryLimits, deadline: Deadline
    ) throws {
            let reader = try WALReader(dataDirectory: dataDirectory)
            try reader.forEachBatch(shard: shard, timeRange: nanoseconds, verifyPayload: false) { batch in
                try deadline.check()
                var cursor = try reader.records(of: batch)
                let kept = try add(&cursor)
                let total = loaded.add(kept)
                if total > limits.maxSamples {
                    throw PromQLError(
                        .execution, "query processing would load too many samples into memory in query execution (limit \(limits.maxSamples))")
                }
                return true
            }
    }

    /// Adds the batch's metric samples in range; returns how many were kept.
    private mutating func add(_ cursor: inout RecordCursor) throws(BatchDamage) -> Int {
        let bytes = cursor.bytes
        var kept = 0
        while let body = try cursor.nextBody() {
            // kind (1) + timestamp (8) + value (8) + name (≥ 1) + label count (≥ 1)
            guard body.count >= 19, bytes[body.lowerBound] == RecordKind.metric.rawValue else { continue }
            let sample = ByteView.with(bytes) { all -> (Int64, UInt64, UInt64) in
                let view = all[body]
                return (view.loadLittleEndian(Int64.self, at: 1), view.loadLittleEndian(UInt64.self, at: 9), Self.hash(view, from: 17))
            }
            let ns = sample.0
            let ms = ns >= 0 ? ns / 1_000_000 : (ns - 999_999) / 1_000_000
            guard range.contains(ms) else { continue }
            let series = seriesIndex(hash: sample.2, key: bytes[body.lowerBound + 17 ..< body.upperBound])
            guard series >= 0 else { continue }
            sampleSeries.append(Int32(series))
            sampleTimes.append(ms)
            sampleValues.append(Double(bitPattern: sample.1))
            kept += 1
        }
        return kept
    }

    /// A 64-bit hash of `view[from...]`, eight bytes at a time (multiply-xorshift mixing).
    private static func hash(_ view: ByteView, from start: Int) -> UInt64 {
        var h: UInt64 = 0x9e37_79b9_7f4a_7c15 ^ UInt64(view.count - start)
        var i = start
        while i + 8 <= view.count {
            h = (h ^ view.word(at: i)) &* 0xff51_afd7_ed55_8ccd
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < view.count {
            tail |= UInt64(view[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xc4ce_b9fe_1a85_ec53
        return h ^ (h >> 29)
    }

    /// The kept samples of each series, by series number, in read order.
    func grouped() -> (timestamps: [[Int64]], values: [[Double]]) {
        var counts = [Int](repeating: 0, count: labels.count)
        for s in sampleSeries { counts[Int(s)] += 1 }
        var timestamps = counts.map { n -> [Int64] in
            var a: [Int64] = []
            a.reserveCapacity(n)
            return a
        }
        var values = counts.map { n -> [Double] in
            var a: [Double] = []
            a.reserveCapacity(n)
            return a
        }
        for i in sampleSeries.indices {
            let s = Int(sampleSeries[i])
            timestamps[s].append(sampleTimes[i])
            values[s].append(sampleValues[i])
        }
        return (timestamps, values)
    }

    private mutating func seriesIndex(hash: UInt64, key: ArraySlice<UInt8>) -> Int {
        var candidate = byHash[hash] ?? -1
        while candidate >= 0 {
            if entries[candidate].bytes.count == key.count, Self.equal(entries[candidate].bytes, key) { return entries[candidate].series }
            candidate = entries[candidate].next
        }
        let series = newSeries(key: key)
        entries.append(RawKey(bytes: Array(key), series: series, next: byHash[hash] ?? -1))
        byHash[hash] = entries.count - 1
        return series
    }

    /// `a == b` for two byte strings of equal length.
    private static func equal(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        var j = b.startIndex
        for byte in a {
            if byte != b[j] { return false }
            j += 1
        }
        return true
    }

    /// Decodes a raw key (name, label count, pairs) and finds or makes its series.
    private mutating func newSeries(key: ArraySlice<UInt8>) -> Int {
        let decoded: (String, [(String, String)])? = ByteView.with(Array(key)) { view in
            var reader = ByteReader(view)
            guard let name = reader.lengthPrefixed()?.string, let count = reader.varint(), count <= UInt64(reader.remaining) else { return nil }
            var pairs: [(String, String)] = []
            for _ in 0 ..< count {
                guard let k = reader.lengthPrefixed()?.string, let v = reader.lengthPrefixed()?.string else { return nil }
                pairs.append((k, v))
            }
            return (name, pairs)
        }
        guard let decoded else { return -1 }
        let labels = PrometheusNames.labels(name: decoded.0, labels: decoded.1)
        if let existing = byLabels[labels] { return existing }
        guard wanted(labels) else { return -1 }
        byLabels[labels] = self.labels.count
        self.labels.append(labels)
        return self.labels.count - 1
    }
}

/// Samples loaded so far by every shard's scan of one query.
private final class SampleBudget: Sendable {
    private let used = Atomic<Int>(0)

    /// Adds `n`; returns the new total.
    func add(_ n: Int) -> Int { used.add(n, ordering: .relaxed).newValue }
}
