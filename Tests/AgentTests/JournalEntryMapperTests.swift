import Foundation
import Ingest
import Platform
import Testing
import WAL

@testable import Agent

/// The journald mapping, against journalctl's JSON output recorded on this kind of machine:
/// the build machine has no running journal, so Fixtures/journal holds lines recorded from a
/// journald started by hand in a private mount namespace (Fixtures/journal/README.md says how).
@Suite struct JournalEntryMapperTests {
    static func lines(_ name: String) throws -> [String] {
        try String(contentsOfFile: "\(fixtures)/journal/\(name)", encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Maps every line with one mapper; the records, and the cursor after each line.
    static func map(_ lines: [String], host: String = "fallback") -> (CollectingSink, [String?]) {
        var mapper = JournalEntryMapper(host: host)
        var sink = CollectingSink()
        var cursors: [String?] = []
        for line in lines {
            _ = ByteView.with(line) { mapper.map($0, receivedAt: 42, into: &sink) }
            cursors.append(mapper.cursor)
        }
        return (sink, cursors)
    }

    static let boot = "ba89fe24f4424c87a8e9ad9b9b272c44"

    @Test func mapsTheRecordedEntries() throws {
        let lines = try Self.lines("journalctl-json-all.jsonl")
        let (sink, cursors) = Self.map(lines)
        #expect(sink.rejects.isEmpty, "\(sink.rejects)")
        let logs = sink.logs
        #expect(logs.count == 13)

        let kernel = logs[0]
        #expect(kernel == LogRecord(
            timestamp: 1_796_218_325_676_898_000, severity: 6, facility: 0, host: "vm", app: "kernel", message: "Hypervisor detected: KVM",
            fields: [("transport", "kernel"), ("boot_id", Self.boot)]), "\(kernel)")

        let nginx = logs[3]
        #expect(nginx == LogRecord(
            timestamp: 1_796_218_325_918_775_000, severity: 4, facility: 3, host: "vm", app: "nginx",
            message: #"upstream timed out (110: Connection timed out) while reading "GET /api""#,
            fields: [("pid", "2826"), ("uid", "0"), ("transport", "syslog"), ("boot_id", Self.boot)]), "\(nginx)")

        let quota = logs[4]
        #expect(quota.message == "disk quota exceeded" && quota.app == "quota-check" && quota.severity == 3 && quota.facility == 3)
        #expect(quota.fields.elementsEqual(
            [("pid", "2827"), ("uid", "0"), ("transport", "journal"), ("boot_id", Self.boot),
             ("code_file", "quota.c"), ("code_line", "42"), ("tag", "first"), ("tag", "second")], by: ==),
            "a repeated field (an array) gives one field per value: \(quota.fields)")

        #expect(logs[6].message == "binary \u{1}\u{2} field", "a byte array is the value's bytes")
        #expect(logs[7].message == "Exception in thread \"main\" java.lang.IllegalStateException: boom")
        #expect(logs[8].message == "\tat com.example.App.main(App.java:12)")
        #expect(logs[9].message == String(repeating: "x", count: 5000) && logs[9].app == "bigapp")
        #expect(logs[10].message == "first line\nsecond line" && logs[10].severity == 5)

        let utf = logs[11]
        #expect(utf.message == "café ✓ ok" && utf.severity == 7)
        #expect(utf.fields.filter { $0.0 == "blob" }.map(\.1) == ["\u{FFFD}\u{FFFD}", "text"], "bytes that are not UTF-8 are repaired: \(utf.fields)")

        #expect(logs[12].app == "python3" && logs[12].message == "no identifier", "no SYSLOG_IDENTIFIER: _COMM")
        #expect(logs[1].fields.contains { $0 == ("message_id", "f77379a8490b408bbe5f6940505a777b") })

        let expectedCursors = try lines.map { line in
            try #require(line.firstRange(of: #""__CURSOR":""#).map { String(line[$0.upperBound...].prefix { $0 != "\"" }) })
        }
        #expect(cursors == expectedCursors)
    }

    @Test func aNullValueIsLeftOut() throws {
        let (sink, _) = Self.map(try Self.lines("journalctl-json-no-all.jsonl"))
        let record = try #require(sink.logs.first)
        #expect(record.message == "" && record.app == "bigapp", "journalctl without --all writes a value over 4096 bytes as null")
    }

    @Test func theKeyOrderDoesNotMatter() throws {
        for line in try Self.lines("journalctl-json-all.jsonl") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            let sorted = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            let (a, _) = Self.map([line])
            let (b, _) = Self.map([sorted])
            #expect(a.records == b.records, "\(sorted.prefix(80))")
        }
    }

    @Test func anEntryWithoutAHostnameTakesTheMappersHost() {
        let (sink, cursors) = Self.map([#"{"__CURSOR":"c1","MESSAGE":"m","PRIORITY":"9","__REALTIME_TIMESTAMP":"x"}"#], host: "web-1")
        #expect(sink.logs == [LogRecord(timestamp: 42, host: "web-1", app: "", message: "m")], "bad numbers are left out: \(sink.logs)")
        #expect(cursors == ["c1"])
    }

    @Test(arguments: [
        ("not json", "journal entry is not a JSON object"),
        (#"{"MESSAGE":"no cursor"}"#, "journal entry has no __CURSOR"),
        (#"{"__CURSOR":"c","MESSAGE":"x"} trailing"#, "journal entry is not a JSON object"),
        (#"{"__CURSOR":"c","MESSAGE":"unterminated}"#, "journal entry is not a JSON object"),
        (#"{"__CURSOR":"c","MESSAGE":"bad \q escape"}"#, "journal entry is not a JSON object"),
        ("-- Boot ba89fe24f4424c87a8e9ad9b9b272c44 --", "journal entry is not a JSON object"),
    ])
    func malformedLinesAreRejected(line: String, reason: String) {
        let (sink, cursors) = Self.map([line])
        #expect(sink.records.isEmpty)
        #expect(sink.rejects.map(\.reason) == [reason])
        #expect(cursors == [nil], "a rejected line leaves the cursor where it was")
    }

    @Test func escapesAreDecoded() {
        let (sink, _) = Self.map([#"{"__CURSOR":"c","MESSAGE":"q\"b\\s\/n\nt\tu\u00e9\ud83d\ude00\ud800x"}"#])
        #expect(sink.logs.first?.message == "q\"b\\s/n\nt\tué😀\u{FFFD}x")
    }
}
