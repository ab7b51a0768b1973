import Platform
import WAL
import Wire
import Workload

/// The wire protocols `hypha bench` can load, named as the node's listeners are.
public enum LoadProtocol: String, CaseIterable, Sendable, Codable {
    case native, syslog, json, influx, graphite

    /// The listener's name in the node's ready line (`ServerProcess.ports`).
    public var listener: String { rawValue }

    /// Whether `--size` shapes the records of this protocol. Graphite lines carry one sample
    /// each and keep their natural size (about 60–80 bytes).
    public var honoursSize: Bool { self != .graphite }
}

/// Something that writes realistic newline-terminated lines of one line protocol.
///
/// Generators are deterministic for a seed, so a benchmark's data is reproducible.
public protocol LineGenerator {
    /// Appends the next line, ending in `\n`, to `buffer`.
    /// - Parameter maxRecords: the most records (samples) the line may carry, at least 1.
    /// - Returns: the number of records the node will store for the line (1 for a log line, the
    ///   number of numeric fields for an Influx line).
    mutating func appendLine(to buffer: inout [UInt8], maxRecords: Int) -> Int
}

// MARK: - Text helpers

/// Deterministic filler text that looks like what real log lines carry at their end (trace ids,
/// pod names, versions), used to bring a line to its `--size`.
fileprivate struct PaddingText {
    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed ^ 0x5EED_F111_E700_0001) }

    private static let digits = Array("0123456789abcdef".utf8)
    private static let pods = ["orders", "checkout", "payments", "search", "auth", "gateway", "billing", "catalog"]
    private static let zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c", "us-east-1a", "us-east-1d"]

    mutating func hex(_ n: Int, into out: inout [UInt8]) {
        for _ in 0 ..< n { out.append(Self.digits[Int(rng.next() & 15)]) }
    }

    mutating func number(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    mutating func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }

    /// Appends ` key=value` pairs (ASCII, no quotes or backslashes) until `out` holds at least
    /// `length` bytes, then cuts it to exactly `length`.
    mutating func pad(_ out: inout [UInt8], to length: Int) {
        while out.count < length {
            switch number(0 ... 7) {
            case 0:
                out.append(contentsOf: " trace_id=".utf8)
                hex(32, into: &out)
            case 1:
                out.append(contentsOf: " span_id=".utf8)
                hex(16, into: &out)
            case 2:
                out.append(contentsOf: " pod=\(pick(Self.pods))-".utf8)
                hex(10, into: &out)
            case 3: out.append(contentsOf: " node=ip-10-0-\(number(0 ... 63))-\(number(1 ... 254)).internal".utf8)
            case 4: out.append(contentsOf: " zone=\(pick(Self.zones))".utf8)
            case 5: out.append(contentsOf: " version=2.\(number(0 ... 19)).\(number(0 ... 9))".utf8)
            case 6: out.append(contentsOf: " thread=worker-\(number(1 ... 64))".utf8)
            default: out.append(contentsOf: " elapsed_us=\(number(10 ... 250_000))".utf8)
            }
        }
        out.removeLast(out.count - length)
    }
}

/// Syslog severity names as JSON loggers write them.
private let levelNames = ["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]

/// Appends `text` as the inside of a JSON string (quotes, backslashes and controls escaped).
fileprivate func appendJSONEscaped<S: Sequence<UInt8>>(_ text: S, to out: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    for b in text {
        switch b {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), b])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), b])
        case 0 ..< 0x20: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]])
        default: out.append(b)
        }
    }
}

/// Cuts or pads `message` so that `overhead + message.count == target` (never below `minimum`
/// message bytes). The corpus is ASCII, so any cut is at a character boundary.
fileprivate func fit(_ message: inout [UInt8], overhead: Int, target: Int, minimum: Int = 8, padding: inout PaddingText) {
    let want = max(minimum, target - overhead)
    if message.count > want {
        message.removeLast(message.count - want)
    } else if message.count < want {
        padding.pad(&message, to: want)
    }
}

