import Ingest
import Platform
import WAL
import Wire
import Testing
import Workload

@Suite struct SyslogDecoderTests {
    typealias H = DecoderHarness

    struct Good: Sendable, CustomTestStringConvertible {
        let name: String
        let input: [UInt8]
        var receivedAt: Int64 = H.now
        let expected: LogRecord
        var testDescription: String { name }
    }

    static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    static let good: [Good] = [
        Good(
            name: "logger --rfc5424 with timeQuality",
            input: H.bytes("<13>1 2026-11-21T10:00:00.123456+01:00 myhost myapp 1234 - [timeQuality tzKnown=\"1\" isSynced=\"1\"] hello"),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 21, 9, ns: 123_456_000), severity: 5, facility: 1, host: "myhost", app: "myapp",
                message: "hello", fields: [("procid", "1234"), ("timeQuality.tzKnown", "1"), ("timeQuality.isSynced", "1")])),
        Good(
            name: "logger --rfc5424 syncAccuracy, no procid",
            input: H.bytes("<13>1 2026-11-21T10:00:00.123456+01:00 web-1.eu-west deploy - - [timeQuality tzKnown=\"1\" isSynced=\"1\" syncAccuracy=\"227000\"] hello world"),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 21, 9, ns: 123_456_000), severity: 5, facility: 1, host: "web-1.eu-west", app: "deploy",
                message: "hello world",
                fields: [("timeQuality.tzKnown", "1"), ("timeQuality.isSynced", "1"), ("timeQuality.syncAccuracy", "227000")])),
        Good(
            name: "RFC 5424 example 1 with BOM",
            input: H.bytes("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ") + bom + H.bytes("'su root' failed for lonvick on /dev/pts/8"),
            expected: LogRecord(
                timestamp: H.utc(2003, 10, 11, 22, 14, 15, ns: 3_000_000), severity: 2, facility: 4, host: "mymachine.example.com",
                app: "su", message: "'su root' failed for lonvick on /dev/pts/8", fields: [("msgid", "ID47")])),
        Good(
            name: "RFC 5424 example with two SD elements",
            input: H.bytes("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"] An application event log entry..."),
            expected: LogRecord(
                timestamp: H.utc(2003, 10, 11, 22, 14, 15, ns: 3_000_000), severity: 5, facility: 20, host: "mymachine.example.com",
                app: "evntslog", message: "An application event log entry...",
                fields: [
                    ("msgid", "ID47"), ("exampleSDID@32473.iut", "3"), ("exampleSDID@32473.eventSource", "Application"),
                    ("exampleSDID@32473.eventID", "1011"), ("examplePriority@32473.class", "high"),
                ])),
        Good(
            name: "RFC 5424 SD only, no MSG",
            input: H.bytes("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\"]"),
            expected: LogRecord(
                timestamp: H.utc(2003, 10, 11, 22, 14, 15, ns: 3_000_000), severity: 5, facility: 20, host: "mymachine.example.com",
                app: "evntslog", message: "", fields: [("msgid", "ID47"), ("exampleSDID@32473.iut", "3")])),
        Good(
            name: "SD value escapes",
            input: H.bytes(#"<14>1 2026-11-21T10:00:00Z h a - - [x@1 a="q\"uote" b="back\\slash" c="br\]acket" d="keep\n" e="é ] ok"] msg"#),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 21, 10), severity: 6, facility: 1, host: "h", app: "a", message: "msg",
                fields: [("x@1.a", "q\"uote"), ("x@1.b", "back\\slash"), ("x@1.c", "br]acket"), ("x@1.d", "keep\\n"), ("x@1.e", "é ] ok")])),
        Good(
            name: "all NILVALUEs",
            input: H.bytes("<14>1 - - - - - -"),
            expected: LogRecord(timestamp: H.now, severity: 6, facility: 1, host: "", app: "", message: "")),
        Good(
            name: "trailing CR LF NUL trimmed, multi-line message kept",
            input: H.bytes("<14>1 - h a - - - line one\nline two\r\n") + [0],
            expected: LogRecord(timestamp: H.now, severity: 6, facility: 1, host: "h", app: "a", message: "line one\nline two")),
        Good(
            name: "UTF-8 message and tab",
            input: H.bytes("<0>1 2026-11-21T10:00:00Z h a - - - Grüße\t日本語 😀"),
            expected: LogRecord(timestamp: H.utc(2026, 11, 21, 10), severity: 0, facility: 0, host: "h", app: "a", message: "Grüße\t日本語 😀")),
        Good(
            name: "Corpus-style nginx line (Workload)",
            input: H.bytes("<14>1 2026-11-21T10:00:00.123456Z web-1.eu-west nginx 4242 - - 10.1.2.3 - - \"GET / HTTP/1.1\" 200 512 \"-\" \"curl/7.88.1\" rt=0.012"),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 21, 10, ns: 123_456_000), severity: 6, facility: 1, host: "web-1.eu-west", app: "nginx",
                message: "10.1.2.3 - - \"GET / HTTP/1.1\" 200 512 \"-\" \"curl/7.88.1\" rt=0.012", fields: [("procid", "4242")])),
        // RFC 3164
        Good(
            name: "logger --rfc3164",
            input: H.bytes("<13>Nov 21 10:00:00 myhost myuser: hello world"),
            expected: LogRecord(timestamp: H.utc(2026, 11, 21, 10), severity: 5, facility: 1, host: "myhost", app: "myuser", message: "hello world")),
        Good(
            name: "3164 sshd with pid and single-digit day",
            input: H.bytes("<38>Nov  1 09:05:03 web1 sshd[1234]: Accepted publickey for deploy from 10.0.0.1 port 50000 ssh2"),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 1, 9, 5, 3), severity: 6, facility: 4, host: "web1", app: "sshd",
                message: "Accepted publickey for deploy from 10.0.0.1 port 50000 ssh2", fields: [("procid", "1234")])),
        Good(
            name: "3164 without hostname",
            input: H.bytes("<13>Nov 21 10:00:00 myapp[99]: started"),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 21, 10), severity: 5, facility: 1, host: "", app: "myapp", message: "started",
                fields: [("procid", "99")])),
        Good(
            name: "3164 without hostname, colon tag",
            input: H.bytes("<13>Nov 21 10:00:00 CRON: job done"),
            expected: LogRecord(timestamp: H.utc(2026, 11, 21, 10), severity: 5, facility: 1, host: "", app: "CRON", message: "job done")),
        Good(
            name: "rsyslog forward format (RFC 3339 timestamp)",
            input: H.bytes("<86>2026-11-21T10:00:00.123456+00:00 web1 systemd[1]: Started session-42.scope - Session 42 of User deploy."),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 21, 10, ns: 123_456_000), severity: 6, facility: 10, host: "web1", app: "systemd",
                message: "Started session-42.scope - Session 42 of User deploy.", fields: [("procid", "1")])),
        Good(
            name: "3164 tag followed by space, no colon",
            input: H.bytes("<13>Nov 21 10:00:00 host this is a message"),
            expected: LogRecord(timestamp: H.utc(2026, 11, 21, 10), severity: 5, facility: 1, host: "host", app: "this", message: "is a message")),
        Good(
            name: "3164 pid followed by space",
            input: H.bytes("<13>Nov 21 10:00:00 host app[7] msg"),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 21, 10), severity: 5, facility: 1, host: "host", app: "app", message: "msg",
                fields: [("procid", "7")])),
        Good(
            name: "3164 no timestamp: content only",
            input: H.bytes("<13>su: 'su root' failed"),
            expected: LogRecord(timestamp: H.now, severity: 5, facility: 1, host: "", app: "su", message: "'su root' failed")),
        Good(
            name: "3164 tag longer than 48: no app",
            input: H.bytes("<13>Nov 21 10:00:00 host " + String(repeating: "t", count: 49) + ": m"),
            expected: LogRecord(
                timestamp: H.utc(2026, 11, 21, 10), severity: 5, facility: 1, host: "host", app: "",
                message: String(repeating: "t", count: 49) + ": m")),
        Good(
            name: "3164 colon inside a word is not a tag end",
            input: H.bytes("<13>Nov 21 10:00:00 host 10.0.0.1:443 refused"),
            expected: LogRecord(timestamp: H.utc(2026, 11, 21, 10), severity: 5, facility: 1, host: "host", app: "", message: "10.0.0.1:443 refused")),
        Good(
            name: "3164 December message received in January",
            input: H.bytes("<13>Dec 31 23:59:59 host app: late"),
            receivedAt: H.utc(2027, 1, 1, 0, 0, 5),
            expected: LogRecord(timestamp: H.utc(2026, 12, 31, 23, 59, 59), severity: 5, facility: 1, host: "host", app: "app", message: "late")),
        Good(
            name: "3164 with milliseconds",
            input: H.bytes("<13>Nov 21 10:00:00.250 host app: m"),
            expected: LogRecord(timestamp: H.utc(2026, 11, 21, 10, ns: 250_000_000), severity: 5, facility: 1, host: "host", app: "app", message: "m")),
        Good(
            name: "3164 only timestamp",
            input: H.bytes("<191>Nov 21 10:00:00"),
            expected: LogRecord(timestamp: H.utc(2026, 11, 21, 10), severity: 7, facility: 23, host: "", app: "", message: "")),
    ]

    @Test(arguments: good)
    func decodes(_ c: Good) {
        let sink = H.syslog(c.input, receivedAt: c.receivedAt)
        #expect(sink.rejects.isEmpty, "\(c.name): unexpected reject \(H.describe(sink))")
        #expect(sink.records == [.log(c.expected)], "\(c.name):\n got  \(sink.records)\n want \(c.expected)")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        let name: String
        let input: [UInt8]
        let reason: String
        var testDescription: String { name }
    }

    static let bad: [Bad] = [
        Bad(name: "no PRI", input: H.bytes("hello"), reason: "missing PRI"),
        Bad(name: "empty", input: [], reason: "missing PRI"),
        Bad(name: "only newline", input: [0x0A], reason: "missing PRI"),
        Bad(name: "PRI 192", input: H.bytes("<192>1 - - - - - -"), reason: "invalid PRI"),
        Bad(name: "PRI not digits", input: H.bytes("<1a>1 - - - - - -"), reason: "invalid PRI"),
        Bad(name: "PRI empty", input: H.bytes("<>1 - - - - - -"), reason: "invalid PRI"),
        Bad(name: "PRI unterminated", input: H.bytes("<1345"), reason: "invalid PRI"),
        Bad(name: "only PRI", input: H.bytes("<13>"), reason: "empty message"),
        Bad(name: "bad 5424 timestamp", input: H.bytes("<13>1 2026-13-21T10:00:00Z h a - - - m"), reason: "invalid timestamp"),
        Bad(name: "5424 timestamp without zone", input: H.bytes("<13>1 2026-11-21T10:00:00 h a - - - m"), reason: "invalid timestamp"),
        Bad(name: "5424 fraction of 10 digits", input: H.bytes("<13>1 2026-11-21T10:00:00.1234567890Z h a - - - m"), reason: "invalid timestamp"),
        Bad(name: "truncated header", input: H.bytes("<13>1 2026-11-21T10:00:00Z host"), reason: "truncated header"),
        Bad(name: "missing SD", input: H.bytes("<13>1 - h a p m"), reason: "truncated header"),
        Bad(name: "double space in header", input: H.bytes("<13>1 -  h a p m -"), reason: "invalid hostname"),
        Bad(name: "non-ASCII hostname", input: H.bytes("<13>1 - hö a - - - m"), reason: "invalid hostname"),
        Bad(name: "app-name of 49", input: H.bytes("<13>1 - h " + String(repeating: "a", count: 49) + " - - - m"), reason: "invalid app-name"),
        Bad(name: "msgid of 33", input: H.bytes("<13>1 - h a - " + String(repeating: "m", count: 33) + " - m"), reason: "invalid msgid"),
        Bad(name: "SD unterminated value", input: H.bytes("<13>1 - h a - - [x a=\"b] m"), reason: "unterminated SD-PARAM value"),
        Bad(name: "SD unquoted value", input: H.bytes("<13>1 - h a - - [x a=b] m"), reason: "invalid SD-PARAM"),
        Bad(name: "SD missing ]", input: H.bytes("<13>1 - h a - - [x a=\"b\""), reason: "invalid structured data"),
        Bad(name: "SD empty id", input: H.bytes("<13>1 - h a - - [ a=\"b\"] m"), reason: "invalid SD-ID"),
        Bad(name: "SD garbage", input: H.bytes("<13>1 - h a - - {x} m"), reason: "invalid structured data"),
        Bad(name: "text glued to SD", input: H.bytes("<13>1 - h a - - -m"), reason: "invalid structured data"),
        Bad(name: "invalid UTF-8 in MSG", input: H.bytes("<13>1 - h a - - - caf") + [0xC3, 0x28], reason: "invalid UTF-8"),
        Bad(name: "Latin-1 in 3164", input: H.bytes("<13>Nov 21 10:00:00 h a: caf") + [0xE9], reason: "invalid UTF-8"),
        Bad(name: "overlong UTF-8", input: H.bytes("<13>1 - h a - - - ") + [0xC0, 0xAF], reason: "invalid UTF-8"),
        Bad(name: "UTF-8 surrogate", input: H.bytes("<13>1 - h a - - - ") + [0xED, 0xA0, 0x80], reason: "invalid UTF-8"),
        Bad(name: "invalid UTF-8 in SD value", input: H.bytes("<13>1 - h a - - [x a=\"") + [0xFF] + H.bytes("\"] m"), reason: "invalid UTF-8"),
        Bad(name: "NUL inside", input: H.bytes("<13>1 - h a - - - a") + [0] + H.bytes("b"), reason: "control character"),
        Bad(name: "escape character", input: H.bytes("<13>Nov 21 10:00:00 h a: \u{1B}[31mred"), reason: "control character"),
        Bad(name: "DEL", input: H.bytes("<13>Nov 21 10:00:00 h a: x\u{7F}"), reason: "control character"),
        Bad(name: "3164 impossible date", input: H.bytes("<13>Feb 30 10:00:00 h a: m"), reason: "invalid timestamp"),
        Bad(name: "3164 hour 25", input: H.bytes("<13>Nov 21 25:00:00 host app: m"), reason: "invalid timestamp"),
        Bad(name: "3164 timestamp glued", input: H.bytes("<13>Nov 21 10:00:00host app: m"), reason: "invalid timestamp"),
        Bad(name: "3164 empty fraction", input: H.bytes("<13>Nov 21 10:00:00. host app: m"), reason: "invalid timestamp"),
        Bad(name: "3164 fraction of 10 digits", input: H.bytes("<13>Nov 21 10:00:00.1234567890 host app: m"), reason: "invalid timestamp"),
        Bad(name: "3164 with year", input: H.bytes("<13>Nov 21 2026 10:00:00 host app: m"), reason: "invalid timestamp"),
        Bad(name: "3164 bad RFC 3339", input: H.bytes("<13>2026-11-21T25:00:00Z host app: m"), reason: "invalid timestamp"),
    ]

    @Test(arguments: bad)
    func rejects(_ c: Bad) {
        let sink = H.syslog(c.input)
        #expect(sink.records.isEmpty, "\(c.name): emitted \(sink.records)")
        #expect(sink.rejects.map(\.reason) == [c.reason], "\(c.name): \(H.describe(sink)), want \(c.reason)")
        if let sample = sink.rejects.first?.sample {
            #expect(sample == String(decoding: c.input, as: UTF8.self), "the sample is the whole message")
        }
    }

    @Test func decoderIsReusableAcrossMessages() {
        var decoder = SyslogDecoder()
        var sink = CollectingSink()
        let lines = [
            "<13>1 - h a - - [x k=\"v\\\"\"] first", "<13>1 - h a - - [bad", "<13>Nov 21 10:00:00 h b[1]: second",
            "<13>1 - h2 c - - - third",
        ]
        for line in lines {
            ByteView.with(line) { decoder.decode($0, receivedAt: H.now, into: &sink) }
        }
        let expected: [Record] = [
            .log(LogRecord(timestamp: H.now, severity: 5, facility: 1, host: "h", app: "a", message: "first", fields: [("x.k", "v\"")])),
            .log(LogRecord(timestamp: H.utc(2026, 11, 21, 10), severity: 5, facility: 1, host: "h", app: "b", message: "second", fields: [("procid", "1")])),
            .log(LogRecord(timestamp: H.now, severity: 5, facility: 1, host: "h2", app: "c", message: "third")),
        ]
        #expect(sink.records == expected, "\(sink.records)")
        #expect(sink.rejects.map(\.reason) == ["invalid structured data"], "\(sink.rejects)")
    }

    @Test func decodesTheWorkloadCorpus() {
        var corpus = SyslogCorpus(seed: 7)
        var decoder = SyslogDecoder()
        var sink = CollectingSink()
        for _ in 0 ..< 500 {
            let line = corpus.nextRFC5424Line()
            ByteView.with(line) { decoder.decode($0, receivedAt: H.now, into: &sink) }
        }
        #expect(sink.rejects.isEmpty, "\(sink.rejects.prefix(3))")
        #expect(sink.records.count == 500)
    }
}

