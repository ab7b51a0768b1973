import Foundation
import Ingest
import Platform
import WAL
import Wire
import Testing
import Workload

/// A sink that checks the `RecordSink` contract on every call: begin → fields → finish, nothing
/// but well-formed UTF-8 in any emitted view, no reject while a record is open.
struct ContractCheckingSink: RecordSink {
    var records = 0
    var rejects = 0
    var violations: [String] = []
    var open = false
    /// The text of every emitted view of the last record, for further checks.
    var lastTexts: [[UInt8]] = []

    mutating func check(_ view: ByteView, _ what: String) {
        if !view.isValidUTF8 { violations.append("\(what) is not UTF-8: \(view.bytes)") }
        lastTexts.append(view.bytes)
    }

    mutating func beginLog(timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView) {
        if open { violations.append("beginLog while open") }
        if severity > 7, severity != LogRecord.unknownLevel { violations.append("severity \(severity)") }
        if facility > 23, facility != LogRecord.unknownLevel { violations.append("facility \(facility)") }
        open = true
        lastTexts = []
        check(host, "host")
        check(app, "app")
        check(message, "message")
    }

    mutating func beginMetric(timestamp: Int64, name: ByteView, value: Double, source: ByteView) {
        if open { violations.append("beginMetric while open") }
        if !value.isFinite { violations.append("non-finite value") }
        if name.isEmpty { violations.append("empty metric name") }
        open = true
        lastTexts = []
        check(name, "name")
        check(source, "source")
    }

    mutating func field(key: ByteView, value: ByteView) {
        if !open { violations.append("field without record") }
        check(key, "key")
        check(value, "value")
    }

    mutating func finishRecord() {
        if !open { violations.append("finish without record") }
        open = false
        records += 1
    }

    mutating func reject(_ reason: StaticString, sample: ByteView) {
        if open { violations.append("reject while open") }
        rejects += 1
    }
}

@Suite struct DecoderRobustnessTests {
    typealias H = DecoderHarness

    static let seeds: [String] = [
        "<13>1 2026-11-21T10:00:00.123456+01:00 myhost myapp 1234 ID1 [timeQuality tzKnown=\"1\" isSynced=\"1\"][x@1 a=\"q\\\"\\]\"] héllo",
        "<38>Nov  1 09:05:03 web1 sshd[1234]: Accepted publickey for deploy",
        "<86>2026-11-21T10:00:00Z web1 systemd[1]: Started",
        #"{"ts":1700000000.5,"level":"info","host":"h","msg":"a\"b\u00e9\ud83d\ude00","n":[1,{"x":null}],"t":true}"#,
        #"{"metric":"m","value":-1.5e3,"labels":{"a":"b","n":2},"host":"h","timestamp":"2026-11-21T10:00:00Z"}"#,
        "cpu,cpu=cpu0,host=web1 usage_idle=98.5,usage_user=1.2i,s=\"x y\",b=t 1700000000000000000",
        "my\\ m,t\\,a=v\\=1 f\\ x=1u",
        "disk.used;host=web1;mount=/var 42.5 1700000000.5",
    ]

    static let interesting: [UInt8] = Array("<>[]{}\"\\:;,= \t\n\r-.0123456789eEiu-tfnZT".utf8) + [0, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]

