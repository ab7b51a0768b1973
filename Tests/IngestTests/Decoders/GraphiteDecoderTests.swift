import Ingest
import Platform
import WAL
import Testing

@Suite struct GraphiteDecoderTests {
    typealias H = DecoderHarness

    static let t0: Int64 = 1_700_000_000_000_000_000

    struct Good: Sendable, CustomTestStringConvertible {
        let input: [UInt8]
        let expected: MetricSample
        var source: String = ""
        var testDescription: String { String(decoding: input, as: UTF8.self).debugDescription }
    }

    static let good: [Good] = [
        Good(input: H.bytes("collectd.web1.load.load.shortterm 0.05 1700000000"),
             expected: MetricSample(timestamp: t0, name: "collectd.web1.load.load.shortterm", value: 0.05)),
        Good(input: H.bytes("disk.used;host=web1;mount=/var 42.5 1700000000.5"),
             expected: MetricSample(timestamp: t0 + 500_000_000, name: "disk.used", value: 42.5, labels: [("host", "web1"), ("mount", "/var")]),
             source: "web1"),
        Good(input: H.bytes("a.b\t-1e3\t\t1700000000\r"), expected: MetricSample(timestamp: t0, name: "a.b", value: -1000)),
        Good(input: H.bytes("  servers.db-1.cpu 7  "), expected: MetricSample(timestamp: H.now, name: "servers.db-1.cpu", value: 7)),
        Good(input: H.bytes("x.y 1 -1"), expected: MetricSample(timestamp: H.now, name: "x.y", value: 1)),
        Good(input: H.bytes("x.y 1 1.7e9"), expected: MetricSample(timestamp: t0, name: "x.y", value: 1)),
        Good(input: H.bytes("temp.küche;raum=küche 21.25 0"),
             expected: MetricSample(timestamp: 0, name: "temp.küche", value: 21.25, labels: [("raum", "küche")])),
        Good(input: H.bytes("weird!@#$%^&*()_+[]{}|:'\",.<>/?`~ 1"),
             expected: MetricSample(timestamp: H.now, name: "weird!@#$%^&*()_+[]{}|:'\",.<>/?`~", value: 1)),
        Good(input: H.bytes("t;k=v=w 1 1700000000"),
             expected: MetricSample(timestamp: t0, name: "t", value: 1, labels: [("k", "v=w")])),
    ]

    @Test(arguments: good)
    func decodes(_ c: Good) {
        let sink = H.graphite(c.input)
        #expect(sink.rejects.isEmpty, "\(H.describe(sink))")
        #expect(sink.records == [.metric(c.expected)], "\n got  \(sink.records)\n want \(c.expected)")
        #expect(sink.sources == [c.source], "sources \(sink.sources)")
    }

    @Test func blankLineIsIgnored() {
        let sink = H.graphite(H.bytes(" \t "))
        #expect(sink.records.isEmpty && sink.rejects.isEmpty, "\(H.describe(sink))")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let input: [UInt8]
        let reason: String
        var testDescription: String { String(decoding: input, as: UTF8.self).debugDescription }
        init(_ input: String, _ reason: String) {
            self.input = Array(input.utf8)
            self.reason = reason
        }
        init(bytes: [UInt8], _ reason: String) {
            self.input = bytes
            self.reason = reason
        }
    }

    static let bad: [Bad] = [
        Bad("a.b", "missing value"),
        Bad("a.b;host=x", "missing value"),
        Bad("a.b nan 1", "invalid value"),
        Bad("a.b NaN", "invalid value"),
        Bad("a.b inf", "invalid value"),
        Bad("a.b 1e999", "non-finite value"),
        Bad("a.b x 1", "invalid value"),
        Bad("a.b 1,5 1", "invalid value"),
        Bad("a.b 1 2 3", "too many fields"),
        Bad("a.b 1 abc", "invalid timestamp"),
        Bad("a.b 1 -5", "invalid timestamp"),
        Bad("a.b 1 1e300", "invalid timestamp"),
        Bad("a.b;host 1", "tag without '='"),
        Bad("a.b;=x 1", "empty tag name"),
        Bad("a.b;k= 1", "empty tag value"),
        Bad("a.b;;k=v 1", "empty tag name"),
        Bad("a.b; 1", "empty tag name"),
        Bad("a.b;k!=v 1", "invalid character in tag name"),
        Bad("a.b;k=v~ 1", "invalid character in tag value"),
        Bad(";k=v 1", "empty metric path"),
        Bad(bytes: Array("a.caf".utf8) + [0xE9] + Array(" 1".utf8), "invalid UTF-8"),
        Bad(bytes: Array("a.b".utf8) + [0x00] + Array(" 1".utf8), "control character"),
        Bad("a\u{1B}b 1", "control character"),
        Bad("a\u{7F}b 1", "control character"),
    ]

    @Test(arguments: bad)
    func rejects(_ c: Bad) {
        let sink = H.graphite(c.input)
        #expect(sink.records.isEmpty, "emitted \(sink.records)")
        #expect(sink.rejects.map(\.reason) == [c.reason], "\(H.describe(sink)), want \(c.reason)")
    }
}
