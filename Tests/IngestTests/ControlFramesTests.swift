import Fleet
import Foundation
import Ingest
import Platform
import WAL
import Wire
import NIOCore
import Synchronization
import Testing
import TestSupport

// The control frames of the native protocol (docs/protocol.md, section 5.9): their encoding,
// and a real IngestServer on loopback driving simulated daemons through a stub control plane.

private let allocator = ByteBufferAllocator()
private let sampleHash = "sha256:" + String(repeating: "ab", count: 32)

private let sampleAssignment = TaskAssignment(
    taskID: "nginx-logs", epoch: 3, leaseMilliseconds: 15_000, producerID: TaskProducerID.make(serial: 7, epoch: 3), kind: "tail",
    stream: "logs", parameters: ["path": "/var/log/syslog"], checkpoint: ["2049:131": "4096"])

/// (type, body) of a whole frame, checking its length field.
private func split(_ frame: ByteBuffer) -> (UInt8, ByteBuffer) {
    var f = frame
    let length = f.readInteger(endianness: .big, as: UInt32.self)!
    #expect(Int(length) == f.readableBytes, "length field \(length) vs \(f.readableBytes) bytes after it")
    return (f.readInteger(as: UInt8.self)!, f)
}

private func hexDump(_ frame: ByteBuffer) -> String {
    let bytes = Array(frame.readableBytesView)
    return stride(from: 0, to: bytes.count, by: 16).map { off in
        String(format: "%04x: ", off) + bytes[off ..< min(off + 16, bytes.count)].map { String(format: "%02x", $0) }.joined(separator: " ")
    }.joined(separator: "\n")
}

@Suite struct ControlFramesTests {
    static let nodeMessages: [NodeControlMessage] = [
        .assign(sampleAssignment),
        .assign(TaskAssignment(taskID: "", epoch: .max, leaseMilliseconds: 0, producerID: TaskProducerID.taskBit, kind: "exec", stream: "")),
        .assign(TaskAssignment(
            taskID: String(repeating: "t", count: 128), epoch: 1, leaseMilliseconds: .max, producerID: .max, kind: "hostmetrics", stream: "m",
            parameters: ["zeta": "1", "alpha": "", "mid": "ü"], checkpoint: [:])),
        .control(TaskControl(taskID: "nginx-logs", epoch: 3, action: .suspend)),
        .control(TaskControl(taskID: "nginx-logs", epoch: 4, action: .terminate)),
        .control(TaskControl(taskID: "x", epoch: 0, action: .revoke)),
        .config(ConfigPush(name: "agent", version: 12, hash: sampleHash, format: "yaml", content: Array("inputs: []\n".utf8))),
        .config(ConfigPush(name: "empty", version: 0, hash: "", format: "json", content: [])),
    ]

    static let reports: [DaemonControlReport] = [
        .task(TaskStatus(taskID: "nginx-logs", epoch: 3, state: .running, checkpoint: ["2049:131": "8192"])),
        .task(TaskStatus(taskID: "nginx-logs", epoch: 3, state: .suspended, checkpoint: ["offset": "9", "b": "2"], message: "as asked")),
        .task(TaskStatus(taskID: "t", epoch: 1, state: .terminated)),
        .task(TaskStatus(taskID: "t", epoch: 2, state: .failed, message: "no such file")),
        .config(ConfigStatus(name: "agent", version: 12, hash: sampleHash, state: .applying)),
        .config(ConfigStatus(name: "agent", version: 12, hash: sampleHash, state: .applied)),
        .config(ConfigStatus(name: "agent", version: 13, hash: sampleHash, state: .failed, message: "bad yaml at line 3")),
    ]