// MARK: - Syslog

/// RFC 5424 syslog lines from ``SyslogCorpus`` (nginx, JSON application logs, sshd, systemd,
/// postgres, kernel on 64 hosts), each cut or padded to `size` bytes including its `\n`.
public struct SyslogLineGenerator: LineGenerator {
    private var corpus: SyslogCorpus
    private var padding: PaddingText
    private var rng: SplitMix64
    /// Bytes per line, newline included.
    public let size: Int

    public init(seed: UInt64, size: Int) {
        corpus = SyslogCorpus(seed: seed)
        padding = PaddingText(seed: seed)
        rng = SplitMix64(seed: seed ^ 0x1)
        self.size = size
    }

    public mutating func appendLine(to buffer: inout [UInt8], maxRecords: Int) -> Int {
        let r = corpus.nextRecord()
        let pri = Int(r.facility) * 8 + Int(r.severity)
        let pid = Int.random(in: 100 ... 65000, using: &rng)
        let header = "<\(pri)>1 \(RecordJSON.rfc3339(r.timestamp).prefix(26))Z \(r.host) \(r.app) \(pid) - - "
        var message = Array(r.message.utf8)
        fit(&message, overhead: header.utf8.count + 1, target: size, padding: &padding)
        buffer.append(contentsOf: header.utf8)
        buffer.append(contentsOf: message)
        buffer.append(10)
        return 1
    }
}

// MARK: - JSON lines

/// JSON log lines as structured loggers write them (timestamp, host, service, level, pid,
/// request id, message), the message cut or padded so each line is about `size` bytes.
public struct JSONLogGenerator: LineGenerator {
    private var corpus: SyslogCorpus
    private var padding: PaddingText
    private var rng: SplitMix64
    public let size: Int

    public init(seed: UInt64, size: Int) {
        corpus = SyslogCorpus(seed: seed)
        padding = PaddingText(seed: seed)
        rng = SplitMix64(seed: seed ^ 0x2)
        self.size = size
    }

    public mutating func appendLine(to buffer: inout [UInt8], maxRecords: Int) -> Int {
        let r = corpus.nextRecord()
        var head = Array(
            "{\"timestamp\":\"\(RecordJSON.rfc3339(r.timestamp).prefix(26))Z\",\"host\":\"\(r.host)\",\"service\":\"\(r.app)\",\"level\":\"\(levelNames[Int(min(r.severity, 7))])\",\"pid\":\(Int.random(in: 100 ... 65000, using: &rng)),\"request_id\":\""
                .utf8)
        padding.hex(16, into: &head)
        head.append(contentsOf: "\",\"message\":\"".utf8)
        let tail = "\"}\n".utf8.count
        // Escaping only grows text, so cutting the raw message by the excess is enough.
        var raw = Array(r.message.utf8)
        var escaped: [UInt8] = []
        appendJSONEscaped(raw, to: &escaped)
        let want = size - head.count - tail
        if escaped.count > want, want > 8 {
            raw.removeLast(min(raw.count - 8, escaped.count - want))
            escaped.removeAll(keepingCapacity: true)
            appendJSONEscaped(raw, to: &escaped)
        } else if escaped.count < want {
            padding.pad(&escaped, to: want)
        }
        buffer.append(contentsOf: head)
        buffer.append(contentsOf: escaped)
        buffer.append(contentsOf: "\"}\n".utf8)
        return 1
    }
}

// MARK: - Metric series (Influx and Graphite)

/// A fleet's metric series as Telegraf reports them: 50 hosts × 20 tag sets over 7
/// measurements (cpu ×5, mem, disk ×3, net ×2, diskio ×2, system, http_server ×6) = 1,000
/// series (measurement + tag set), each with its own fields.
public struct MetricSeriesTable: Sendable {
    public enum FieldKind: Sendable { case percent, gauge, counter, bytes }

