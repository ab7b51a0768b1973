@testable import Bench
import Foundation
import Platform
import WAL
import Wire
import Testing

/// The generators behind `hypha bench load`: sizes near `--size`, realistic, distinct, exact
/// record counts, and Influx series cardinality of 1,000.
@Suite struct LoadDatasetTests {
    static func lines(_ d: LineDataset) -> [String] {
        (0 ..< d.lineCount).map { String(decoding: d.line($0), as: UTF8.self) }
    }

    @Test(arguments: [100, 200, 512])
    func syslogLinesAreRFC5424OfTheRequestedSize(size: Int) throws {
        var g = SyslogLineGenerator(seed: 7, size: size)
        let d = LineDataset.generate(&g, records: 2000)
        #expect(d.records == 2000 && d.lineCount == 2000)
        let lines = Self.lines(d)
        let regex = try Regex(#"^<\d{1,3}>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \S+ \S+ \d+ - - .+$"#)
        var apps = Set<String>()
        var hosts = Set<String>()
        for line in lines {
            #expect(line.utf8.count + 1 == size, "line of \(line.utf8.count + 1) bytes, expected \(size): \(line)")
            #expect(line.wholeMatch(of: regex) != nil, "not RFC 5424: \(line)")
            let parts = line.split(separator: " ", maxSplits: 5)
            hosts.insert(String(parts[2]))
            apps.insert(String(parts[3]))
        }
        #expect(Set(lines).count == lines.count, "\(lines.count - Set(lines).count) duplicate lines")
        #expect(apps.isSuperset(of: ["nginx", "orders", "sshd", "systemd", "postgres"]), "apps: \(apps)")
        #expect(hosts.count > 30, "hosts: \(hosts.count)")
    }

    @Test(arguments: [200, 400])
    func jsonLinesAreValidLogObjectsNearTheRequestedSize(size: Int) throws {
        var g = JSONLogGenerator(seed: 11, size: size)
        let d = LineDataset.generate(&g, records: 2000)
        let lines = Self.lines(d)
        var levels = Set<String>()
        for line in lines {
            let n = line.utf8.count + 1
            #expect(abs(n - size) <= size / 10, "line of \(n) bytes, expected about \(size): \(line)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
            #expect((object["message"] as? String)?.isEmpty == false)
            #expect(object["host"] is String && object["service"] is String && object["timestamp"] is String)
            levels.insert(object["level"] as? String ?? "?")
        }
        #expect(Set(lines).count == lines.count)
        #expect(levels.isSuperset(of: ["info", "error", "warn"]), "levels: \(levels)")
    }

    @Test func influxHasOneThousandSeriesAndExactSampleCounts() throws {
        #expect(MetricSeriesTable().series.count == 1000)
        var g = InfluxLineGenerator(seed: 3, size: 200)
        let d = LineDataset.generate(&g, records: 60_000)
        #expect(d.records == 60_000, "exactly the samples asked for")
        var series = Set<String>()
        var measurements = Set<String>()
        var previous = 0
        for (i, line) in Self.lines(d).enumerated() {
            #expect(line.utf8.count + 1 <= 200 || line.split(separator: " ")[1].split(separator: ",").count == 1, "line too long: \(line)")
            let parts = line.split(separator: " ")
            try #require(parts.count == 3, "measurement+tags, fields, timestamp: \(line)")
            series.insert(String(parts[0]))
            measurements.insert(String(parts[0].split(separator: ",")[0]))
            let fields = parts[1].split(separator: ",")
            #expect(fields.count == d.cumulativeRecords[i] - previous, "one record per field")
            previous = d.cumulativeRecords[i]
            for f in fields {
                let kv = f.split(separator: "=")
                #expect(kv.count == 2 && (Double(kv[1]) != nil || (kv[1].hasSuffix("i") && Int(kv[1].dropLast()) != nil)), "field \(f)")
            }
            #expect(Int(parts[2]) != nil, "ns timestamp: \(parts[2])")
            #expect(parts[0].contains(",host=") && parts[0].contains(",region="))
        }
        #expect(series.count >= 990 && series.count <= 1000, "\(series.count) distinct series, about 1,000 expected")
        #expect(measurements == ["cpu", "mem", "disk", "net", "diskio", "system", "http_server"])
        let average = Double(d.bytes.count) / Double(d.lineCount)
        #expect(average > 150 && average <= 200, "average line \(average) B")
    }

    @Test func graphiteLinesArePathValueTimestamp() {
        var g = GraphiteLineGenerator(seed: 5)
        let d = LineDataset.generate(&g, records: 5000)
        let lines = Self.lines(d)
        var paths = Set<String>()
        for line in lines {
            let parts = line.split(separator: " ")
            #expect(parts.count == 3, "\(line)")
            #expect(parts[0].hasPrefix("servers.") && parts[0].allSatisfy { $0.isASCII && $0 != " " && $0 != ";" })
            #expect(Double(parts[1]) != nil && Int(parts[2]) != nil, "\(line)")
            paths.insert(String(parts[0]))
        }
        #expect(paths.count > 2000, "\(paths.count) distinct paths")
        #expect(Set(lines).count > lines.count * 95 / 100)
    }

    @Test func nativeBatchesAreWellFormedFramesOfValidRecords() throws {
        let plan = Datasets.nativePlan(records: 1234, size: 200, recordsPerBatch: 500, seed: 9, producerID: 77, poolBytes: 1 << 20)
        #expect(plan.records == 1234 && plan.fullBatches == 2 && plan.tailRecords == 234 && plan.batches == 3)
        var frames: [[UInt8]] = (0 ..< plan.poolFrames).map { Array(plan.frames[plan.frameOffsets[$0] ..< plan.frameOffsets[$0 + 1]]) }
        frames.append(plan.tail)
        var messages = Set<String>()
        var total = 0
        for frame in frames {
            let f = frame[...]
            #expect(Int(f.loadBigEndian(UInt32.self, at: 0)) == frame.count - 4, "frame length")
            #expect(frame[4] == 0x03, "BATCH")
            #expect(f.loadBigEndian(UInt64.self, at: 5) == 77, "producer id")
            let count = Int(f.loadBigEndian(UInt32.self, at: 21))
            var offset = 25
            for _ in 0 ..< count {
                let length = Int(f.loadBigEndian(UInt32.self, at: offset))
                #expect(abs(length + 4 - 200) <= 2, "record of \(length + 4) bytes, expected 200")
                // Re-wrap the body the WAL's way (varint length) and decode it.
                var wal: [UInt8] = []
                wal.appendLengthPrefixed(frame[(offset + 4) ..< (offset + 4 + length)])
                var cursor = RecordCursor(wal, count: wal.count)
                guard case .log(let log)? = try cursor.next() else { Issue.record("not a log record"); return }
                #expect(!log.host.isEmpty && !log.app.isEmpty)
                messages.insert(log.message)
                offset += 4 + length
            }
            #expect(offset == frame.count, "no bytes after the last record")
            total += count
        }
        #expect(total == 1000 + 234)
        #expect(messages.count == total, "distinct records")
    }

    @Test func linePlansRepeatAPoolAndCarryExactlyTheRecordsAsked() {
        let plan = Datasets.linePlan(.influx, records: 50_001, size: 200, seed: 1, poolBytes: 200_000)
        #expect(plan.records == 50_001)
        #expect(plan.cycles > 1, "a pool of ~200 kB repeats for 50,001 samples")
        #expect(plan.bytes == plan.cycles * plan.pool.bytes.count + plan.tail.bytes.count)
        let small = Datasets.linePlan(.syslog, records: 100, size: 200, seed: 1, poolBytes: 1 << 20)
        #expect(small.records == 100 && small.cycles == 1 && small.tail.records == 0)
    }

    @Test func connectionsGetDistinctDataShardsAndShares() {
        #expect(LoadGenerator.split(10, over: 3) == [4, 3, 3])
        #expect(LoadGenerator.split(2, over: 4) == [1, 1])
        let ids = (0 ..< 8).map { LoadGenerator.daemonID(connection: $0, seed: 42) }
        #expect(Set(ids).count == 8)
        for (i, id) in ids.enumerated() { #expect(LoadGenerator.fnv1a(id) % 8 == UInt64(i)) }
        var a = SyslogLineGenerator(seed: Datasets.seed(42, connection: 0), size: 200)
        var b = SyslogLineGenerator(seed: Datasets.seed(42, connection: 1), size: 200)
        #expect(Self.lines(LineDataset.generate(&a, records: 10)) != Self.lines(LineDataset.generate(&b, records: 10)))
    }

    @Test func latencySummaryReadsTheHistogram() {
        var h = LatencyHistogram.make()
        for us in 1 ... 1000 { LatencyHistogram.record(UInt64(us) * 1000, in: &h) }
        let s = LatencySummary(h)
        #expect(s.count == 1000)
        #expect(abs(s.p50 - 500) <= 1 && abs(s.p99 - 990) <= 1 && abs(s.p999 - 999) <= 1 && s.max >= 999)
        #expect(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max)
    }
}
