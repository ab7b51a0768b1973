import Foundation
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// util-linux `logger` against the real node: RFC 5424 and RFC 3164, over TCP with and without
/// octet counting, and over UDP. Every message is read back from the WAL, field by field.
@Suite struct SyslogEndToEndTests {
    @Test func loggerMessagesArriveWithTheirFields() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        let tcp = "\(node.port("syslog"))", udp = "\(node.port("syslog_udp"))"
        let cases: [(args: [String], tag: String, severity: UInt8, facility: UInt8)] = [
            (["--tcp", "--port", tcp, "--rfc5424", "--octet-count"], "app5424oc", 5, 1),
            (["--tcp", "--port", tcp, "--rfc5424"], "app5424nl", 3, 19),
            (["--tcp", "--port", tcp, "--rfc3164"], "app3164tcp", 6, 4),
            (["--udp", "--port", udp, "--rfc5424"], "app5424udp", 4, 16),
            (["--udp", "--port", udp, "--rfc3164"], "app3164udp", 7, 23),
        ]
        let priorities = [5: "notice", 3: "err", 6: "info", 4: "warning", 7: "debug"]
        let facilities = [1: "user", 19: "local3", 4: "auth", 16: "local0", 23: "local7"]
        for c in cases {
            let priority = "\(facilities[Int(c.facility)]!).\(priorities[Int(c.severity)]!)"
            let result = try runProcess("/usr/bin/logger", ["--server", "127.0.0.1"] + c.args + ["-t", c.tag, "-p", priority, "hello from \(c.tag) with ünïcode"])
            #expect(result.status == 0, "logger \(c.args): \(result.stderr)")
        }
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 5, seconds: 10),
                "all five messages became durable")
        let (status, log) = node.stop()
        #expect(status == 0, "\(log)")
        let logs = try node.records().compactMap { if case .log(let l) = $0 { l } else { nil } }
        for c in cases {
            let found = logs.first { $0.app == c.tag }
            #expect(found?.message == "hello from \(c.tag) with ünïcode", "\(c.tag): \(String(describing: found))")
            #expect(found?.severity == c.severity && found?.facility == c.facility, "\(c.tag) priority: \(String(describing: found))")
            #expect(found.map { !$0.host.isEmpty } == true, "\(c.tag) carries the sending host")
            let now = Int64(Date().timeIntervalSince1970 * 1e9)
            #expect(found.map { abs($0.timestamp - now) < 3_600_000_000_000 } == true, "\(c.tag) timestamp parsed: \(String(describing: found?.timestamp))")
        }
        let octet = logs.first { $0.app == "app5424oc" }
        #expect(octet?.fields.contains { $0.0 == "procid" } == true || octet?.fields.contains { $0.0.hasPrefix("timeQuality") } == true,
                "RFC 5424 structured data / procid kept as fields: \(String(describing: octet?.fields))")
    }

    @Test func malformedSyslogIsRejectedAndTheConnectionStaysUp() throws {
        let node = try HyphaNode(arguments: ["--max-line-kib", "1"])
        defer { node.remove() }
        let client = try LineClient(port: node.port("syslog"))
        client.send("<13>1 2026-11-21T10:00:00Z host app - - - first good\n")
        client.send("no priority at all\n")
        client.send("<999>1 2026-11-21T10:00:00Z host app - - - bad pri\n")
        client.send([UInt8]("<13>1 2026-11-21T10:00:00Z host app - - - bad utf8 ".utf8) + [0xC3, 0x28, 0x0A])
        client.send(String(repeating: "x", count: 3000) + "\n")
        let good = "<13>1 2026-11-21T10:00:00Z host app - - - second good"
        client.send("\(good.utf8.count) \(good)")
        client.send("<13>Nov 21 10:00:00 oldhost oldapp[42]: third good\n")
        // An octet count past the frame limit: the declared bytes are skipped (they are the
        // sender's frame), so it goes last.
        client.send("5000 <13>1 2026-11-21T10:00:00Z host app - - - octet count too big\n")
        client.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 3))
        #expect(waitForMetric(node, #"hypha_listener_rejects_total{listener="syslog_tcp"}"#, atLeast: 5), "malformed frames were counted")
        node.stop()
        let messages = try node.records().compactMap { if case .log(let l) = $0 { l.message } else { nil } }
        #expect(messages.sorted() == ["first good", "second good", "third good"], "only the good messages are stored: \(messages)")
    }
}
