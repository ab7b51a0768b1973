import Ingest
import Platform
import WAL
import Wire
import Testing

@Suite struct InfluxLineDecoderTests {
    typealias H = DecoderHarness

    static let t0: Int64 = 1_700_000_000_000_000_000

    struct Good: Sendable, CustomTestStringConvertible {
        let input: [UInt8]
        var precision: InfluxPrecision = .ns
        let expected: [MetricSample]
        var source: String = ""
        var testDescription: String { String(decoding: input, as: UTF8.self).debugDescription }
    }

    static let cpuLabels = [("cpu", "cpu0"), ("host", "web1")]

    static let good: [Good] = [
        Good(
            input: H.bytes("cpu,cpu=cpu0,host=web1 usage_idle=98.5,usage_user=1.2 1700000000000000000"),
            expected: [
                MetricSample(timestamp: t0, name: "cpu_usage_idle", value: 98.5, labels: cpuLabels),
                MetricSample(timestamp: t0, name: "cpu_usage_user", value: 1.2, labels: cpuLabels),
            ],
            source: "web1"),
        Good(
            input: H.bytes("mem,host=db-1 used=123456789i,available_percent=41.25,active=3u 1700000000000000000"),
            expected: [
                MetricSample(timestamp: t0, name: "mem_used", value: 123_456_789, labels: [("host", "db-1")]),
                MetricSample(timestamp: t0, name: "mem_available_percent", value: 41.25, labels: [("host", "db-1")]),
                MetricSample(timestamp: t0, name: "mem_active", value: 3, labels: [("host", "db-1")]),
            ],
            source: "db-1"),
        Good(
            input: H.bytes("temperature,room=kitchen value=21.5 1700000000"), precision: .s,
            expected: [MetricSample(timestamp: t0, name: "temperature", value: 21.5, labels: [("room", "kitchen")])]),
        Good(
            input: H.bytes("m a=-12i,b=12u,c=t,d=FALSE,e=-1e3,f=True,g=F,h=+3.5,i=0 1700000000000"), precision: .ms,
            expected: [
                MetricSample(timestamp: t0, name: "m_a", value: -12), MetricSample(timestamp: t0, name: "m_b", value: 12),
                MetricSample(timestamp: t0, name: "m_c", value: 1), MetricSample(timestamp: t0, name: "m_d", value: 0),
                MetricSample(timestamp: t0, name: "m_e", value: -1000), MetricSample(timestamp: t0, name: "m_f", value: 1),
                MetricSample(timestamp: t0, name: "m_g", value: 0), MetricSample(timestamp: t0, name: "m_h", value: 3.5),
                MetricSample(timestamp: t0, name: "m_i", value: 0),
            ]),
        Good(
            input: H.bytes(#"syslog,host=h msg="hello, world = \"quoted\" \\",severity_code=6i 1700000000000000"#), precision: .us,
            expected: [MetricSample(timestamp: t0, name: "syslog_severity_code", value: 6, labels: [("host", "h")])],
            source: "h"),
        Good(
            input: H.bytes(#"my\ meas\,x,ta\,g\ k=v\=a\ l,t2=x\y f\=x=1,value=2"#),
            expected: [
                MetricSample(timestamp: H.now, name: "my meas,x_f=x", value: 1, labels: [("ta,g k", "v=a l"), ("t2", #"x\y"#)]),
                MetricSample(timestamp: H.now, name: "my meas,x", value: 2, labels: [("ta,g k", "v=a l"), ("t2", #"x\y"#)]),
            ]),
        Good(
            input: H.bytes("  disk,path=/var\tused=5 -3600  \r"), precision: .h,
            expected: [MetricSample(timestamp: -3600 * 3_600_000_000_000, name: "disk_used", value: 5, labels: [("path", "/var")])]),
        Good(input: H.bytes("up value=1 1"), precision: .m, expected: [MetricSample(timestamp: 60_000_000_000, name: "up", value: 1)]),
        Good(
            input: H.bytes("küche,raum=küche temp=21"),
            expected: [MetricSample(timestamp: H.now, name: "küche_temp", value: 21, labels: [("raum", "küche")])]),
    ]

    @Test(arguments: good)
    func decodes(_ c: Good) {
        let (sink, n) = H.influx(c.input, precision: c.precision)
        #expect(sink.rejects.isEmpty, "\(H.describe(sink))")
        #expect(n == c.expected.count, "returned \(n)")
        #expect(sink.records == c.expected.map { .metric($0) }, "\n got  \(sink.records)\n want \(c.expected)")
        #expect(sink.sources == Array(repeating: c.source, count: c.expected.count), "sources \(sink.sources)")
    }

    @Test(arguments: ["", "   ", "# a comment", "#cpu value=1", "  # indented comment", "m s=\"only strings\"", "m s=\"a\",t=\"b\" 1"])
    func skipsWithoutReject(_ line: String) {
        let (sink, n) = H.influx(H.bytes(line))
        #expect(n == 0 && sink.records.isEmpty && sink.rejects.isEmpty, "\(line.debugDescription): \(H.describe(sink))")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let input: [UInt8]
        var precision: InfluxPrecision = .ns
        let reason: String
        var testDescription: String { String(decoding: input, as: UTF8.self).debugDescription }
        init(_ input: String, _ reason: String, precision: InfluxPrecision = .ns) {
            self.input = Array(input.utf8)
            self.reason = reason
            self.precision = precision
        }
        init(bytes: [UInt8], _ reason: String) {
            self.input = bytes
            self.reason = reason
        }
    }

    static let bad: [Bad] = [
        Bad("cpu", "missing fields"),
        Bad("cpu,host=a", "missing fields"),
        Bad(",host=a x=1", "missing measurement"),
        Bad(" x=1", "missing fields"),
        Bad("cpu\\", "missing fields"),
        Bad("cpu,a=1\\ x=1", "unescaped '=' in tag value"),
        Bad("cpu,host= x=1", "empty tag value"),
        Bad("cpu,=a x=1", "empty tag key"),
        Bad("cpu,host x=1", "tag without '='"),
        Bad("cpu,a=b=c x=1", "unescaped '=' in tag value"),
        Bad("cpu x", "field without '='"),
        Bad("cpu =1", "empty field key"),
        Bad("cpu x=", "missing field value"),
        Bad("cpu x=,y=1", "missing field value"),
        Bad("cpu x=\t1", "missing field value"),
        Bad("cpu x=1,", "empty field key"),
        Bad("cpu x=abc", "invalid float field"),
        Bad("cpu x=1.5.5", "invalid float field"),
        Bad("cpu x=nan", "invalid float field"),
        Bad("cpu x=inf", "invalid float field"),
        Bad("cpu x=1e999", "invalid float field"),
        Bad("cpu x=0x10", "invalid float field"),
        Bad("cpu x=1.5i", "invalid integer field"),
        Bad("cpu x=i", "invalid integer field"),
        Bad("cpu x=9223372036854775808i", "invalid integer field"),
        Bad("cpu x=-1u", "invalid unsigned field"),
        Bad("cpu x=tru", "invalid boolean field"),
        Bad("cpu x=falsey", "invalid boolean field"),
        Bad("cpu x=\"unterminated", "unterminated string field"),
        Bad("cpu x=\"a\"b", "invalid field value"),
        Bad("cpu x=1 abc", "invalid timestamp"),
        Bad("cpu x=1 1 2", "invalid timestamp"),
        Bad("cpu x=1 1.5", "invalid timestamp"),
        Bad("cpu x=1 99999999999999999999", "invalid timestamp"),
        Bad("cpu x=1 9223372036854775807", "timestamp out of range", precision: .h),
        Bad("cpu x=1 -9223372036854775807", "timestamp out of range", precision: .us),
        Bad("cpu x=1,x=2", "duplicate field key"),
        Bad("cpu x=1,x=\"s\"", "duplicate field key"),
        Bad("cpu,a=1,a=2 x=1", "duplicate tag key"),
        Bad("cpu,a\\=b=1,a\\=b=2 x=1", "duplicate tag key"),
        Bad(bytes: Array("cpu,host=caf".utf8) + [0xE9] + Array(" x=1".utf8), "invalid UTF-8"),
        Bad(bytes: Array("cpu x=1".utf8) + [0xC0, 0x80], "invalid UTF-8"),
        Bad("cpu\u{1}x value=1", "control character"),
        Bad("cpu x=1\n2", "control character"),
    ]

    @Test(arguments: bad)
    func rejects(_ c: Bad) {
        let (sink, n) = H.influx(c.input, precision: c.precision)
        #expect(n == 0 && sink.records.isEmpty, "emitted \(sink.records)")
        #expect(sink.rejects.map(\.reason) == [c.reason], "\(H.describe(sink)), want \(c.reason)")
    }

    @Test(arguments: [
        ("n", InfluxPrecision.ns), ("ns", .ns), ("u", .us), ("us", .us), ("µ", .us), ("ms", .ms), ("s", .s), ("m", .m), ("h", .h),
    ])
    func precisionFromQuery(_ text: String, _ expected: InfluxPrecision) {
        #expect(InfluxPrecision(query: text) == expected)
        #expect(ByteView.with(text) { InfluxPrecision(query: $0) } == expected)
    }

    @Test(arguments: ["", "x", "sec", "NS", "mss"])
    func unknownPrecision(_ text: String) {
        #expect(InfluxPrecision(query: text) == nil)
        #expect(ByteView.with(text) { InfluxPrecision(query: $0) } == nil)
    }

    @Test func decoderIsReusable() {
        var decoder = InfluxLineDecoder()
        var sink = CollectingSink()
        var total = 0
        for line in ["a\\ b,t=1 x=1,y=2", "bad", "c,host=h value=3 5", "# skip"] {
            total += ByteView.with(line) { decoder.decode($0, precision: .s, receivedAt: H.now, into: &sink) }
        }
        #expect(total == 3)
        #expect(sink.records == [
            .metric(MetricSample(timestamp: H.now, name: "a b_x", value: 1, labels: [("t", "1")])),
            .metric(MetricSample(timestamp: H.now, name: "a b_y", value: 2, labels: [("t", "1")])),
            .metric(MetricSample(timestamp: 5_000_000_000, name: "c", value: 3, labels: [("host", "h")])),
        ], "\(sink.records)")
        #expect(sink.sources == ["", "", "h"])
        #expect(sink.rejects.map(\.reason) == ["missing fields"])
    }
}
