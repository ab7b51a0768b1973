import Ingest
import Platform
import WAL
import Wire
import Testing

@Suite struct JSONLinesDecoderTests {
    typealias H = DecoderHarness

    struct Good: Sendable, CustomTestStringConvertible {
        let name: String
        let input: [UInt8]
        let expected: Record
        var source: String = ""
        var testDescription: String { name }
    }

    static let t0 = H.utc(2023, 11, 14, 22, 13, 20)  // 1_700_000_000 s

    static func log(
        _ message: String, ts: Int64 = H.now, severity: UInt8 = LogRecord.unknownLevel, host: String = "", app: String = "",
        _ fields: [(String, String)] = []
    ) -> Record {
        .log(LogRecord(timestamp: ts, severity: severity, host: host, app: app, message: message, fields: fields))
    }

    static let good: [Good] = [
        Good(
            name: "application log with every role and nested context",
            input: H.bytes(#"{"timestamp":"2026-11-21T10:00:00.5Z","level":"warn","host":"web1","app":"orders","message":"retrying upstream","request_id":"3f2a","latency_ms":12.5,"ok":true,"user":null,"ctx":{ "a" : [1, 2, {"b" : "c d"}], "e": {} }}"#),
            expected: log(
                "retrying upstream", ts: H.utc(2026, 11, 21, 10, ns: 500_000_000), severity: 4, host: "web1", app: "orders",
                [("request_id", "3f2a"), ("latency_ms", "12.5"), ("ok", "true"), ("user", "null"), ("ctx", #"{"a":[1,2,{"b":"c d"}],"e":{}}"#)])),
        Good(name: "msg alias, no time", input: H.bytes(#"{"msg":"hi"}"#), expected: log("hi")),
        Good(
            name: "aliases time/service/severity, uppercase level",
            input: H.bytes(#"{"time":"2026-11-21T11:00:00+01:00","service":"api","severity":"ERROR","msg":"boom"}"#),
            expected: log("boom", ts: H.utc(2026, 11, 21, 10), severity: 3, app: "api")),
        Good(name: "level Information", input: H.bytes(#"{"message":"x","level":"Information"}"#), expected: log("x", severity: 6)),
        Good(name: "level trace", input: H.bytes(#"{"message":"x","level":"trace"}"#), expected: log("x", severity: 7)),
        Good(name: "level panic", input: H.bytes(#"{"message":"x","level":"PANIC"}"#), expected: log("x", severity: 0)),
        Good(name: "level number", input: H.bytes(#"{"message":"x","level":3}"#), expected: log("x", severity: 3)),
        Good(name: "ts seconds", input: H.bytes(#"{"message":"x","ts":1700000000}"#), expected: log("x", ts: t0)),
        Good(name: "ts fractional seconds", input: H.bytes(#"{"message":"x","ts":1700000000.123456789}"#), expected: log("x", ts: t0 + 123_456_789)),
        Good(name: "ts milliseconds", input: H.bytes(#"{"message":"x","ts":1700000000123}"#), expected: log("x", ts: t0 + 123_000_000)),
        Good(name: "ts fractional milliseconds", input: H.bytes(#"{"message":"x","ts":1700000000123.5}"#), expected: log("x", ts: t0 + 123_500_000)),
        Good(name: "ts microseconds", input: H.bytes(#"{"message":"x","ts":1700000000123456}"#), expected: log("x", ts: t0 + 123_456_000)),
        Good(name: "ts nanoseconds", input: H.bytes(#"{"message":"x","ts":1700000000123456789}"#), expected: log("x", ts: t0 + 123_456_789)),
        Good(name: "ts exponent", input: H.bytes(#"{"message":"x","ts":1.7e9}"#), expected: log("x", ts: t0)),
        Good(
            name: "escapes and unicode",
            input: H.bytes(#"{"message":"line1\nline2 \"q\" \\ \/ \t \u00e9 \u65E5 \ud83d\ude00 raw é","k\u00e9y":"v\u0000"}"#),
            expected: log("line1\nline2 \"q\" \\ / \t é 日 😀 raw é", [("kéy", "v\u{0}")])),
        Good(name: "escaped role key", input: H.bytes(#"{"mes\u0073age":"x","h\u006fst":"h"}"#), expected: log("x", host: "h")),
        Good(
            name: "message wins over msg, duplicates become fields",
            input: H.bytes(#"{"msg":"second","message":"first","message":"third"}"#),
            expected: log("first", [("msg", "second"), ("message", "third")])),
        Good(
            name: "whitespace everywhere",
            input: H.bytes(" \t{ \"message\" : \"hi\" , \"n\" : -0.5e-3 , \"a\" : [ ] }\r "),
            expected: log("hi", [("n", "-0.5e-3"), ("a", "[]")])),
        Good(
            name: "nested strings keep their escapes and spaces",
            input: H.bytes(#"{"message":"m","o":{"s":"a \"b\" c", "t" :"\u0041"}}"#),
            expected: log("m", [("o", #"{"s":"a \"b\" c","t":"\u0041"}"#)])),
        Good(
            name: "metric with labels and host",
            input: H.bytes(#"{"metric":"cpu.usage","value":0.5,"labels":{"core":"0","n":3,"on":true,"esc":"a\"b"},"host":"web1","timestamp":1700000000}"#),
            expected: .metric(MetricSample(timestamp: t0, name: "cpu.usage", value: 0.5, labels: [("core", "0"), ("n", "3"), ("on", "true"), ("esc", "a\"b")])),
            source: "web1"),
        Good(
            name: "metric name alias, exponent value, extra keys ignored",
            input: H.bytes(#"{"name":"queue.depth","value":-1e3,"unit":"items","labels":{ }}"#),
            expected: .metric(MetricSample(timestamp: H.now, name: "queue.depth", value: -1000))),
        Good(
            name: "metric RFC 3339 time and big integer value",
            input: H.bytes(#"{"metric":"bytes","value":18446744073709551616,"time":"2026-11-21T10:00:00Z"}"#),
            expected: .metric(MetricSample(timestamp: H.utc(2026, 11, 21, 10), name: "bytes", value: 18446744073709551616))),
        Good(
            name: "metric value with many digits",
            input: H.bytes(#"{"metric":"pi","value":3.14159265358979323846264338327950288}"#),
            expected: .metric(MetricSample(timestamp: H.now, name: "pi", value: 3.14159265358979323846264338327950288))),
    ]

    @Test(arguments: good)
    func decodes(_ c: Good) {
        let sink = H.json(c.input)
        #expect(sink.rejects.isEmpty, "\(c.name): \(H.describe(sink))")
        #expect(sink.records == [c.expected], "\(c.name):\n got  \(sink.records)\n want \(c.expected)")
        if case .metric = c.expected { #expect(sink.sources == [c.source], "source \(sink.sources)") }
    }

    @Test func nestingAtTheLimitIsAcceptedAndOneDeeperRejected() {
        let depth = JSONLinesDecoder.maxDepth
        // The line's object is level 1; `depth - 1` arrays inside reach the limit.
        let ok = "{\"message\":\"m\",\"deep\":" + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1) + "}"
        let sinkOK = H.json(H.bytes(ok))
        #expect(sinkOK.records.count == 1 && sinkOK.rejects.isEmpty, "\(H.describe(sinkOK))")
        let tooDeep = "{\"message\":\"m\",\"deep\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        let sinkBad = H.json(H.bytes(tooDeep))
        #expect(sinkBad.records.isEmpty && sinkBad.rejects.map(\.reason) == ["JSON nested too deeply"], "\(H.describe(sinkBad))")
        let hostile = "{\"message\":\"m\",\"deep\":" + String(repeating: "[", count: 100_000)
        let sinkHostile = H.json(H.bytes(hostile))
        #expect(sinkHostile.rejects.map(\.reason) == ["JSON nested too deeply"], "\(H.describe(sinkHostile))")
    }

    @Test func blankLineIsIgnored() {
        let sink = H.json(H.bytes(" \t\r"))
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
        // Syntax.
        Bad("[1,2]", "top level is not a JSON object"),
        Bad(#""message""#, "top level is not a JSON object"),
        Bad("null", "top level is not a JSON object"),
        Bad(#"{"message":"hi"} x"#, "trailing characters after the object"),
        Bad(#"{"message":"hi"}{"message":"again"}"#, "trailing characters after the object"),
        Bad(#"{"message":"hi",}"#, "expected a string key"),
        Bad(#"{"message":'hi'}"#, "invalid JSON value"),
        Bad(#"{message:"hi"}"#, "expected a string key"),
        Bad(#"{"message" "hi"}"#, "expected ':' after key"),
        Bad(#"{"message":"hi""#, "unterminated object"),
        Bad(#"{"message":"hi"#, "unterminated string"),
        Bad(#"{"message":"hi" "x":1}"#, "expected ',' or '}'"),
        Bad("{\"message\":\"a\u{1}b\"}", "control character in JSON string"),
        Bad("{\"message\":\"a\tb\"}", "control character in JSON string"),
        Bad(#"{"message":"a\qb"}"#, "invalid escape in JSON string"),
        Bad(#"{"message":"a\u12G4"}"#, "invalid \\u escape"),
        Bad(#"{"message":"a\u12"}"#, "invalid \\u escape"),
        Bad(#"{"message":"\ud800"}"#, "unpaired surrogate in \\u escape"),
        Bad(#"{"message":"\ud800\u0041"}"#, "unpaired surrogate in \\u escape"),
        Bad(#"{"message":"\udc00"}"#, "unpaired surrogate in \\u escape"),
        Bad(#"{"message":"m","o":{"s":"\ud800"}}"#, "unpaired surrogate in \\u escape"),
        Bad(#"{"message":"m","n":01}"#, "expected ',' or '}'"),
        Bad(#"{"message":"m","n":1.}"#, "invalid number"),
        Bad(#"{"message":"m","n":.5}"#, "invalid JSON value"),
        Bad(#"{"message":"m","n":-}"#, "invalid number"),
        Bad(#"{"message":"m","n":1e}"#, "invalid number"),
        Bad(#"{"message":"m","n":+1}"#, "invalid JSON value"),
        Bad(#"{"message":"m","n":NaN}"#, "invalid JSON value"),
        Bad(#"{"message":"m","n":Infinity}"#, "invalid JSON value"),
        Bad(#"{"message":"m","n":tru}"#, "invalid JSON value"),
        Bad(#"{"message":"m","n":nulll}"#, "expected ',' or '}'"),
        Bad(#"{"message":"m","a":[1,]}"#, "invalid JSON value"),
        Bad(#"{"message":"m","a":[1 2]}"#, "expected ',' or ']'"),
        Bad(#"{"message":"m","a":{"k"}}"#, "expected ':' after key"),
        Bad(bytes: Array(#"{"message":"caf"#.utf8) + [0xE9] + Array(#""}"#.utf8), "invalid UTF-8"),
        Bad(bytes: Array(#"{"message":"m"}"#.utf8) + [0xFF], "invalid UTF-8"),
        // Meaning.
        Bad("{}", "neither message nor metric in JSON object"),
        Bad(#"{"foo":1}"#, "neither message nor metric in JSON object"),
        Bad(#"{"message":5}"#, "message is not a string"),
        Bad(#"{"msg":null}"#, "message is not a string"),
        Bad(#"{"message":"x","host":1}"#, "host is not a string"),
        Bad(#"{"message":"x","app":["a"]}"#, "app is not a string"),
        Bad(#"{"message":"x","level":"verbose"}"#, "unknown level name"),
        Bad(#"{"message":"x","level":9}"#, "level number is not an integer 0...7"),
        Bad(#"{"message":"x","level":-1}"#, "level number is not an integer 0...7"),
        Bad(#"{"message":"x","level":2.5}"#, "level number is not an integer 0...7"),
        Bad(#"{"message":"x","level":true}"#, "level is not a string or number"),
        Bad(#"{"message":"x","timestamp":"yesterday"}"#, "invalid timestamp"),
        Bad(#"{"message":"x","timestamp":true}"#, "timestamp is not a string or number"),
        Bad(#"{"message":"x","ts":-5}"#, "timestamp number out of range"),
        Bad(#"{"message":"x","ts":1e300}"#, "timestamp number out of range"),
        Bad(#"{"message":"x","ts":99999999999999999999}"#, "timestamp number out of range"),
        Bad(#"{"metric":"x"}"#, "metric without value"),
        Bad(#"{"metric":"x","value":"1"}"#, "metric value is not a number"),
        Bad(#"{"metric":"x","value":null}"#, "metric value is not a number"),
        Bad(#"{"metric":"x","value":1e400}"#, "metric value out of range"),
        Bad(#"{"metric":7,"value":1}"#, "metric name is not a string"),
        Bad(#"{"metric":"","value":1}"#, "empty metric name"),
        Bad(#"{"metric":"x","value":1,"labels":{"a":null}}"#, "label value is not a string, number or bool"),
        Bad(#"{"metric":"x","value":1,"labels":{"a":{"b":1}}}"#, "label value is not a string, number or bool"),
        Bad(#"{"metric":"x","value":1,"labels":["a"]}"#, "labels is not an object"),
        Bad(#"{"metric":"x","value":1,"host":false}"#, "host is not a string"),
    ]

    @Test(arguments: bad)
    func rejects(_ c: Bad) {
        let sink = H.json(c.input)
        #expect(sink.records.isEmpty, "emitted \(sink.records)")
        #expect(sink.rejects.map(\.reason) == [c.reason], "\(H.describe(sink)), want \(c.reason)")
    }

    @Test func decoderIsReusableAndStateDoesNotLeak() {
        var decoder = JSONLinesDecoder()
        var sink = CollectingSink()
        let lines = [
            #"{"metric":"a","value":1,"labels":{"k":"v\"1"},"host":"h"}"#,
            #"{"message":"broken""#,
            #"{"message":"l\u0041","labels":{"x":1}}"#,
            #"{"metric":"b","value":2}"#,
        ]
        for line in lines {
            ByteView.with(line) { decoder.decode($0, receivedAt: H.now, into: &sink) }
        }
        let expected: [Record] = [
            .metric(MetricSample(timestamp: H.now, name: "a", value: 1, labels: [("k", "v\"1")])),
            .log(LogRecord(timestamp: H.now, host: "", app: "", message: "lA", fields: [("labels", #"{"x":1}"#)])),
            .metric(MetricSample(timestamp: H.now, name: "b", value: 2)),
        ]
        #expect(sink.records == expected, "\(sink.records)")
        #expect(sink.sources == ["h", ""], "\(sink.sources)")
        #expect(sink.rejects.map(\.reason) == ["unterminated object"], "\(sink.rejects)")
    }
}