    @Test(arguments: nodeMessages)
    func nodeMessageDecodesBackAndRejectsTruncationAndTrailingBytes(_ message: NodeControlMessage) throws {
        let (type, body) = split(message.frame(allocator: allocator))
        var whole = body
        #expect(try NodeControlMessage.decode(type: type, body: &whole) == message)
        for n in 0 ..< body.readableBytes {
            #expect(throws: NativeMalformed.self, "body cut to \(n) of \(body.readableBytes) bytes") {
                var short = body.getSlice(at: body.readerIndex, length: n)!
                _ = try NodeControlMessage.decode(type: type, body: &short)
            }
        }
        #expect(throws: NativeMalformed.self, "one trailing byte") {
            var long = body
            long.writeInteger(UInt8(0))
            _ = try NodeControlMessage.decode(type: type, body: &long)
        }
        var again = body
        #expect(try DaemonControlReport.decode(type: type, body: &again) == nil, "a node message is not a report")
    }

    @Test(arguments: reports)
    func reportDecodesBackAndRejectsTruncationAndTrailingBytes(_ report: DaemonControlReport) throws {
        let (type, body) = split(report.frame(allocator: allocator))
        var whole = body
        #expect(try DaemonControlReport.decode(type: type, body: &whole) == report)
        for n in 0 ..< body.readableBytes {
            #expect(throws: NativeMalformed.self, "body cut to \(n) of \(body.readableBytes) bytes") {
                var short = body.getSlice(at: body.readerIndex, length: n)!
                _ = try DaemonControlReport.decode(type: type, body: &short)
            }
        }
        #expect(throws: NativeMalformed.self, "one trailing byte") {
            var long = body
            long.writeInteger(UInt8(0))
            _ = try DaemonControlReport.decode(type: type, body: &long)
        }
        var again = body
        #expect(try NodeControlMessage.decode(type: type, body: &again) == nil, "a report is not a node message")
    }

    @Test func otherFrameTypesAreNotControlFrames() throws {
        for type: UInt8 in [0x01, 0x03, 0x06, 0x0F, 0x13, 0x22, 0xFF] {
            var empty = allocator.buffer(capacity: 0)
            #expect(try NodeControlMessage.decode(type: type, body: &empty) == nil)
            #expect(try DaemonControlReport.decode(type: type, body: &empty) == nil)
        }
    }

    @Test func pairsAreWrittenSortedByKeyWhateverTheInsertionOrder() {
        var forward: [String: String] = [:]
        var backward: [String: String] = [:]
        let keys = (0 ..< 40).map { "k\($0 * 7 % 40)" }
        for k in keys { forward[k] = "v" }
        for k in keys.reversed() { backward[k] = "v" }
        let a = NodeControlMessage.assign(TaskAssignment(
            taskID: "t", epoch: 1, leaseMilliseconds: 1, producerID: 1, kind: "tail", stream: "s", parameters: forward, checkpoint: backward))
        let b = NodeControlMessage.assign(TaskAssignment(
            taskID: "t", epoch: 1, leaseMilliseconds: 1, producerID: 1, kind: "tail", stream: "s", parameters: backward, checkpoint: forward))
        let bytesA = Array(a.frame(allocator: allocator).readableBytesView)
        #expect(bytesA == Array(b.frame(allocator: allocator).readableBytesView), "equal maps give equal bytes")
        // The keys appear in sorted order (each once in parameters, once in checkpoint).
        let text = String(decoding: bytesA, as: UTF8.self)
        let positions = keys.sorted().map { key in
            let length = String(UnicodeScalar(UInt8(key.utf8.count)))
            return text.ranges(of: "\u{0}\(length)\(key)\u{0}\u{1}v").map(\.lowerBound)
        }
        #expect(positions.allSatisfy { $0.count == 2 })
        let firsts = positions.map { $0[0] }, seconds = positions.map { $0[1] }
        #expect(firsts == firsts.sorted() && seconds == seconds.sorted(), "keys sorted in both pairs")
    }

    @Test func unknownStatesAndActionsAreMalformed() {
        // The state / action byte sits after the task id (2 + n bytes) and the epoch (8).
        func patched(_ frame: ByteBuffer, at offset: Int, to value: UInt8) -> (UInt8, ByteBuffer) {
            let (type, original) = split(frame)
            var body = original
            body.setInteger(value, at: body.readerIndex + offset)
            return (type, body)
        }
        let status = DaemonControlReport.task(TaskStatus(taskID: "abc", epoch: 1, state: .running)).frame(allocator: allocator)
        let control = NodeControlMessage.control(TaskControl(taskID: "abc", epoch: 1, action: .revoke)).frame(allocator: allocator)
        // CONFIG_STATUS: name (2 + 1), version (8), hash (2 + 1), then the state.
        let config = DaemonControlReport.config(ConfigStatus(name: "n", version: 1, hash: "h", state: .applied)).frame(allocator: allocator)
        for bad: UInt8 in [0, 5, 255] {
            #expect(throws: NativeMalformed.self, "TASK_STATUS state \(bad)") {
                let (type, original) = patched(status, at: 13, to: bad)
                var body = original
                _ = try DaemonControlReport.decode(type: type, body: &body)
            }
        }
        for bad: UInt8 in [0, 4, 255] {
            #expect(throws: NativeMalformed.self, "TASK_CONTROL action \(bad)") {
                let (type, original) = patched(control, at: 13, to: bad)
                var body = original
                _ = try NodeControlMessage.decode(type: type, body: &body)
            }
            #expect(throws: NativeMalformed.self, "CONFIG_STATUS state \(bad)") {
                let (type, original) = patched(config, at: 14, to: bad)
                var body = original
                _ = try DaemonControlReport.decode(type: type, body: &body)
            }
        }
        // The same offsets with a valid value decode: the test patches the right byte.
        let (t1, p1) = patched(status, at: 13, to: TaskReportState.failed.rawValue)
        var b1 = p1
        #expect((try? DaemonControlReport.decode(type: t1, body: &b1)) == .task(TaskStatus(taskID: "abc", epoch: 1, state: .failed)))
        let (t2, p2) = patched(config, at: 14, to: ConfigApplyState.failed.rawValue)
        var b2 = p2
        #expect((try? DaemonControlReport.decode(type: t2, body: &b2)) == .config(ConfigStatus(name: "n", version: 1, hash: "h", state: .failed)))
    }

    @Test func idsLongerThan128BytesAreMalformed() {
        let frame = NodeControlMessage.control(TaskControl(taskID: String(repeating: "x", count: 129), epoch: 1, action: .suspend))
            .frame(allocator: allocator)
        #expect(throws: NativeMalformed.self) {
            let (type, original) = split(frame)
            var body = original
            _ = try NodeControlMessage.decode(type: type, body: &body)
        }
    }

    @Test func taskProducerIDsCarryTheTopBitSerialAndEpoch() {
        #expect(TaskProducerID.make(serial: 7, epoch: 3) == 0x8000_0000_0700_0003)
        #expect(TaskProducerID.parse(0x8000_0000_0700_0003)! == (7, 3))
        #expect(TaskProducerID.parse(1) == nil && TaskProducerID.parse(0x7FFF_FFFF_FFFF_FFFF) == nil)
        let wide = TaskProducerID.make(serial: 0x7F_FFFF_FFFF, epoch: 0x1_00_0005)
        #expect(wide == (UInt64.max & ~0xFF_FFFF) | 5, "serial fills 39 bits; the epoch keeps its low 24 bits")
        #expect(TaskProducerID.parse(wide)! == (0x7F_FFFF_FFFF, 5))
    }

    /// docs/protocol.md, section 15, shows these two frames; the document must match the encoders.
    @Test func protocolDocumentHexExamplesMatchTheEncoders() throws {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/protocol.md")
        let text = try String(contentsOf: doc, encoding: .utf8)
        let assign = NodeControlMessage.assign(sampleAssignment).frame(allocator: allocator)
        let status = DaemonControlReport.task(TaskStatus(taskID: "nginx-logs", epoch: 3, state: .running, checkpoint: ["2049:131": "8192"]))
            .frame(allocator: allocator)
        #expect(text.contains("### TASK_ASSIGN (\(assign.readableBytes) bytes on the wire)"))
        #expect(text.contains(hexDump(assign)), "TASK_ASSIGN dump:\n\(hexDump(assign))")
        #expect(text.contains("### TASK_STATUS (\(status.readableBytes) bytes on the wire)"))
        #expect(text.contains(hexDump(status)), "TASK_STATUS dump:\n\(hexDump(status))")
    }
}

