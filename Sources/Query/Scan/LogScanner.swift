import WAL
import Glibc
import Platform

/// Answers log queries over every shard of a data directory's WAL: searches, top values and
/// histograms (docs/query.md).
///
/// Each shard is scanned by its own ``WALReader`` on a thread of the scan's own (at most
/// ``threads`` at once, one shard at a time each), so a scan of a multi-shard WAL uses every
/// core it is given; the caller only awaits. Batches whose header time range misses the
/// query are skipped without being read; the rest are decompressed once and their records
/// tested in place, without decoding text (``LogFilter``). It reads a live WAL beside its
/// writer: only complete batches are seen, and segments deleted by retention during a scan
/// are skipped. Records not yet synced may be seen.
///
/// A value; every method may be called from any task, concurrently.
///
/// ```swift
/// let scanner = LogScanner(dataDirectory: "hypha-data")
/// let query = LogQuery(filter: try LogFilter("app:nginx field.status:5*"), from: now - 3_600_000_000_000, to: now)
/// let result = try await scanner.search(query, order: .newestFirst, limit: 100)
/// ```
public struct LogScanner: Sendable {
    /// The data directory whose WAL is read.
    public let dataDirectory: String
    /// Threads a scan uses at most (default: one per core).
    public var threads: Int
    /// Nice value of the scan threads (default 0; the node raises it so ingestion wins).
    public var niceness: Int32
    /// How long one query may scan before it fails with ``LogQueryError/Code/timeLimit``
    /// (default: no limit).
    public var timeLimit: Duration?

    public init(dataDirectory: String, threads: Int = LogScanner.coreCount, niceness: Int32 = 0, timeLimit: Duration? = nil) {
        self.dataDirectory = dataDirectory
        self.threads = max(1, threads)
        self.niceness = niceness
        self.timeLimit = timeLimit
    }

    /// The processors online.
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// The `limit` newest (or oldest) log records matching `query`, across every shard, in
    /// timestamp order (ties: shard, then sequence). Memory holds at most `limit` records per
    /// shard; a newest-first search reads segments newest first and skips batches too old to
    /// make the answer.
    public func search(_ query: LogQuery, order: LogOrder = .newestFirst, limit: Int) async throws(LogQueryError) -> LogSearchResult {
        let limit = max(0, limit)
        let parts = try await scan(query) { RowCollector(limit: limit, order: order) } finish: { ($0.sorted(), $0.dropped) }
        var rows = parts.flatMap(\.value.0)
        rows.sort { order == .newestFirst ? RowCollector.before($1, $0) : RowCollector.before($0, $1) }
        let truncated = rows.count > limit || parts.contains { $0.value.1 > 0 }
        let records = rows.prefix(limit).compactMap(RowCollector.match)
        return LogSearchResult(records: records, truncated: truncated, statistics: Self.sum(parts))
    }

    /// The `limit` most frequent values of `field` among the log records matching `query`,
    /// with their share and their rate per second over the query's window.
    public func top(_ query: LogQuery, by field: TopField, limit: Int) async throws(LogQueryError) -> TopResult {
        let parts = try await scan(query) { ValueCounter(field: field) } finish: { ($0.byValue, $0.earliest) }
        var counts: [String: Int] = [:]
        for part in parts { counts.merge(part.value.0, uniquingKeysWith: +) }
        let total = counts.values.reduce(0, +)
        let earliest = parts.map(\.value.1).min() ?? .max
        let from = query.from == .min ? (earliest == .max ? query.to : earliest) : query.from
        let to = query.to == .max ? WallClock.nanoseconds() : query.to
        let seconds = max(0, Double(to) - Double(from)) / 1e9
        let rows = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(max(0, limit)).map {
            TopRow(
                value: $0.key, count: $0.value, share: total > 0 ? Double($0.value) / Double(total) : 0,
                perSecond: seconds > 0 ? Double($0.value) / seconds : 0)
        }
        return TopResult(rows: rows, total: total, distinct: counts.count, windowSeconds: seconds, statistics: Self.sum(parts))
    }