    public struct Measurement: Sendable {
        public let name: String
        /// The extra tag's key and values (one series per value per host); nil for one series.
        public let tag: (key: String, values: [String])?
        public let fields: [(name: String, kind: FieldKind)]
    }

    public struct Series: Sendable {
        public let measurement: Int
        public let host: String
        public let region: String
        public let tagValue: String?
    }

    public let measurements: [Measurement]
    public let series: [Series]

    public init(hostCount: Int = 50) {
        measurements = [
            Measurement(
                name: "cpu", tag: ("cpu", ["cpu-total", "cpu0", "cpu1", "cpu2", "cpu3"]),
                fields: ["usage_user", "usage_system", "usage_idle", "usage_iowait", "usage_nice", "usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"].map { ($0, FieldKind.percent) }),
            Measurement(
                name: "mem", tag: nil,
                fields: [("total", .bytes), ("available", .bytes), ("used", .bytes), ("free", .bytes), ("cached", .bytes), ("buffered", .bytes), ("used_percent", .percent), ("available_percent", .percent)]),
            Measurement(
                name: "disk", tag: ("path", ["/", "/var", "/data"]),
                fields: [("total", .bytes), ("free", .bytes), ("used", .bytes), ("used_percent", .percent), ("inodes_total", .counter), ("inodes_free", .counter), ("inodes_used", .counter)]),
            Measurement(
                name: "net", tag: ("interface", ["eth0", "eth1"]),
                fields: [("bytes_sent", .counter), ("bytes_recv", .counter), ("packets_sent", .counter), ("packets_recv", .counter), ("err_in", .counter), ("err_out", .counter), ("drop_in", .counter), ("drop_out", .counter)]),
            Measurement(
                name: "diskio", tag: ("name", ["sda", "sdb"]),
                fields: [("reads", .counter), ("writes", .counter), ("read_bytes", .counter), ("write_bytes", .counter), ("read_time", .counter), ("write_time", .counter), ("io_time", .counter), ("iops_in_progress", .gauge)]),
            Measurement(
                name: "system", tag: nil,
                fields: [("load1", .gauge), ("load5", .gauge), ("load15", .gauge), ("n_users", .gauge), ("n_cpus", .gauge), ("uptime", .counter)]),
            Measurement(
                name: "http_server", tag: ("endpoint", ["/", "/login", "/api/v1/orders", "/api/v1/users", "/static", "/healthz"]),
                fields: [("requests", .counter), ("errors", .counter), ("duration_p50_ms", .gauge), ("duration_p99_ms", .gauge), ("bytes_out", .counter)]),
        ]
        let roles = ["web", "api", "db", "cache", "queue"]
        var series: [Series] = []
        for h in 0 ..< hostCount {
            let region = h % 3 == 2 ? "us-east-1" : "eu-west-1"
            let host = "\(roles[h % roles.count])-\(String(format2: h / roles.count + 1)).\(region)"
            for (m, measurement) in measurements.enumerated() {
                if let tag = measurement.tag {
                    for value in tag.values { series.append(Series(measurement: m, host: host, region: region, tagValue: value)) }
                } else {
                    series.append(Series(measurement: m, host: host, region: region, tagValue: nil))
                }
            }
        }
        self.series = series
    }
}

fileprivate extension String {
    /// Two-digit zero-padded decimal.
    init(format2 n: Int) { self = n < 10 ? "0\(n)" : "\(n)" }
}