// MARK: - A real node with a stub control plane

/// The control plane of the tests: records everything, sends `onOpen` to every new session,
/// and fences the producer ids in `refused`.
private final class StubControl: DaemonControl {
    struct Log {
        var opened: [String] = []
        var closed: [String] = []
        var heartbeats: [String: Int] = [:]
        var reports: [(String, DaemonControlReport)] = []
        var fenceChecks: [UInt64] = []
        var sessions: [String: DaemonSession] = [:]
    }

    let onOpen: [NodeControlMessage]
    let refused: Set<UInt64>
    private let log = Mutex(Log())

    init(onOpen: [NodeControlMessage], refused: Set<UInt64> = []) {
        self.onOpen = onOpen
        self.refused = refused
    }

    var snapshot: Log { log.withLock { $0 } }

    func reports(of daemonID: String) -> [DaemonControlReport] { snapshot.reports.filter { $0.0 == daemonID }.map(\.1) }

    func taskReports(of daemonID: String, task: String) -> [TaskStatus] {
        reports(of: daemonID).compactMap { if case .task(let s) = $0, s.taskID == task { s } else { nil } }
    }

    func sessionOpened(_ session: DaemonSession) {
        log.withLock {
            $0.opened.append(session.daemonID)
            $0.sessions[session.daemonID] = session
        }
        session.send(onOpen)
    }