    /// Deterministic mutations of real-world lines: every decoder sees every variant and must keep
    /// the sink contract (and never trap).
    @Test(arguments: 0 ..< seeds.count)
    func mutatedInputsKeepTheSinkContract(seedIndex: Int) {
        var rng = SplitMix64(seed: UInt64(seedIndex) &* 7919 &+ 1)
        let seed = Array(Self.seeds[seedIndex].utf8)
        var syslog = SyslogDecoder()
        var json = JSONLinesDecoder()
        var influx = InfluxLineDecoder()
        var graphite = GraphiteDecoder()
        var sink = ContractCheckingSink()
        for _ in 0 ..< 4000 {
            var bytes = seed
            for _ in 0 ... Int(rng.next() % 4) {
                guard !bytes.isEmpty else { break }
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] = Self.interesting[Int(rng.next() % UInt64(Self.interesting.count))]
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(Self.interesting[Int(rng.next() % UInt64(Self.interesting.count))], at: at)
                default: bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
                }
            }
            ByteView.with(bytes) { v in
                syslog.decode(v, receivedAt: H.now, into: &sink)
                json.decode(v, receivedAt: H.now, into: &sink)
                _ = influx.decode(v, precision: .ms, receivedAt: H.now, into: &sink)
                graphite.decode(v, receivedAt: H.now, into: &sink)
            }
            if !sink.violations.isEmpty {
                Issue.record("contract violated for \(String(decoding: bytes, as: UTF8.self).debugDescription): \(sink.violations)")
                return
            }
        }
        #expect(sink.records > 0 && sink.rejects > 0, "records \(sink.records), rejects \(sink.rejects)")
    }

    /// Whatever the JSON decoder accepts Foundation also parses, and nested values it emits as
    /// compact JSON text are themselves valid JSON.
    @Test func acceptedJSONIsValidJSON() throws {
        var rng = SplitMix64(seed: 99)
        var decoder = JSONLinesDecoder()
        let seeds = Self.seeds.filter { $0.hasPrefix("{") } + [#"{"message":"m","o":{ "a" : [ 1 , 2.5e-3 , "x\ty" , { } ] } , "e":[]}"#]
        var accepted = 0
        for _ in 0 ..< 4000 {
            var bytes = Array(seeds[Int(rng.next() % UInt64(seeds.count))].utf8)
            for _ in 0 ... Int(rng.next() % 3) where !bytes.isEmpty {
                let at = Int(rng.next() % UInt64(bytes.count))
                if rng.next() % 2 == 0 {
                    bytes[at] = Self.interesting[Int(rng.next() % UInt64(Self.interesting.count))]
                } else {
                    bytes.remove(at: at)
                }
            }
            var sink = CollectingSink()
            ByteView.with(bytes) { decoder.decode($0, receivedAt: H.now, into: &sink) }
            guard case .log(let record)? = sink.records.first else { continue }
            accepted += 1
            let parsed = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
            #expect(parsed != nil, "accepted but Foundation refuses: \(String(decoding: bytes, as: UTF8.self).debugDescription)")
            guard let parsed else { continue }
            for (key, value) in record.fields where record.fields.filter({ $0.0 == key }).count == 1 {
                guard let container = parsed[key], container is [Any] || container is [String: Any] else { continue }
                let nested = try? JSONSerialization.jsonObject(with: Data(value.utf8), options: [.fragmentsAllowed])
                #expect(nested != nil, "field \(key) is not JSON: \(value)")
                if let nested {
                    let a = try? JSONSerialization.data(withJSONObject: nested, options: [.sortedKeys, .fragmentsAllowed])
                    let b = try? JSONSerialization.data(withJSONObject: container, options: [.sortedKeys, .fragmentsAllowed])
                    #expect(a != nil && a == b, "field \(key): \(value) differs from \(container)")
                }
            }
        }
        #expect(accepted > 100, "only \(accepted) accepted")
    }

    /// The syslog framer and decoder together on a realistic stream cut at random places.
    @Test func randomlyChunkedSyslogStreamDecodesEveryMessage() {
        var corpus = SyslogCorpus(seed: 3)
        var stream: [UInt8] = []
        var expected = 0
        for i in 0 ..< 300 {
            let line = corpus.nextRFC5424Line()
            if i % 2 == 0 {
                stream += Array("\(line.utf8.count) \(line)".utf8)
            } else {
                stream += Array((line + (i % 3 == 0 ? "\r\n" : "\n")).utf8)
            }
            expected += 1
        }
        var rng = SplitMix64(seed: 5)
        var framer = SyslogFramer(maxFrameLength: 2048)
        var decoder = SyslogDecoder()
        var sink = CollectingSink()
        var buffer: [UInt8] = []
        var offset = 0
        while offset < stream.count {
            let n = min(stream.count - offset, 1 + Int(rng.next() % 700))
            buffer += stream[offset ..< offset + n]
            offset += n
            var dropped = 0
            while true {
                let step = ByteView.with(Array(buffer[dropped...])) { view -> FrameStep in
                    let step = framer.next(view)
                    switch step {
                    case .frame(let r, _): decoder.decode(view[r], receivedAt: H.now, into: &sink)
                    case .rejected(let reason, let c): sink.reject(reason, sample: view[0 ..< c])
                    case .needMore: break
                    }
                    return step
                }
                dropped += step.consumed
                if case .needMore = step { break }
            }
            buffer.removeFirst(dropped)
        }
        #expect(sink.rejects.isEmpty, "\(sink.rejects.prefix(3))")
        #expect(sink.records.count == expected, "\(sink.records.count) of \(expected)")
        #expect(buffer.isEmpty)
    }

    /// Random streams of framing-relevant bytes, read in random chunk sizes: the framers always
    /// make progress, consume only what they were given, and never leave more than
    /// `maxBufferedBytes` pending; every frame respects the length limit.
    @Test(arguments: [1, 2, 3, 4])
    func framersOnRandomStreams(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let alphabet = Array("0123456789  \n\n\r<a>".utf8) + [0]
        for round in 0 ..< 200 {
            let length = Int(rng.next() % 400)
            let stream = (0 ..< length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let max = 1 + Int(rng.next() % 24)
            let chunk = 1 + Int(rng.next() % 40)
            var syslog = SyslogFramer(maxFrameLength: max)
            let s = H.drive(stream, chunk: chunk) { syslog.next($0) }
            #expect(s.maxPending <= syslog.maxBufferedBytes, "round \(round): syslog pending \(s.maxPending)")
            var lines = LineFramer(maxLineLength: max)
            let l = H.drive(stream, chunk: chunk) { lines.next($0) }
            #expect(l.maxPending <= lines.maxBufferedBytes, "round \(round): line pending \(l.maxPending)")
            for case .frame(let bytes) in s.events + l.events {
                #expect(!bytes.isEmpty && bytes.count <= max, "round \(round): frame of \(bytes.count) with max \(max)")
            }
            for case .frame(let bytes) in l.events {
                #expect(!bytes.contains(0x0A), "a line frame contains LF")
            }
        }
    }
}