/// Per-series state that makes values look like a real fleet: counters only grow, gauges wander.
fileprivate struct MetricValues {
    var rng: SplitMix64
    var counters: [Int]

    init(seed: UInt64, slots: Int) {
        rng = SplitMix64(seed: seed)
        counters = (0 ..< slots).map { _ in 0 }
        for i in counters.indices { counters[i] = Int.random(in: 1_000 ... 50_000_000, using: &rng) }
    }

    /// The value of field `kind` in counter slot `slot`, as Influx text (`12i` for integers when
    /// `influx`), else plain decimal text.
    mutating func text(_ kind: MetricSeriesTable.FieldKind, slot: Int, influx: Bool) -> String {
        switch kind {
        case .percent:
            let v = Int.random(in: 0 ... 10_000, using: &rng)
            return "\(v / 100).\(String(format2: v % 100))"
        case .gauge:
            let v = Int.random(in: 0 ... 500_000, using: &rng)
            return "\(v / 1000).\(v % 1000)"
        case .counter:
            counters[slot] += Int.random(in: 0 ... 5_000, using: &rng)
            return influx ? "\(counters[slot])i" : "\(counters[slot])"
        case .bytes:
            let v = Int.random(in: 1 << 28 ... 1 << 36, using: &rng)
            return influx ? "\(v)i" : "\(v)"
        }
    }
}

/// InfluxDB line protocol as Telegraf writes it for ``MetricSeriesTable`` (1,000 series):
/// `cpu,host=web-01.eu-west-1,region=eu-west-1,cpu=cpu0 usage_user=12.53,… 1795000000123456789`.
/// Each line takes as many of its measurement's fields as fit in `size` bytes (at least one);
/// every numeric field is one record (sample) on the node.
public struct InfluxLineGenerator: LineGenerator {
    public let table: MetricSeriesTable
    private var values: MetricValues
    private var rng: SplitMix64
    private var clock: Int64
    private let prefixes: [String]
    private let slotBase: [Int]
    public let size: Int

    public init(seed: UInt64, size: Int, table: MetricSeriesTable = MetricSeriesTable()) {
        self.table = table
        self.size = size
        rng = SplitMix64(seed: seed)
        clock = 1_795_000_000_000_000_000
        prefixes = table.series.map { s in
            let m = table.measurements[s.measurement]
            var p = "\(m.name),host=\(s.host),region=\(s.region)"
            if let tag = m.tag, let v = s.tagValue { p += ",\(tag.key)=\(v.replacingSpaces())" }
            return p
        }
        var base: [Int] = []
        var slots = 0
        for s in table.series {
            base.append(slots)
            slots += table.measurements[s.measurement].fields.count
        }
        slotBase = base
        values = MetricValues(seed: seed ^ 0x3, slots: slots)
    }

    public mutating func appendLine(to buffer: inout [UInt8], maxRecords: Int) -> Int {
        let index = Int(rng.next() % UInt64(table.series.count))
        let measurement = table.measurements[table.series[index].measurement]
        clock += Int64.random(in: 5_000 ... 20_000, using: &rng)
        let start = buffer.count
        buffer.append(contentsOf: prefixes[index].utf8)
        let timestamp = " \(clock)\n"
        var fields = 0
        for (f, field) in measurement.fields.enumerated() where fields < maxRecords {
            let text = "\(fields == 0 ? " " : ",")\(field.name)=\(values.text(field.kind, slot: slotBase[index] + f, influx: true))"
            if fields > 0, buffer.count - start + text.utf8.count + timestamp.utf8.count > size { break }
            buffer.append(contentsOf: text.utf8)
            fields += 1
        }
        buffer.append(contentsOf: timestamp.utf8)
        return fields
    }
}

fileprivate extension String {
    /// Influx tag values may not hold unescaped spaces; the table has none, this is a guard.
    func replacingSpaces() -> String { String(map { $0 == " " ? "_" : $0 }) }
}

/// Graphite plaintext lines for the fields of ``MetricSeriesTable``:
/// `servers.web-01_eu-west-1.cpu.cpu0.usage_user 12.53 1795000000`, one sample per line.
public struct GraphiteLineGenerator: LineGenerator {
    public let table: MetricSeriesTable
    private var values: MetricValues
    private var rng: SplitMix64
    private var clock: Int64
    private let prefixes: [String]
    private let slotBase: [Int]