    /// Matching log records counted per time bucket.
    /// - Parameters:
    ///   - buckets: a fixed width (buckets aligned on multiples of it since the epoch, so a
    ///     minute starts at :00), or a count spread over the query's range (over the WAL's
    ///     records in that range when it is unbounded).
    ///   - maxBuckets: the most buckets an answer may have (``LogQueryError/Code/sizeLimit``).
    public func histogram(
        _ query: LogQuery, buckets: HistogramBuckets, maxBuckets: Int = 100_000
    ) async throws(LogQueryError) -> HistogramResult {
        let origin: Int64
        let width: Int64
        var range: ClosedRange<Int64>?
        switch buckets {
        case .width(let w):
            origin = 0
            width = max(1, w)
        case .count(let n):
            guard let bounds = try await timeBounds(query) else {
                return HistogramResult(width: 1, buckets: [], total: 0, statistics: ScanStatistics())
            }
            origin = bounds.lowerBound
            let span = Double(bounds.upperBound) - Double(bounds.lowerBound) + 1
            width = max(1, Int64((span / Double(max(1, n))).rounded(.up)))
            range = bounds
        }
        let parts = try await scan(query) { BucketCounter(origin: origin, width: width) } finish: { $0.counts }
        var counts: [Int64: Int] = [:]
        for part in parts { counts.merge(part.value, uniquingKeysWith: +) }
        let total = counts.values.reduce(0, +)
        if range == nil, query.from != .min, query.to != .max { range = query.from ... query.to }
        let first = range.map { BucketCounter.bucket(of: $0.lowerBound, origin: origin, width: width) } ?? counts.keys.min()
        let last = range.map { BucketCounter.bucket(of: $0.upperBound, origin: origin, width: width) } ?? counts.keys.max()
        guard let first, let last, first <= last else {
            return HistogramResult(width: width, buckets: [], total: total, statistics: Self.sum(parts))
        }
        guard last - first < Int64(maxBuckets) else {
            throw LogQueryError(.sizeLimit, "the histogram would have \(last - first + 1) buckets, more than \(maxBuckets): use wider buckets or a shorter range")
        }
        let buckets = (first ... last).map { HistogramBucket(start: origin &+ $0 &* width, count: counts[$0] ?? 0) }
        return HistogramResult(width: width, buckets: buckets, total: total, statistics: Self.sum(parts))
    }

    /// The earliest and latest record time of the batches that overlap `query`'s range,
    /// clamped to it, from batch headers alone; `nil` when there are none.
    public func timeBounds(_ query: LogQuery) async throws(LogQueryError) -> ClosedRange<Int64>? {
        let directory = dataDirectory
        let shards = try shardCount()
        let control = ScanControl(timeLimit: timeLimit)
        let parts: [ClosedRange<Int64>?]
        do {
            parts = try await ShardPool.run(shards: shards, threads: threads, niceness: niceness, control: control) { shard in
                let reader = try WALReader(dataDirectory: directory)
                var bounds: ClosedRange<Int64>?
                try reader.forEachBatch(shard: shard, verifyPayload: false) { batch in
                    let h = batch.header
                    guard h.recordCount > 0, h.maxTimestamp >= query.from, h.minTimestamp <= query.to else { return true }
                    let lo = max(h.minTimestamp, query.from)
                    let hi = min(h.maxTimestamp, query.to)
                    bounds = bounds.map { min($0.lowerBound, lo) ... max($0.upperBound, hi) } ?? lo ... hi
                    return true
                }
                return bounds
            }
        } catch {
            throw Self.queryError(error)
        }
        let found = parts.compactMap { $0 }
        guard let lo = found.map(\.lowerBound).min(), let hi = found.map(\.upperBound).max() else { return nil }
        return lo ... hi
    }

    /// Runs `make()`'s collector over every shard and returns what `finish` takes from each.
    private func scan<C: RecordCollector, Value: Sendable>(
        _ query: LogQuery, make: @escaping @Sendable () -> C, finish: @escaping @Sendable (C) -> Value
    ) async throws(LogQueryError) -> [ShardPart<Value>] {
        let directory = dataDirectory
        let shards = try shardCount()
        let control = ScanControl(timeLimit: timeLimit)
        do {
            return try await ShardPool.run(shards: shards, threads: threads, niceness: niceness, control: control) { shard in
                let reader = try WALReader(dataDirectory: directory)
                let pass = ShardPass(
                    reader: reader, shard: shard, query: query, matcher: FilterMatcher(query.filter), control: control,
                    requiredPhrases: query.filter.expression.requiredPhrases
                )
                var collector = make()
                let statistics = try pass.run(into: &collector)
                return ShardPart(value: finish(collector), statistics: statistics)
            }
        } catch {
            throw Self.queryError(error)
        }
    }

    private func shardCount() throws(LogQueryError) -> Int {
        do {
            return try WALReader(dataDirectory: dataDirectory).shardCount
        } catch {
            throw LogQueryError(error)
        }
    }

    private static func queryError(_ error: any Error) -> LogQueryError {
        switch error {
        case let error as LogQueryError: error
        case let error as WALError: LogQueryError(error)
        default: LogQueryError(.wal, "cannot read the write-ahead log: \(error)")
        }
    }

    private static func sum<Value>(_ parts: [ShardPart<Value>]) -> ScanStatistics {
        parts.reduce(into: ScanStatistics()) { $0.add($1.statistics) }
    }
}

/// How ``LogScanner/histogram(_:buckets:maxBuckets:)`` divides time.
public enum HistogramBuckets: Sendable, Equatable {
    /// Buckets of this many nanoseconds.
    case width(Int64)
    /// This many buckets over the range.
    case count(Int)
}

/// What one shard's scan returned.
struct ShardPart<Value: Sendable>: Sendable {
    var value: Value
    var statistics: ScanStatistics
}
