@testable import Control
import Foundation
import Platform
import WAL
import Wire
import Testing

/// Shared helpers of the configuration tests.
enum CT {
    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func daemons(_ ids: [String], labels: [String: String] = [:]) -> [DaemonCandidate] {
        ids.map { DaemonCandidate(id: $0, labels: labels) }
    }

    /// "daemon:version" of each push.
    static func pushes(_ commands: [ConfigCommand]) -> [String] {
        commands.map { c in
            switch c {
            case .push(let id, let p): "\(id):\(p.version)"
            }
        }
    }

    static func applied(_ doc: ConfigDocument) -> ConfigStatus {
        ConfigStatus(name: doc.name, version: doc.version, hash: doc.hash, state: .applied)
    }

    static func failed(_ doc: ConfigDocument, _ message: String = "bad input") -> ConfigStatus {
        ConfigStatus(name: doc.name, version: doc.version, hash: doc.hash, state: .failed, message: message)
    }

    static func encode(_ value: some Encodable) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return try e.encode(value)
    }
}

/// Names, content checks, format detection, hashes, versions and the wire and JSON forms.
@Suite struct ConfigDocumentTests {
    @Test func versionsCountUpAndCarryTheContentHash() throws {
        var book = ConfigBook()
        let one = try book.put(name: "pipeline", content: CT.bytes("a: 1\n"), selector: DaemonSelector(), rollout: nil, comment: "first", online: [], now: TestTime.at(0))
        #expect(one.document.version == 1)
        #expect(one.document.hash == "sha256:37b128c59f1f5097f73f82691cb519f1f568667faab5ced1b4ab979d36837eae", "sha256sum of 'a: 1\\n'")
        #expect(one.document.format == .yaml)
        #expect(one.document.status == .current)
        #expect(one.document.comment == "first")
        #expect(one.document.createdAt == TestTime.at(0))
        #expect(!one.unchanged)
        let two = try book.put(name: "pipeline", content: CT.bytes("a: 2\n"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(1))
        #expect(two.document.version == 2)
        #expect(two.document.hash != one.document.hash)
        let other = try book.put(name: "other", content: CT.bytes("a: 1\n"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(2))
        #expect(other.document.version == 1, "versions count per name")
        #expect(book.history("pipeline")?.map(\.version) == [1, 2], "oldest first")
        #expect(book.history("pipeline")?.map(\.status) == [.superseded, .current])
        #expect(book.current("pipeline")?.version == 2)
        #expect(book.lastKnownGood("pipeline")?.version == 2)
        #expect(book.names == ["other", "pipeline"])
        #expect(book.history("nope") == nil)
    }

    @Test func theSameContentAndSelectorMakeNoNewVersion() throws {
        var book = ConfigBook()
        let online = CT.daemons(["a"])
        _ = try book.put(name: "p", content: CT.bytes("a: 1\n"), selector: DaemonSelector(), rollout: nil, comment: "", online: online, now: TestTime.at(0))
        let again = try book.put(name: "p", content: CT.bytes("a: 1\n"), selector: DaemonSelector(), rollout: nil, comment: "retry", online: online, now: TestTime.at(1))
        #expect(again.unchanged)
        #expect(again.document.version == 1)
        #expect(again.commands.isEmpty, "nothing pushed for an unchanged PUT")
        #expect(book.history("p")?.count == 1)
        let moved = try book.put(name: "p", content: CT.bytes("a: 1\n"), selector: DaemonSelector(labels: ["env": "prod"]), rollout: nil, comment: "", online: online, now: TestTime.at(2))
        #expect(!moved.unchanged, "a new selector is a new version")
        #expect(moved.document.version == 2)
        #expect(moved.document.hash == again.document.hash)
    }

    @Test(arguments: [
        ("{\"a\": 1}", ConfigFormat.json),
        ("  \n\t[1, 2]", .json),
        ("\u{FEFF}{\"a\": [true, null]}", .json),
        ("{a: 1}", .yaml),
        ("a: 1\nb: [x, y]\n", .yaml),
        ("# only a comment\n", .yaml),
        ("plain scalar", .yaml),
    ])
    func formatIsDetected(text: String, format: ConfigFormat) throws {
        var book = ConfigBook()
        let u = try book.put(name: "p", content: CT.bytes(text), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: 0)
        #expect(u.document.format == format, "\(text) → \(u.document.format), expected \(format)")
        #expect(u.document.content == text)
    }

    /// The error of a PUT that must fail.
    static func putError(_ content: [UInt8], name: String = "p") -> ConfigError? {
        var book = ConfigBook()
        do {
            _ = try book.put(name: name, content: content, selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: 0)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        ("a: 1\nb: [1, 2\nc: 3\n", 3),
        ("a: 1\n  b: 2\n", 2),
        ("a:\n  - x\n  - y\n a: z\n", 4),
        ("{\"a\": 1,\n \"b\": [1, 2}\n", 2),
        ("a: 1\nb: 2\na: 3\n", 1),
    ])
    func syntaxErrorsNameTheirLine(text: String, line: Int) {
        let error = Self.putError(CT.bytes(text))
        #expect(error?.kind == .invalid)
        #expect(error?.line == line, "\(String(describing: error)) should be about line \(line)")
        #expect(error?.message.hasPrefix("line \(line):") == true, "message: \(error?.message ?? "none")")
    }

    @Test func badNamesAndContentAreRefused() {
        for name in ["", String(repeating: "x", count: 129), "a/b", "a b", "é"] {
            #expect(Self.putError(CT.bytes("a: 1"), name: name)?.kind == .invalid, "name '\(name)'")
        }
        #expect(Self.putError(CT.bytes("a: 1"), name: String(repeating: "x", count: 128)) == nil, "128 bytes is the longest name")
        #expect(Self.putError(CT.bytes("a: 1"), name: "Az09._-") == nil)
        #expect(Self.putError([0x61, 0x3A, 0xFF])?.kind == .invalid, "not UTF-8")
        #expect(Self.putError(CT.bytes(" \n\t"))?.kind == .invalid, "blank")
        #expect(Self.putError([])?.kind == .invalid, "empty")
        let big = CT.bytes("a: \"" + String(repeating: "x", count: 1 << 20) + "\"")
        #expect(Self.putError(big)?.kind == .limit, "over 1 MiB")
        let max = CT.bytes("# ") + [UInt8](repeating: UInt8(ascii: "x"), count: (1 << 20) - 2)
        #expect(Self.putError(max) == nil, "exactly 1 MiB is allowed")
    }

    @Test func strategiesAreValidated() throws {
        #expect(throws: ConfigError.self) { try RolloutStrategy(batchSize: 2, batchPercent: 10).validated() }
        #expect(throws: ConfigError.self) { try RolloutStrategy(batchSize: 0).validated() }
        #expect(throws: ConfigError.self) { try RolloutStrategy(batchPercent: 101).validated() }
        #expect(throws: ConfigError.self) { try RolloutStrategy(gateSeconds: -1).validated() }
        #expect(throws: ConfigError.self) { try RolloutStrategy(maxFailurePercent: .nan).validated() }
        #expect(throws: ConfigError.self) { try RolloutStrategy(applyTimeoutSeconds: 0).validated() }
        #expect(try RolloutStrategy(batchPercent: 100, gateSeconds: 0).validated().batchPercent == 100)
        var book = ConfigBook()
        #expect(throws: ConfigError(.invalid, "batch_size must be at least 1, got 0")) {
            try book.put(name: "p", content: CT.bytes("a: 1"), selector: DaemonSelector(), rollout: RolloutStrategy(batchSize: 0), comment: "", online: [], now: 0)
        }
        #expect(book.names.isEmpty, "a bad strategy makes no version")
    }

    @Test func strategyJSONUsesSnakeCaseAndDefaults() throws {
        let s = try JSONDecoder().decode(RolloutStrategy.self, from: Data(#"{"batch_percent": 25, "max_failure_percent": 10}"#.utf8))
        #expect(s == RolloutStrategy(batchPercent: 25, gateSeconds: 30, maxFailurePercent: 10, applyTimeoutSeconds: 60))
        let json = String(decoding: try CT.encode(RolloutStrategy(batchSize: 3, gateSeconds: 5)), as: UTF8.self)
        #expect(json == #"{"apply_timeout_seconds":60,"batch_size":3,"gate_seconds":5,"max_failure_percent":0}"#)
        #expect(try JSONDecoder().decode(RolloutStrategy.self, from: Data("{}".utf8)) == RolloutStrategy())
    }

    @Test func documentsAndRolloutsSurviveJSON() throws {
        var book = ConfigBook()
        _ = try book.put(name: "p", content: CT.bytes("a: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(0))
        let u = try book.put(
            name: "p", content: CT.bytes("{\"a\": 2}"), selector: DaemonSelector(labels: ["env": "prod"], region: "eu"),
            rollout: RolloutStrategy(batchSize: 1, gateSeconds: 10), comment: "two", online: ["x", "y"].map { DaemonCandidate(id: $0, labels: ["env": "prod"], region: "eu") }, now: TestTime.at(1))
        let doc = u.document
        let decoded = try JSONDecoder().decode(ConfigDocument.self, from: try CT.encode(doc))
        #expect(decoded == doc)
        let text = String(decoding: try CT.encode(doc), as: UTF8.self)
        #expect(text.contains(#""status":"rolling_out""#), "\(text)")
        #expect(text.contains(#""format":"json""#))
        let rollout = try #require(u.rollout)
        #expect(try JSONDecoder().decode(Rollout.self, from: try CT.encode(rollout)) == rollout)
        let rtext = String(decoding: try CT.encode(rollout), as: UTF8.self)
        #expect(rtext.contains(#""state":"running""#) && rtext.contains(#""id":"r-1""#), "\(rtext)")
    }

    @Test func thePushIsTheWireForm() throws {
        var book = ConfigBook()
        let u = try book.put(name: "p", content: CT.bytes("{\"a\": 1}"), selector: DaemonSelector(), rollout: nil, comment: "", online: CT.daemons(["d"]), now: 0)
        let push = u.document.push
        #expect(push == ConfigPush(name: "p", version: 1, hash: u.document.hash, format: "json", content: CT.bytes("{\"a\": 1}")))
        #expect(u.commands == [.push(daemonID: "d", push)])
    }
}