    public init(seed: UInt64, table: MetricSeriesTable = MetricSeriesTable()) {
        self.table = table
        rng = SplitMix64(seed: seed)
        clock = 1_795_000_000_000
        prefixes = table.series.map { s in
            let m = table.measurements[s.measurement]
            var p = "servers.\(s.host.replacingDots()).\(m.name)"
            if let v = s.tagValue {
                let part = v == "/" ? "root" : String(v.drop(while: { $0 == "/" }).map { $0 == "/" || $0 == "." ? "_" : $0 })
                p += ".\(part)"
            }
            return p
        }
        var base: [Int] = []
        var slots = 0
        for s in table.series {
            base.append(slots)
            slots += table.measurements[s.measurement].fields.count
        }
        slotBase = base
        values = MetricValues(seed: seed ^ 0x4, slots: slots)
    }

    public mutating func appendLine(to buffer: inout [UInt8], maxRecords: Int) -> Int {
        let index = Int(rng.next() % UInt64(table.series.count))
        let fields = table.measurements[table.series[index].measurement].fields
        let f = Int(rng.next() % UInt64(fields.count))
        clock += Int64.random(in: 0 ... 3, using: &rng)
        let line = "\(prefixes[index]).\(fields[f].name) \(values.text(fields[f].kind, slot: slotBase[index] + f, influx: false)) \(clock / 1000)\n"
        buffer.append(contentsOf: line.utf8)
        return 1
    }
}

fileprivate extension String {
    func replacingDots() -> String { String(map { $0 == "." ? "_" : $0 }) }
}

// MARK: - Native records

/// Log records for the native protocol: ``SyslogCorpus`` records with their message cut or padded
/// so that each record (its 4-byte length and WAL body) is `size` bytes.
public struct NativeRecordGenerator {
    private var corpus: SyslogCorpus
    private var padding: PaddingText
    private var scratch: [UInt8] = []
    public let size: Int

    public init(seed: UInt64, size: Int) {
        corpus = SyslogCorpus(seed: seed)
        padding = PaddingText(seed: seed)
        self.size = size
    }

    /// Appends the next record as a BATCH entry: `u32` big-endian body length, then the body.
    public mutating func appendRecord(to buffer: inout [UInt8]) {
        var r = corpus.nextRecord()
        // Body: kind, timestamp, severity, facility, host, app, message, field count (0).
        let fixed = 1 + 8 + 2 + 1 + r.host.utf8.count + 1 + r.app.utf8.count + 1
        var message = Array(r.message.utf8)
        let lengthBytes = size - 4 - fixed > 127 ? 2 : 1
        fit(&message, overhead: 4 + fixed + lengthBytes, target: size, padding: &padding)
        r.message = String(decoding: message, as: UTF8.self)
        scratch.removeAll(keepingCapacity: true)
        RecordEncoder.append(r, to: &scratch)
        LoadBytes.appendBatchEntries(walPayload: scratch, to: &buffer)
    }
}

/// Big-endian integer helpers for the native protocol's framing.
enum LoadBytes {
    /// Appends the records of a WAL payload (``RecordEncoder``'s output: LEB128 length, then the
    /// body, per record) as BATCH entries, which carry a `u32` big-endian length instead.
    /// `bodyStart` gets where each record's body starts in `frame`.
    static func appendBatchEntries(walPayload: [UInt8], to frame: inout [UInt8], bodyStart: (Int) -> Void = { _ in }) {
        var cursor = RecordCursor(walPayload, count: walPayload.count)
        do {
            while let body = try cursor.nextBody() {
                frame.appendBigEndian(UInt32(body.count))
                bodyStart(frame.count)
                frame.append(contentsOf: walPayload[body])
            }
        } catch {
            preconditionFailure("RecordEncoder wrote a payload RecordCursor cannot walk: \(error)")
        }
    }
}

// MARK: - Datasets

