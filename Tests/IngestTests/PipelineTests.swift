import Ingest
import Platform
import WAL
import Synchronization
import Testing

@Suite struct PipelineTests {
    @Test func shardedPayloadsEncodeRecordsThatTheWALReaderDecodes() throws {
        var payloads = ShardedPayloads(shardCount: 3)
        let hosts = ["web1", "web2", "db1", "cache9"]
        var expected: [Int: [Record]] = [:]
        for (i, host) in hosts.enumerated() {
            let shard = SourceHash.shard(for: SourceHash.hash(host), shardCount: 3)
            ByteView.with(host) { h in
                ByteView.with("app") { a in
                    ByteView.with("message \(i) " + String(repeating: "z", count: i * 100)) { m in
                        payloads.beginLog(shard: shard, timestamp: Int64(i), severity: 3, facility: 4, host: h, app: a, message: m, now: 0)
                    }
                }
            }
            for f in 0 ..< i { ByteView.with("k\(f)") { k in ByteView.with("v\(f)") { v in payloads.field(key: k, value: v) } } }
            payloads.finishRecord()
            let fields = (0 ..< i).map { ("k\($0)", "v\($0)") }
            expected[shard, default: []].append(.log(LogRecord(
                timestamp: Int64(i), severity: 3, facility: 4, host: host, app: "app",
                message: "message \(i) " + String(repeating: "z", count: i * 100), fields: fields)))
        }
        ByteView.with("cpu") { n in ByteView.with("") { _ in payloads.beginMetric(shard: 0, timestamp: 99, name: n, value: 0.25, now: 0) } }
        ByteView.with("core") { k in ByteView.with("7") { v in payloads.field(key: k, value: v) } }
        payloads.finishRecord()
        expected[0, default: []].append(.metric(MetricSample(timestamp: 99, name: "cpu", value: 0.25, labels: [("core", "7")])))
        // An abandoned record leaves nothing behind.
        ByteView.with("x") { x in payloads.beginMetric(shard: 1, timestamp: 1, name: x, value: 1, now: 0) }
        payloads.abandonRecord()

        for shard in 0 ..< 3 {
            guard let draft = payloads.take(shard: shard, codec: .lz4, replacement: []) else {
                #expect(expected[shard] == nil)
                continue
            }
            var cursor = RecordCursor(draft.payload, count: draft.payload.count)
            var back: [Record] = []
            while let r = try cursor.next() { back.append(r) }
            #expect(back == expected[shard]!, "shard \(shard)")
            #expect(draft.recordCount == back.count)
            #expect(draft.minTimestamp == back.map(\.timestamp).min() && draft.maxTimestamp == back.map(\.timestamp).max())
        }
    }

    @Test func sourceHashIsStableFNV1a() {
        // FNV-1a 64 reference values: the routing of a data directory must never change.
        #expect(SourceHash.hash("") == 0xCBF2_9CE4_8422_2325)
        #expect(SourceHash.hash("a") == 0xAF63_DC4C_8601_EC8C)
        #expect(SourceHash.hash("foobar") == 0x8594_4171_F739_67E8)
        #expect(ByteView.with("foobar") { SourceHash.hash($0) } == SourceHash.hash("foobar"))
    }

    @Test func inFlightGatePausesAndResumesBelowThreeQuarters() {
        let gate = InFlightGate(shardCount: 2, maxTotalBytes: 1000, maxShardBytes: 600)
        gate.reserve(bytes: 500, shard: 0)
        #expect(!gate.isOverLimit)
        gate.reserve(bytes: 200, shard: 0)
        #expect(gate.isOverLimit, "shard 0 is past its 600-byte limit")
        let resumed = Counter()
        gate.pause { resumed.add() }
        #expect(resumed.value == 0)
        gate.release(bytes: 200, shard: 0)
        #expect(resumed.value == 0, "500 is still above three quarters of 600")
        gate.release(bytes: 100, shard: 0)
        #expect(resumed.value == 1, "resumed at 400")
        gate.pause { resumed.add() }
        #expect(resumed.value == 2, "a pause registered while low resumes at once")
        #expect(gate.usage.peak == 700)
    }

    @Test func throughputEMAConvergesWithAlphaOneTenth() {
        var ema = ThroughputEMA()
        ema.tick(records: 1000, bytes: 200_000)
        #expect(ema.recordsPerSecond == 100 && ema.bytesPerSecond == 20_000)
        for _ in 0 ..< 100 { ema.tick(records: 1000, bytes: 200_000) }
        #expect(abs(ema.recordsPerSecond - 1000) < 1)
        ema.tick(records: 0, bytes: 0)
        #expect(abs(ema.recordsPerSecond - 900) < 1, "one quiet second takes a tenth off")
    }
}

final class Counter: Sendable {
    private let n = Mutex(0)
    func add() { n.withLock { $0 += 1 } }
    var value: Int { n.withLock { $0 } }
}

@Suite struct StreamTapTests {
    @Test func handsOverOnlyTheRecordsTheFilterSelects() throws {
        var payload: [UInt8] = []
        RecordEncoder.append(MetricSample(timestamp: 1, name: "cpu", value: 0.5, labels: [("host", "a")]), to: &payload)
        RecordEncoder.append(LogRecord(timestamp: 2, host: "a", app: "x", message: "hello"), to: &payload)
        RecordEncoder.append(MetricSample(timestamp: 3, name: "mem", value: 7), to: &payload)
        RecordEncoder.append(MetricSample(timestamp: 4, name: "cpu", value: 0.75), to: &payload)
        let got = Mutex<[Record]>([])
        let tap = StreamTap(filter: TapFilter(metricNames: ["cpu"])) { bytes, count in
            var cursor = RecordCursor(bytes, count: bytes.count)
            var records: [Record] = []
            while let r = try? cursor.next() { records.append(r) }
            #expect(records.count == count)
            got.withLock { $0 += records }
        }
        tap.scan(payload, count: 4)
        tap.update(TapFilter(metricNames: [], wantsLogs: true))
        tap.scan(payload, count: 4)
        tap.update(TapFilter(wantsLogs: true, logSeverityCeiling: 3))
        tap.scan(payload, count: 4)  // the log record has no severity (255): not selected
        tap.update(TapFilter())
        tap.scan(payload, count: 4)
        tap.stop()
        let records = got.withLock { $0 }
        #expect(records.map(\.timestamp) == [1, 4, 2], "cpu samples, then the log record: \(records)")
        #expect(tap.counts.delivered == 2 && tap.counts.dropped == 0)
    }
}
