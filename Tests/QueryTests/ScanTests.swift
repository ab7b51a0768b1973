import Platform
import Query
import Testing
import TestSupport
import WAL

/// Scans over a real three-shard WAL written through `WriteAheadLog`: 300 log records one
/// second apart, record `i` in shard `i % 3`, ten records per batch, so timestamps interleave
/// across shards; small segments so that each shard has several.
struct ScanFixture {
    static let t0: Int64 = 1_796_197_200 * 1_000_000_000  // 2026-12-02T07:40:00Z
    static let second: Int64 = 1_000_000_000
    let directory: TemporaryDirectory
    var scanner: LogScanner { LogScanner(dataDirectory: directory.path, threads: 3) }

    static func record(_ i: Int) -> LogRecord {
        var fields = [("status", i % 3 == 0 ? "500" : "200")]
        if i % 10 == 0 { fields.append(("kind", "x")) }
        let padding = String(repeating: ".", count: 200)
        return LogRecord(
            timestamp: t0 + Int64(i) * second, severity: UInt8(i % 8), facility: 1, host: "h\(i % 4)", app: "a\(i % 2)",
            message: "msg \(i)\(i % 5 == 0 ? " needle" : "") \(padding)", fields: fields)
    }

    init() throws {
        directory = TemporaryDirectory("hypha-query")
        let options = WALOptions(shardCount: 3, segmentSize: 8 << 10, durability: .batch)
        let wal = try WriteAheadLog.open(dataDirectory: directory.path, options: options, logger: quietLogger)
        for shard in 0 ..< 3 {
            let indexes = Array(stride(from: shard, to: 300, by: 3))
            for start in stride(from: 0, to: indexes.count, by: 10) {
                var payload: [UInt8] = []
                let batch = indexes[start ..< start + 10]
                for i in batch { RecordEncoder.append(Self.record(i), to: &payload) }
                let draft = BatchDraft(
                    payload: payload, recordCount: 10, minTimestamp: Self.record(batch.first!).timestamp,
                    maxTimestamp: Self.record(batch.last!).timestamp, codec: [WALCodec.lz4, .none, .zstd, .none][start / 10 % 4])
                _ = try wal.shard(shard).append(draft)
            }
        }
        // A metric sample in range: searches see log records only.
        var metric: [UInt8] = []
        RecordEncoder.append(MetricSample(timestamp: Self.t0 + 5 * Self.second, name: "cpu", value: 1), to: &metric)
        _ = try wal.shard(0).append(BatchDraft(payload: metric, recordCount: 1, minTimestamp: Self.t0 + 5 * Self.second, maxTimestamp: Self.t0 + 5 * Self.second))
        try wal.close()
    }
}

@Suite struct ScanTests {
    @Test func newestFirstAcrossShardsThenOldestFirst() async throws {
        let fixture = try ScanFixture()
        defer { fixture.directory.remove() }
        let newest = try await fixture.scanner.search(LogQuery(), order: .newestFirst, limit: 7)
        #expect(newest.records.map(\.record) == (293 ... 299).reversed().map(ScanFixture.record))
        #expect(newest.records.map(\.shard) == (293 ... 299).reversed().map { $0 % 3 })
        #expect(newest.truncated)
        let oldest = try await fixture.scanner.search(LogQuery(), order: .oldestFirst, limit: 7)
        #expect(oldest.records.map(\.record) == (0 ..< 7).map(ScanFixture.record))
        #expect(oldest.records.map(\.sequence) == [0, 0, 0, 1, 1, 1, 2], "sequence per shard: \(oldest.records.map(\.sequence))")
        let all = try await fixture.scanner.search(LogQuery(), order: .oldestFirst, limit: 1000)
        #expect(all.records.count == 300 && !all.truncated, "the metric sample is not a log record")
        #expect(all.statistics.recordsScanned == 301 && all.statistics.shards == 3)
    }

    @Test func filterAndTimeRangeSelect() async throws {
        let fixture = try ScanFixture()
        defer { fixture.directory.remove() }
        let needles = try await fixture.scanner.search(LogQuery(filter: try LogFilter("needle")), limit: 1000)
        #expect(needles.records.map(\.record.timestamp) == stride(from: 295, through: 0, by: -5).map { ScanFixture.record($0).timestamp })
        let t = ScanFixture.t0
        let s = ScanFixture.second
        let window = LogQuery(filter: try LogFilter("host:h1 severity>=err"), from: t + 100 * s, to: t + 199 * s)
        let found = try await fixture.scanner.search(window, order: .oldestFirst, limit: 1000)
        let expected = (100 ... 199).filter { $0 % 4 == 1 && $0 % 8 <= 3 }.map(ScanFixture.record)
        #expect(found.records.map(\.record) == expected)
    }

