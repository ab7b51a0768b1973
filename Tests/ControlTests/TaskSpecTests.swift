@testable import Control
import Foundation
import Platform
import WAL
import Wire
import Testing

/// TaskSpec validation per kind, defaults, and the JSON forms of specs and records.
@Suite struct TaskSpecTests {
    static func spec(_ kind: TaskKind, _ parameters: [String: String], stream: String = "app") -> TaskSpec {
        TaskSpec(kind: kind, stream: stream, parameters: parameters)
    }

    /// The message of the error `validated()` throws, or nil when it passes.
    static func failure(_ spec: TaskSpec) -> String? {
        do {
            _ = try spec.validated()
            return nil
        } catch {
            #expect(error.kind == .invalid)
            return error.message
        }
    }

    @Test func tailNeedsAnAbsolutePathAndDefaultsFromToEnd() throws {
        let ok = try Self.spec(.tail, ["path": "/var/log/*.log"]).validated()
        #expect(ok.parameters == ["path": "/var/log/*.log", "from": "end"])
        #expect(try Self.spec(.tail, ["path": "/a", "from": "start"]).validated().parameters["from"] == "start")
        #expect(Self.failure(Self.spec(.tail, [:]))?.contains("needs parameter path") == true)
        #expect(Self.failure(Self.spec(.tail, ["path": "logs/*.log"]))?.contains("not absolute") == true)
        #expect(Self.failure(Self.spec(.tail, ["path": "/a", "from": "middle"]))?.contains("start or end") == true)
        let unknown = Self.failure(Self.spec(.tail, ["path": "/a", "command": "x", "zz": "1"]))
        #expect(unknown?.contains("unknown parameters for a tail task: command, zz") == true, "got \(unknown ?? "nil")")
    }

    @Test func execNeedsACommandAndABoundedInterval() throws {
        #expect(try Self.spec(.exec, ["command": "uptime"]).validated().parameters == ["command": "uptime"])
        #expect(try Self.spec(.exec, ["command": "df", "interval_seconds": "60"]).validated().parameters["interval_seconds"] == "60")
        #expect(Self.failure(Self.spec(.exec, ["command": "  "]))?.contains("needs parameter command") == true)
        #expect(Self.failure(Self.spec(.exec, ["command": "df", "interval_seconds": "0"]))?.contains("from 1 to 86400") == true)
        #expect(Self.failure(Self.spec(.exec, ["command": "df", "interval_seconds": "86401"])) != nil)
        #expect(Self.failure(Self.spec(.exec, ["command": "df", "interval_seconds": "1.5"]))?.contains("whole number") == true)
        #expect(Self.failure(Self.spec(.exec, ["command": "df", "path": "/x"]))?.contains("unknown parameter for an exec task: path") == true)
    }

    @Test func hostmetricsDefaultsAndCollectList() throws {
        let d = try Self.spec(.hostmetrics, [:]).validated()
        #expect(d.parameters == ["interval_seconds": "10", "collect": "cpu,memory,load,disk,network"])
        let some = try Self.spec(.hostmetrics, ["collect": "network, cpu,cpu", "interval_seconds": "3600"]).validated()
        #expect(some.parameters["collect"] == "cpu,network", "deduplicated, canonical order")
        #expect(Self.failure(Self.spec(.hostmetrics, ["interval_seconds": "3601"]))?.contains("from 1 to 3600") == true)
        #expect(Self.failure(Self.spec(.hostmetrics, ["collect": "cpu,gpu"]))?.contains("\"gpu\"") == true)
        #expect(Self.failure(Self.spec(.hostmetrics, ["collect": ""])) != nil)
    }