/// Newline-framed lines held in one buffer, with where each line ends and how many records the
/// lines up to it carry.
public struct LineDataset: Sendable {
    public var bytes: [UInt8] = []
    /// End offset (exclusive) of each line in ``bytes``.
    public var lineEnds: [Int] = []
    /// Records carried by lines `0 ... i`.
    public var cumulativeRecords: [Int] = []

    public init() {}

    public var records: Int { cumulativeRecords.last ?? 0 }
    public var lineCount: Int { lineEnds.count }

    /// Line `i` without its newline.
    public func line(_ i: Int) -> ArraySlice<UInt8> {
        bytes[(i == 0 ? 0 : lineEnds[i - 1]) ..< lineEnds[i] - 1]
    }

    /// Generates lines carrying exactly `records` records.
    public static func generate(_ generator: inout some LineGenerator, records: Int, reserveBytes: Int = 0) -> LineDataset {
        var d = LineDataset()
        d.bytes.reserveCapacity(reserveBytes)
        var total = 0
        while total < records {
            total += generator.appendLine(to: &d.bytes, maxRecords: records - total)
            d.lineEnds.append(d.bytes.count)
            d.cumulativeRecords.append(total)
        }
        return d
    }
}

/// What one connection of a line protocol sends: a pool of distinct pre-generated lines, sent
/// `cycles` times, then `tail` (lines with the records left over).
///
/// Only ``poolRecords`` records are distinct: generating gigabytes would cost more memory and
/// time than it is worth; the pool is large enough (tens of MiB) that the node's 256 KiB
/// batches and lz4's 64 KiB window never see a repeat.
public struct LinePlan: Sendable {
    public var pool: LineDataset
    public var cycles: Int
    public var tail: LineDataset
    public var records: Int { cycles * pool.records + tail.records }
    public var bytes: Int { cycles * pool.bytes.count + tail.bytes.count }
}

/// What one native connection sends: a pool of distinct pre-encoded BATCH frames of
/// `recordsPerBatch` records, cycled `fullBatches` times in all, then an optional smaller frame.
/// Frames carry the connection's producer id; their producer sequence is written at send time.
public struct NativePlan: Sendable {
    public var frames: [UInt8]
    /// Start offset of each pooled frame in ``frames``; the last entry is ``frames``'s count.
    public var frameOffsets: [Int]
    public var recordsPerBatch: Int
    public var fullBatches: Int
    public var tail: [UInt8]
    public var tailRecords: Int
    public var producerID: UInt64

    public var batches: Int { fullBatches + (tailRecords > 0 ? 1 : 0) }
    public var records: Int { fullBatches * recordsPerBatch + tailRecords }
    public var poolFrames: Int { frameOffsets.count - 1 }
    public var bytes: Int {
        var total = tail.count
        for k in 0 ..< poolFrames {
            let size = frameOffsets[k + 1] - frameOffsets[k]
            total += size * (fullBatches / poolFrames + (k < fullBatches % poolFrames ? 1 : 0))
        }
        return total
    }

    /// Offset of the producer sequence inside a BATCH frame (length, type, producer id).
    public static let sequenceOffset = 4 + 1 + 8
    /// Bytes before the first record: length, type, producer id, sequence, record count.
    public static let headBytes = 4 + 1 + 8 + 8 + 4
}

/// Builds the pre-generated data of `hypha bench load`.
public enum Datasets {
    /// Seed of connection `connection` of a run seeded `seed`: distinct data per connection.
    public static func seed(_ seed: UInt64, connection: Int) -> UInt64 {
        seed &+ UInt64(connection) &* 0x9E37_79B9_7F4A_7C15
    }

    /// A generator for a line protocol.
    public static func lineGenerator(_ proto: LoadProtocol, seed: UInt64, size: Int) -> any LineGenerator {
        switch proto {
        case .syslog: SyslogLineGenerator(seed: seed, size: size)
        case .json: JSONLogGenerator(seed: seed, size: size)
        case .influx: InfluxLineGenerator(seed: seed, size: size)
        case .graphite: GraphiteLineGenerator(seed: seed)
        case .native: preconditionFailure("native is not a line protocol")
        }
    }