    /// A phrase every match must contain rules a batch out with one search over its payload:
    /// only the batch holding it has its records walked.
    @Test func aRequiredPhraseRulesOutBatchesThatLackIt() async throws {
        let fixture = try ScanFixture()
        defer { fixture.directory.remove() }
        let found = try await fixture.scanner.search(LogQuery(filter: try LogFilter("\"msg 42 \" and host:h2")), limit: 1000)
        #expect(found.records.map(\.record) == [ScanFixture.record(42)])
        #expect(found.statistics.recordsScanned == 10, "one batch of ten walked: \(found.statistics)")
        #expect(found.statistics.batchesRuledOut == found.statistics.batchesRead - 1)
        let either = try await fixture.scanner.search(LogQuery(filter: try LogFilter("\"msg 42 \" or host:h2")), limit: 1000)
        #expect(either.statistics.batchesRuledOut == 0 && either.records.count == 75, "or needs no phrase")
    }

    @Test func timeRangeSkipsBatchesWithoutReadingThem() async throws {
        let fixture = try ScanFixture()
        defer { fixture.directory.remove() }
        let t = ScanFixture.t0
        // Records 0 … 29 are the first batch of each shard.
        let early = try await fixture.scanner.search(LogQuery(from: t, to: t + 29 * ScanFixture.second), order: .oldestFirst, limit: 1000)
        #expect(early.records.count == 30)
        #expect(early.statistics.batchesRead == 4, "three log batches and the metric batch: \(early.statistics)")
        #expect(early.statistics.batchesSkipped == 27, "\(early.statistics)")
        let all = try await fixture.scanner.search(LogQuery(), order: .oldestFirst, limit: 1000)
        #expect(all.statistics.batchesRead == 31 && all.statistics.batchesSkipped == 0, "\(all.statistics)")
    }

    @Test func newestFirstWithASmallLimitSkipsOldSegments() async throws {
        let fixture = try ScanFixture()
        defer { fixture.directory.remove() }
        let found = try await fixture.scanner.search(LogQuery(), order: .newestFirst, limit: 3)
        #expect(found.records.map(\.record.timestamp) == [299, 298, 297].map { ScanFixture.record($0).timestamp })
        #expect(found.statistics.batchesRead < 15 && found.statistics.batchesSkipped > 15, "\(found.statistics)")
    }

    @Test func topCountsSharesAndRates() async throws {
        let fixture = try ScanFixture()
        defer { fixture.directory.remove() }
        let t = ScanFixture.t0
        let query = LogQuery(filter: try LogFilter("needle"), from: t, to: t + 300 * ScanFixture.second)
        let top = try await fixture.scanner.top(query, by: .severity, limit: 5)
        // i = 5k for k in 0 ..< 60: severity 5k mod 8 cycles 0 5 2 7 4 1 6 3; 0, 5, 2, 7 come 8 times.
        #expect(top.total == 60 && top.distinct == 8)
        #expect(top.rows.map(\.value) == ["crit", "debug", "emerg", "notice", "alert"])
        #expect(top.rows.map(\.count) == [8, 8, 8, 8, 7])
        #expect(abs(top.rows[0].share - 8.0 / 60) < 1e-9 && abs(top.rows[0].perSecond - 8.0 / 300) < 1e-9, "\(top.rows[0])")
        let kinds = try await fixture.scanner.top(LogQuery(), by: .field("kind"), limit: 10)
        #expect(kinds.rows.map(\.value) == ["(none)", "x"] && kinds.rows.map(\.count) == [270, 30])
        let hosts = try await fixture.scanner.top(LogQuery(filter: try LogFilter("field.status:500")), by: .host, limit: 10)
        // i = 3k: i mod 4 = 3k mod 4 cycles 0 3 2 1, 100 values: 25 each.
        #expect(hosts.rows.map(\.value) == ["h0", "h1", "h2", "h3"] && hosts.rows.allSatisfy { $0.count == 25 })
    }

    @Test func histogramBucketsByWidthAndByCount() async throws {
        let fixture = try ScanFixture()
        defer { fixture.directory.remove() }
        let t = ScanFixture.t0
        let s = ScanFixture.second
        let minutes = try await fixture.scanner.histogram(LogQuery(filter: try LogFilter("needle")), buckets: .width(60 * s))
        #expect(minutes.buckets.map(\.start) == (0 ..< 5).map { t + Int64($0) * 60 * s })
        #expect(minutes.buckets.map(\.count) == [12, 12, 12, 12, 12] && minutes.total == 60)
        let bounded = try await fixture.scanner.histogram(LogQuery(from: t - 120 * s, to: t + 359 * s), buckets: .width(60 * s))
        #expect(bounded.buckets.map(\.count) == [0, 0, 60, 60, 60, 60, 60, 0], "empty buckets fill the range")
        let thirds = try await fixture.scanner.histogram(LogQuery(), buckets: .count(3))
        #expect(thirds.buckets.map(\.count) == [100, 100, 100] && thirds.buckets.first?.start == t, "\(thirds.buckets)")
        await #expect(throws: LogQueryError.self) {
            try await fixture.scanner.histogram(LogQuery(), buckets: .width(1), maxBuckets: 1000)
        }
    }

    @Test func aDirectoryWithoutAWALIsAClearError() async throws {
        let directory = TemporaryDirectory("hypha-query-empty")
        defer { directory.remove() }
        do {
            _ = try await LogScanner(dataDirectory: directory.path).search(LogQuery(), limit: 1)
            Issue.record("no error")
        } catch {
            #expect(error.code == .wal && error.message.contains("no write-ahead log"), "\(error)")
        }
    }
}