    func sessionClosed(_ session: DaemonSession) { log.withLock { $0.closed.append(session.daemonID) } }
    func sessionHeartbeat(_ session: DaemonSession) { log.withLock { $0.heartbeats[session.daemonID, default: 0] += 1 } }
    func session(_ session: DaemonSession, reported report: DaemonControlReport) { log.withLock { $0.reports.append((session.daemonID, report)) } }

    func admitsTaskData(daemonID: String, producerID: UInt64) -> TaskFenceVerdict {
        log.withLock { $0.fenceChecks.append(producerID) }
        return refused.contains(producerID) ? .refused("stale epoch") : .admitted
    }
}

/// An IngestServer with only the native listener on 127.0.0.1, port 0, one event loop.
private struct TestNode {
    let server: IngestServer
    let directory: TemporaryDirectory
    let address: SocketAddress
    let stop: @Sendable () async throws -> Void

    static func start(control: StubControl, heartbeatMilliseconds: UInt32 = 50) async throws -> TestNode {
        let directory = TemporaryDirectory("hypha-control")
        let (server, _, bound, stop) = try await startIngestServer(
            directory: directory.path, native: 0, nodeID: "test-node", control: control, heartbeatMilliseconds: heartbeatMilliseconds)
        return TestNode(server: server, directory: directory, address: bound["native"]!, stop: stop)
    }
}

private func logRecords(_ count: Int, tag: String) -> [Record] {
    (0 ..< count).map { i in
        .log(LogRecord(timestamp: 1_800_000_000_000_000_000 + Int64(i), severity: 6, facility: 1, host: "web1", app: "nginx", message: "\(tag) \(i)"))
    }
}