    /// The lines one connection sends: exactly `records` records, of which at most about
    /// `poolBytes` bytes are distinct.
    public static func linePlan(_ proto: LoadProtocol, records: Int, size: Int, seed: UInt64, poolBytes: Int) -> LinePlan {
        var generator = lineGenerator(proto, seed: seed, size: size)
        return linePlan(&generator, records: records, size: size, poolBytes: poolBytes)
    }

    static func linePlan(_ generator: inout any LineGenerator, records: Int, size: Int, poolBytes: Int) -> LinePlan {
        // Estimate records per byte from a sample, to size the pool.
        var probe = generator
        let sample = LineDataset.generate(&probe, records: 200)
        let bytesPerRecord = max(1.0, Double(sample.bytes.count) / Double(max(1, sample.records)))
        let poolRecords = max(1, min(records, Int(Double(poolBytes) / bytesPerRecord)))
        let pool = LineDataset.generate(&generator, records: poolRecords, reserveBytes: min(poolBytes, Int(Double(poolRecords) * bytesPerRecord * 1.05)))
        let cycles = records / pool.records
        let tail = LineDataset.generate(&generator, records: records - cycles * pool.records)
        return LinePlan(pool: pool, cycles: cycles, tail: tail)
    }

    /// The BATCH frames one native connection sends: exactly `records` records in batches of
    /// `recordsPerBatch`, at most about `poolBytes` bytes of them distinct.
    public static func nativePlan(records: Int, size: Int, recordsPerBatch: Int, seed: UInt64, producerID: UInt64, poolBytes: Int) -> NativePlan {
        var generator = NativeRecordGenerator(seed: seed, size: size)
        let perBatch = max(1, min(recordsPerBatch, records))
        let fullBatches = records / perBatch
        let tailRecords = records % perBatch
        let batchBytes = perBatch * size + 25
        let poolFrames = max(1, min(fullBatches, poolBytes / max(1, batchBytes)))
        var frames: [UInt8] = []
        frames.reserveCapacity(min(fullBatches, poolFrames) * batchBytes + 1024)
        var offsets: [Int] = [0]
        if fullBatches > 0 {
            for _ in 0 ..< poolFrames {
                appendBatchFrame(&generator, records: perBatch, producerID: producerID, to: &frames)
                offsets.append(frames.count)
            }
        }
        var tail: [UInt8] = []
        if tailRecords > 0 { appendBatchFrame(&generator, records: tailRecords, producerID: producerID, to: &tail) }
        return NativePlan(
            frames: frames, frameOffsets: offsets, recordsPerBatch: perBatch, fullBatches: fullBatches,
            tail: tail, tailRecords: tailRecords, producerID: producerID)
    }

    /// Appends one BATCH frame of the generator's next `records` records.
    static func appendBatchFrame(_ generator: inout NativeRecordGenerator, records: Int, producerID: UInt64, to buffer: inout [UInt8]) {
        appendBatchFrame(records: records, producerID: producerID, to: &buffer) { frame in
            for _ in 0 ..< records { generator.appendRecord(to: &frame) }
        }
    }

    /// Appends one BATCH frame (docs/protocol.md 5.3) with producer sequence 0, to be set at
    /// send time; `appendEntries` appends its `records` entries.
    static func appendBatchFrame(records: Int, producerID: UInt64, to buffer: inout [UInt8], entries appendEntries: (inout [UInt8]) -> Void) {
        let start = buffer.count
        buffer.appendBigEndian(UInt32(0))  // length, patched below
        buffer.append(NativeSession.batch)
        buffer.appendBigEndian(producerID)
        buffer.appendBigEndian(UInt64(0))
        buffer.appendBigEndian(UInt32(records))
        appendEntries(&buffer)
        buffer.storeBigEndian(UInt32(buffer.count - start - 4), at: start)
    }
}