    @Test func listenNeedsAPortAndKnownProtocol() throws {
        let d = try Self.spec(.listen, ["port": "5514"]).validated()
        #expect(d.parameters == ["port": "5514", "protocol": "syslog-tcp", "address": "127.0.0.1"])
        #expect(d.listenSocket == "tcp/5514")
        let udp = try Self.spec(.listen, ["port": "514", "protocol": "syslog-udp", "address": "::1", "max_line_kib": "8", "queue_kib": "64"]).validated()
        #expect(udp.parameters == ["port": "514", "protocol": "syslog-udp", "address": "::1", "max_line_kib": "8", "queue_kib": "64"])
        #expect(udp.listenSocket == "udp/514")
        #expect(try Self.spec(.listen, ["port": "1", "protocol": "json-tcp", "address": "fe80::1:2"]).validated().parameters["port"] == "1")
        #expect(Self.failure(Self.spec(.listen, [:]))?.contains("needs parameter port") == true)
        #expect(Self.failure(Self.spec(.listen, ["port": "65536"]))?.contains("from 1 to 65535") == true)
        #expect(Self.failure(Self.spec(.listen, ["port": "0"])) != nil)
        #expect(Self.failure(Self.spec(.listen, ["port": "514", "protocol": "syslog"]))?.contains("syslog-tcp, syslog-udp, json-tcp") == true)
        #expect(Self.failure(Self.spec(.listen, ["port": "514", "address": "localhost"]))?.contains("not an IPv4 or IPv6") == true)
        #expect(Self.failure(Self.spec(.listen, ["port": "514", "address": "300.1.1.1"])) != nil)
        #expect(Self.failure(Self.spec(.listen, ["port": "514", "address": "1::2::3"])) != nil)
        #expect(Self.failure(Self.spec(.listen, ["port": "514", "max_line_kib": "0"]))?.contains("from 1 to 1024") == true)
        #expect(Self.failure(Self.spec(.listen, ["port": "514", "queue_kib": "63"]))?.contains("from 64 to 1048576") == true)
        #expect(Self.spec(.tail, ["path": "/a"]).listenSocket == nil)
    }

    @Test(arguments: ["", String(repeating: "a", count: 129), "app logs", "app/x", "é"])
    func badStreamNames(_ stream: String) {
        #expect(Self.failure(Self.spec(.hostmetrics, [:], stream: stream))?.contains("stream") == true)
    }

    @Test func goodStreamNamesAndLongValues() throws {
        _ = try Self.spec(.hostmetrics, [:], stream: "A-z_0.9").validated()
        _ = try Self.spec(.hostmetrics, [:], stream: String(repeating: "s", count: 128)).validated()
        let long = "/" + String(repeating: "x", count: TaskSpec.maxParameterBytes)
        #expect(Self.failure(Self.spec(.tail, ["path": long]))?.contains("at most 4096") == true)
    }

    @Test func specJSONHasOptionalParametersAndSelector() throws {
        let json = #"{"kind":"tail","stream":"app","parameters":{"path":"/var/log/app/*.log"},"selector":{"labels":{"env":"prod"},"region":"eu"}}"#
        let spec = try JSONDecoder().decode(TaskSpec.self, from: Data(json.utf8))
        #expect(spec == TaskSpec(kind: .tail, stream: "app", parameters: ["path": "/var/log/app/*.log"], selector: DaemonSelector(labels: ["env": "prod"], region: "eu")))
        let bare = try JSONDecoder().decode(TaskSpec.self, from: Data(#"{"kind":"hostmetrics","stream":"host"}"#.utf8))
        #expect(bare.parameters.isEmpty && bare.selector == DaemonSelector())
        #expect(try JSONDecoder().decode(TaskSpec.self, from: JSONEncoder().encode(spec)) == spec)
        #expect(throws: (any Error).self) { try JSONDecoder().decode(TaskSpec.self, from: Data(#"{"kind":"ftp","stream":"x"}"#.utf8)) }
    }

    @Test func recordJSONRoundTrip() throws {
        let record = TaskRecord(
            serial: 12, spec: try TaskFixture.tail().validated(), state: .running, epoch: 3,
            lease: TaskLease(holder: "d-1", epoch: 3, grantedAt: 5, expiresAt: 15), checkpoint: ["2049:1234": "8192"],
            createdAt: 1, updatedAt: 5, lastError: "failed on d-0: disk full",
            history: [TaskAssignmentRecord(holder: "d-0", epoch: 2, from: 2, until: 4, end: .failed), TaskAssignmentRecord(holder: "d-1", epoch: 3, from: 5)])
        #expect(record.id == "t-12")
        let data = try JSONEncoder().encode(record)
        #expect(try JSONDecoder().decode(TaskRecord.self, from: data) == record)
        #expect(record.producerID == TaskProducerID.make(serial: 12, epoch: 3))
    }

    @Test func taskIDsParseStrictly() {
        #expect(TaskRecord.serial(of: "t-12") == 12)
        #expect(TaskRecord.serial(of: "t-012") == nil)
        #expect(TaskRecord.serial(of: "t-0") == nil)
        #expect(TaskRecord.serial(of: "x-1") == nil)
        #expect(TaskRecord.serial(of: "t-") == nil)
    }
}