@Suite(.timeLimit(.minutes(1))) struct ControlSessionTests {
    @Test func daemonsRunAssignedTasksApplyConfigurationAndReport() async throws {
        let push = ConfigPush(name: "agent", version: 12, hash: sampleHash, format: "yaml", content: Array("inputs: []\n".utf8))
        let control = StubControl(onOpen: [.assign(sampleAssignment), .config(push)])
        let node = try await TestNode.start(control: control)
        defer { node.directory.remove() }
        let fleet = try await Fleet.start(count: 2, node: node.address, threads: 1, timeout: .seconds(10)) { i in
            SimulatedDaemon.Configuration(
                daemonID: "d\(i)", region: "eu", labels: ["rack": "r\(i)"], heartbeatInterval: .milliseconds(50), checkpointStep: 10,
                configPolicy: { _ in i == 0 ? .applied : .failed })
        }
        let d0 = try #require(fleet.daemon(id: "d0"))
        let d1 = try #require(fleet.daemon(id: "d1"))
        #expect(d0.welcome == NativeWelcome(version: 1, maxFrameSize: IngestLimits().maxFrameBytes, heartbeatIntervalMilliseconds: 50, nodeID: "test-node"))

        // The daemons got both frames and run the task from the pushed checkpoint.
        // The configuration is handled after the assignment: wait for both.
        #expect(await eventually {
            fleet.daemons.allSatisfy { $0.runningTasks == ["nginx-logs": 3] } && d0.appliedConfigs["agent"] != nil
        }, "both daemons run the task and d0 applied the configuration")
        let got = try #require(d0.assignments.first)
        #expect(got.taskID == "nginx-logs" && got.epoch == 3 && got.producerID == sampleAssignment.producerID)
        #expect(got.checkpoint == ["2049:131": "4096"] && got.kind == "tail" && got.leaseMilliseconds == 15_000)
        #expect(d0.appliedConfigs["agent"] == AppliedConfig(name: "agent", version: 12, hash: sampleHash, format: "yaml", contentBytes: 11))
        #expect(d1.appliedConfigs.isEmpty, "d1's policy fails every document")

        // Reports: running at once with the checkpoint, then one per heartbeat with an advancing
        // checkpoint; applying then applied (d0) or failed (d1), with the pushed hash.
        #expect(await eventually {
            control.taskReports(of: "d0", task: "nginx-logs").count >= 3 && control.snapshot.heartbeats["d0", default: 0] >= 2
        }, "d0 reported running three times and heartbeats renewed")
        let running = control.taskReports(of: "d0", task: "nginx-logs")
        #expect(running.allSatisfy { $0.state == .running && $0.epoch == 3 })
        let offsets = running.map { $0.checkpoint.values.compactMap { UInt64($0) }.first ?? 0 }
        #expect(offsets.first == 4096, "the first report is the checkpoint it resumed from: \(offsets)")
        #expect(offsets == offsets.sorted() && offsets.last! > 4096, "the checkpoint advances: \(offsets)")
        #expect(Set(running.flatMap(\.checkpoint.keys)).count == 1, "one <dev>:<inode> key for one tailed file")
        let configs0 = control.reports(of: "d0").compactMap { if case .config(let c) = $0 { c } else { nil } }
        #expect(configs0 == [
            ConfigStatus(name: "agent", version: 12, hash: sampleHash, state: .applying),
            ConfigStatus(name: "agent", version: 12, hash: sampleHash, state: .applied),
        ])
        #expect(await eventually {
            control.reports(of: "d1").contains { if case .config(let c) = $0 { c.state == .failed && c.hash == sampleHash } else { false } }
        }, "d1 reported a failed configuration")
        #expect(d0.events.first?.kind == .assigned(task: "nginx-logs", epoch: 3, checkpoint: ["2049:131": "4096"]))

        // TASK_CONTROL: suspend is acknowledged; revoke of a second task stops it silently.
        let session0 = try #require(control.snapshot.sessions["d0"])
        session0.send(.control(TaskControl(taskID: "nginx-logs", epoch: 3, action: .suspend)))
        session0.send(.assign(TaskAssignment(taskID: "cpu", epoch: 1, leaseMilliseconds: 1000, producerID: TaskProducerID.make(serial: 8, epoch: 1), kind: "hostmetrics", stream: "metrics")))
        #expect(await eventually {
            control.taskReports(of: "d0", task: "nginx-logs").contains { $0.state == .suspended } && d0.runningTasks == ["cpu": 1]
        }, "d0 suspended nginx-logs and runs cpu")
        let suspended = try #require(control.taskReports(of: "d0", task: "nginx-logs").last)
        #expect(suspended.state == .suspended && suspended.epoch == 3 && suspended.checkpoint.count == 1)
        session0.send(.control(TaskControl(taskID: "cpu", epoch: 1, action: .revoke)))
        #expect(await eventually { d0.runningTasks.isEmpty }, "d0 runs nothing after the revoke")
        // A revoke is not answered: no report but `running` may follow, over three heartbeat
        // periods counted by the node (a report travels before the heartbeat of its period).
        let beatsAtRevoke = control.snapshot.heartbeats["d0", default: 0]
        #expect(await holds({ !control.taskReports(of: "d0", task: "cpu").contains { $0.state != .running } },
                            until: { control.snapshot.heartbeats["d0", default: 0] >= beatsAtRevoke + 3 }),
                "revoke is not answered: \(control.taskReports(of: "d0", task: "cpu").map(\.state)) after \(control.snapshot.heartbeats["d0", default: 0] - beatsAtRevoke) heartbeats")
        #expect(control.taskReports(of: "d0", task: "cpu").first?.checkpoint == ["offset": "0"])
        let kinds = d0.events.map(\.kind)
        #expect(kinds.contains(.stopped(task: "nginx-logs", epoch: 3, why: .suspended)))
        #expect(kinds.contains(.revoked(task: "cpu", epoch: 1)))
        #expect(kinds.contains(.config(name: "agent", version: 12, hash: sampleHash, state: .applied)))

        await fleet.shutdown()
        try await node.stop()
    }

    @Test func fencedTaskDataIsNackedWholeWithReasonFiveAndNotWritten() async throws {
        let stale = TaskProducerID.make(serial: 1, epoch: 1)
        let current = TaskProducerID.make(serial: 2, epoch: 5)
        let control = StubControl(
            onOpen: [
                .assign(TaskAssignment(taskID: "old", epoch: 1, leaseMilliseconds: 1000, producerID: stale, kind: "exec", stream: "s")),
                .assign(TaskAssignment(taskID: "new", epoch: 5, leaseMilliseconds: 1000, producerID: current, kind: "exec", stream: "s")),
            ],
            refused: [stale])
        let node = try await TestNode.start(control: control)
        defer { node.directory.remove() }
        let fleet = try await Fleet.start(count: 1, node: node.address, threads: 1) { _ in .init(daemonID: "fenced-daemon") }
        let daemon = fleet.daemons[0]
        #expect(await eventually { daemon.runningTasks.count == 2 }, "both tasks run")

        let refused = try await daemon.sendTaskData(taskID: "old", records: logRecords(3, tag: "stale"))
        #expect(!refused.isAcknowledged && refused.acceptedCount == 0 && refused.producerID == stale && refused.producerSequence == 1)
        #expect(refused.rejections.map(\.index) == [0, 1, 2])
        #expect(refused.rejections.allSatisfy { $0.code == NativeRejectCode.fenced.rawValue }, "\(refused.rejections)")
        #expect(refused.rejectReasons == Array(repeating: "stale epoch", count: 3))
        #expect(node.server.durableRecordsSinceStart == 0, "a fenced batch writes nothing")

        let admitted = try await daemon.sendTaskData(taskID: "new", records: logRecords(2, tag: "current"))
        #expect(admitted.isAcknowledged && !admitted.isDuplicate && admitted.acceptedCount == 2 && admitted.rejectedCount == 0)
        #expect(admitted.producerID == current && admitted.firstSequence != nil)
        #expect(control.snapshot.fenceChecks == [stale, current])

        await #expect(throws: FleetError.self) { try await daemon.sendTaskData(taskID: "unknown", records: logRecords(1, tag: "x")) }
        await #expect(throws: FleetError.self) { try await daemon.sendTaskData(taskID: "new", records: []) }

        await fleet.shutdown()
        try await node.stop()
        let stored = try readAll(node.directory.path).map(\.1)
        #expect(stored == logRecords(2, tag: "current"), "only the admitted batch is in the WAL")
    }

    @Test func pausedHeartbeatsStopRenewalsAndKillClosesTheSession() async throws {
        let control = StubControl(onOpen: [.assign(sampleAssignment)])
        let node = try await TestNode.start(control: control)
        defer { node.directory.remove() }
        let fleet = try await Fleet.start(count: 3, node: node.address, threads: 1) { i in
            .init(daemonID: "k\(i)", labels: ["doomed": i < 2 ? "yes" : "no"], heartbeatInterval: .milliseconds(30))
        }
        #expect(await eventually {
            let s = control.snapshot
            return s.opened.count == 3 && (0 ..< 3).allSatisfy { s.heartbeats["k\($0)", default: 0] >= 2 }
        }, "every session is open and beating")
        let survivor = try #require(fleet.daemon(id: "k2"))

        // Partition: the connection stays, heartbeats and reports stop, and come back.
        // Once pauseHeartbeats returns no period sends anything, so `sent` is final; wait until
        // the node has every beat sent before the pause (one may still be on the wire).
        survivor.pauseHeartbeats()
        let paused = survivor.heartbeatCounts.sent
        #expect(await eventually { control.snapshot.heartbeats["k2", default: 0] == paused },
                "the node got the \(paused) beats sent before the pause, has \(control.snapshot.heartbeats["k2", default: 0])")
        let pausedReports = control.reports(of: "k2").count
        // Nothing more arrives from k2 while k0 beats six more times (the same 30 ms period).
        let k0Beats = control.snapshot.heartbeats["k0", default: 0]
        #expect(await holds({ control.snapshot.heartbeats["k2", default: 0] == paused && control.reports(of: "k2").count == pausedReports },
                            until: { control.snapshot.heartbeats["k0", default: 0] >= k0Beats + 6 }),
                "paused k2 sent nothing: \(control.snapshot.heartbeats["k2", default: 0]) beats (was \(paused)), \(control.reports(of: "k2").count) reports (was \(pausedReports))")
        #expect(survivor.isConnected && control.snapshot.closed.isEmpty)
        survivor.resumeHeartbeats()
        #expect(await eventually { control.snapshot.heartbeats["k2", default: 0] > paused }, "k2 beats again")

        // Kill two: their sessions close, they run nothing, and the third keeps going.
        let killed = fleet.kill { $0.configuration.labels["doomed"] == "yes" }
        #expect(killed.map(\.configuration.daemonID) == ["k0", "k1"])
        #expect(await eventually { Set(control.snapshot.closed) == ["k0", "k1"] }, "the node saw both sessions close")
        for d in killed {
            #expect(d.isKilled && !d.isConnected && d.runningTasks.isEmpty)
            #expect(d.events.last?.kind == .stopped(task: "nginx-logs", epoch: 3, why: .killed))
            await #expect(throws: FleetError.self) { try await d.sendTaskData(taskID: "nginx-logs", records: logRecords(1, tag: "x")) }
        }
        // No timer survives kill: the killed daemons send no beat (their own count stands still,
        // and the node sees none) while the survivor beats four more times.
        let beats = control.snapshot.heartbeats
        let sent = killed.map(\.heartbeatCounts.sent)
        let survivorBeats = beats["k2", default: 0]
        #expect(await holds({
            let now = control.snapshot.heartbeats
            return killed.map(\.heartbeatCounts.sent) == sent && now["k0"] == beats["k0"] && now["k1"] == beats["k1"]
        }, until: { control.snapshot.heartbeats["k2", default: 0] >= survivorBeats + 4 }),
                "no timer survives kill: sent \(killed.map(\.heartbeatCounts.sent)) (was \(sent))")
        #expect(survivor.runningTasks == ["nginx-logs": 3])

        await fleet.shutdown()
        #expect(await eventually { control.snapshot.closed.count == 3 }, "the last session closed")
        try await node.stop()
    }
}
