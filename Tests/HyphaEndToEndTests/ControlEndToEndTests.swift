@testable import Control
import Fleet
import Foundation
import Platform
import WAL
import Wire
import NIOCore
import Testing
import TestSupport

/// The control plane of a real `hypha serve` driven by simulated daemons over loopback: task
/// placement, lease expiry and reassignment, fencing, configuration pushes and rollouts.
@Suite("Control plane end to end", .serialized)
struct ControlEndToEndTests {
    @Test("20 daemons, 100 tasks: killing 5 moves their tasks within lease + heartbeat; none lost, none run twice at once")
    func killedDaemonsLoseTheirTasks() async throws {
        let lease = 3_000, heartbeat = 750
        let node = try HyphaNode(arguments: ["--flow-lease-ms", "\(lease)", "--heartbeat-interval-ms", "\(heartbeat)"])
        defer { node.stop(); node.remove() }
        let fleet = try await Fleet.start(count: 20, node: try node.nativeAddress(), threads: 2) {
            SimulatedDaemon.Configuration(daemonID: "d\($0)")
        }
        let created = try node.createTasks((0 ..< 100).map { #"{"kind":"exec","stream":"jobs","parameters":{"command":"echo \#($0)"}}"# })
        #expect(created.count == 100)
        #expect(await eventually { fleet.daemons.reduce(0) { $0 + $1.runningTasks.count } == 100 }, "every task is placed")
        for d in fleet.daemons { #expect(d.runningTasks.count == 5, "\(d.configuration.daemonID) runs \(d.runningTasks.count) tasks; spread evenly is 5") }

        let victims = Array(fleet.daemons.prefix(5))
        var lastCheckpoint: [String: UInt64] = [:]
        for v in victims {
            for task in v.runningTasks.keys { lastCheckpoint[task] = offset(v.checkpoint(ofTask: task)) }
        }
        let killedAt = WallClock.nanoseconds()
        for v in victims { v.kill() }
        let survivors = Array(fleet.daemons.dropFirst(5))
        let allBack = await eventually(timeout: .seconds(15)) {
            Set(survivors.flatMap(\.runningTasks.keys)).count == 100
        }
        #expect(allBack, "every task of the killed daemons runs again")

        let events = fleet.events
        for (task, checkpoint) in lastCheckpoint {
            let moved = events.first { event in
                if case .assigned(task, let epoch, _) = event.kind, epoch == 2 { true } else { false }
            }
            guard let moved, case .assigned(_, _, let resumedFrom) = moved.kind else {
                Issue.record("task \(task) was not reassigned with epoch 2")
                continue
            }
            let delay = moved.wallNanoseconds - killedAt
            #expect(delay <= Int64(lease + heartbeat) * 1_000_000, "task \(task) moved \(delay / 1_000_000) ms after the kill")
            #expect(!victims.contains { $0.configuration.daemonID == moved.daemonID }, "task \(task) went to a live daemon")
            #expect(offset(resumedFrom) >= checkpoint, "task \(task) resumed from \(resumedFrom), its holder had reached \(checkpoint)")
        }
        #expect(FleetEvent.concurrentRuns(in: events).isEmpty, "no task ran on two daemons at once: \(FleetEvent.concurrentRuns(in: events))")

        let tasks = try node.tasks()
        #expect(tasks.count == 100 && tasks.allSatisfy { $0.state == .running }, "the API lists 100 running tasks")
        for task in tasks {
            let wasMoved = lastCheckpoint[task.id] != nil
            #expect(task.epoch == (wasMoved ? 2 : 1), "task \(task.id) epoch \(task.epoch): only moved tasks change epoch")
            #expect(!victims.contains { $0.configuration.daemonID == task.lease?.holder }, "task \(task.id) is held by \(task.lease?.holder ?? "nobody")")
        }
        await fleet.shutdown()
    }

    @Test("A partitioned holder loses its task; its stale-epoch data is refused, the new holder's is stored")
    func staleEpochIsFenced() async throws {
        let node = try HyphaNode(arguments: ["--flow-lease-ms", "1000", "--heartbeat-interval-ms", "200"])
        defer { node.stop(); node.remove() }
        let fleet = try await Fleet.start(count: 2, node: try node.nativeAddress(), threads: 1) {
            SimulatedDaemon.Configuration(daemonID: "p\($0)")
        }
        let task = try #require(try node.createTasks([#"{"kind":"tail","stream":"app","parameters":{"path":"/var/log/app/*.log"}}"#]).first)
        #expect(await eventually { fleet.daemons.contains { $0.runningTasks[task.id] == 1 } })
        let holder = try #require(fleet.daemons.first { $0.runningTasks[task.id] != nil })
        let other = try #require(fleet.daemons.first { $0 !== holder })
        let first = try await holder.sendTaskData(taskID: task.id, records: [record("before the partition")])
        #expect(first.isAcknowledged, "the holder's data is stored: \(first)")
        let staleProducer = try #require(holder.assignments.last?.producerID)

        holder.pauseHeartbeats()
        #expect(await eventually(timeout: .seconds(10)) { other.runningTasks[task.id] == 2 }, "the task moves with epoch 2")
        let stale = try await holder.sendBatch(producerID: staleProducer, sequence: 2, records: [record("stale"), record("stale too")])
        #expect(!stale.isAcknowledged && stale.rejections.count == 2, "a stale-epoch batch is refused whole: \(stale)")
        #expect(stale.rejections.allSatisfy { $0.code == NativeRejectCode.fenced.rawValue && $0.reason.contains("epoch") }, "\(stale.rejectReasons)")
        let fresh = try await other.sendTaskData(taskID: task.id, records: [record("after the move")])
        #expect(fresh.isAcknowledged, "the new holder's data is stored: \(fresh)")
        #expect(holder.events.contains { if case .revoked(task.id, 1) = $0.kind { true } else { false } }, "the old holder was told to stop")

        await fleet.shutdown()
        let (_, metrics) = try node.http("/metrics")
        #expect(metrics.contains("hypha_control_fenced_batches_total 1"), "the refusal is counted")
        node.stop()
        let texts = try node.records().compactMap { record -> String? in if case .log(let l) = record { l.message } else { nil } }
        #expect(texts.contains("before the partition") && texts.contains("after the move"))
        #expect(!texts.contains("stale") && !texts.contains("stale too"), "nothing of the fenced batch was written: \(texts)")
    }

    @Test("Suspend, resume and terminate go through the holder's acknowledgements")
    func suspendResumeTerminate() async throws {
        let node = try HyphaNode(arguments: ["--flow-lease-ms", "1500", "--heartbeat-interval-ms", "300"])
        defer { node.stop(); node.remove() }
        let fleet = try await Fleet.start(count: 1, node: try node.nativeAddress(), threads: 1) { _ in
            SimulatedDaemon.Configuration(daemonID: "solo")
        }
        let daemon = fleet.daemons[0]
        let task = try #require(try node.createTasks([#"{"kind":"hostmetrics","stream":"host"}"#]).first)
        #expect(await eventually { daemon.runningTasks[task.id] == 1 })
        let (_, page) = try node.http("/api/v1/daemons/solo")
        #expect(page.contains(#""id":"\#(task.id)""#), "the daemon's page lists the task it holds: \(page)")

        let (suspendStatus, _) = try node.http("/api/v1/tasks/\(task.id)/suspend", method: "POST")
        #expect(suspendStatus == 202)
        #expect(try await eventually { try node.task(task.id).state == .suspended }, "suspended once the holder acknowledged")
        #expect(daemon.runningTasks[task.id] == nil)

        let (resumeStatus, _) = try node.http("/api/v1/tasks/\(task.id)/resume", method: "POST")
        #expect(resumeStatus == 202)
        #expect(await eventually { daemon.runningTasks[task.id] == 2 }, "resumed with epoch 2")
        let (again, body) = try node.http("/api/v1/tasks/\(task.id)/resume", method: "POST")
        #expect(again == 409, "resuming a running task is a conflict: \(body)")

        let (terminateStatus, _) = try node.http("/api/v1/tasks/\(task.id)/terminate", method: "POST")
        #expect(terminateStatus == 202)
        #expect(try await eventually { try node.task(task.id).state == .terminated })
        #expect(daemon.runningTasks.isEmpty)
        await fleet.shutdown()
    }

    @Test("Configuration goes to connected daemons at once and to late ones at hello; a failing rollout rolls back")
    func configurationAndRollouts() async throws {
        let node = try HyphaNode(arguments: ["--heartbeat-interval-ms", "200"])
        defer { node.stop(); node.remove() }
        // c2 fails to apply any version after the first.
        let fleet = try await Fleet.start(count: 4, node: try node.nativeAddress(), threads: 1) { i in
            SimulatedDaemon.Configuration(daemonID: "c\(i)", labels: ["env": "prod"], configPolicy: { push in
                i == 2 && push.version > 1 ? .failed : .applied
            })
        }
        let (s1, b1) = try node.http("/api/v1/config/agent?labels=env=prod", method: "PUT", body: "level: info\n", contentType: "application/yaml")
        #expect(s1 == 201, "\(b1)")
        #expect(await eventually { fleet.daemons.allSatisfy { $0.appliedConfigs["agent"]?.version == 1 } }, "every daemon applied version 1")
        #expect(try await eventually { try node.http("/api/v1/daemons/c0").1.contains(#""state":"applied""#) }, "the daemon's page shows what it applied")

        let late = try await Fleet.start(count: 1, node: try node.nativeAddress(), threads: 1) { _ in
            SimulatedDaemon.Configuration(daemonID: "late", labels: ["env": "prod"])
        }
        #expect(await eventually { late.daemons[0].appliedConfigs["agent"]?.version == 1 }, "a daemon that connects later gets the current version")

        let envelope = #"{"content":"level: debug\n","selector":{"labels":{"env":"prod"}},"rollout":{"batch_size":1,"gate_seconds":0.3,"max_failure_percent":0}}"#
        let (s2, b2) = try node.http("/api/v1/config/agent", method: "PUT", body: envelope, contentType: "application/json")
        #expect(s2 == 201, "\(b2)")
        let rolloutID = try #require(rolloutIdentifier(b2))
        var rollout = ""
        let rolledBack = try await eventually(timeout: .seconds(20)) {
            rollout = try node.http("/api/v1/rollouts/\(rolloutID)").1
            return rollout.contains(#""state":"rolled_back""#)
        }
        #expect(rolledBack, "the rollout stops when c2 fails: \(rollout)")
        #expect(await eventually { fleet.daemons.allSatisfy { $0.appliedConfigs["agent"]?.version == 1 } }, "every daemon is back on version 1")
        let (_, history) = try node.http("/api/v1/config/agent")
        #expect(history.contains(#""last_known_good":1"#) && history.contains(#""current":1"#), "\(history)")

        let (s3, b3) = try node.http("/api/v1/config/agent?labels=env=prod&batch_size=1&gate_seconds=30", method: "PUT", body: "level: warn\n", contentType: "text/yaml")
        #expect(s3 == 201, "\(b3)")
        let third1 = try #require(rolloutIdentifier(b3))
        #expect(try node.http("/api/v1/rollouts/\(third1)/pause", method: "POST").0 == 200)
        #expect(try node.http("/api/v1/rollouts/\(third1)/resume", method: "POST").0 == 200)
        let (aborted, abortBody) = try node.http("/api/v1/rollouts/\(third1)/abort", method: "POST")
        #expect(aborted == 200 && abortBody.contains(#""state":"aborted""#), "\(abortBody)")
        #expect(await eventually { fleet.daemons.allSatisfy { $0.appliedConfigs["agent"]?.version == 1 } }, "abort rolls back to version 1")
        let (bad, badBody) = try node.http("/api/v1/config/agent", method: "PUT", body: "key: [unclosed\n", contentType: "text/yaml")
        #expect(bad == 400 && badBody.contains("line"), "invalid YAML is refused with its line: \(badBody)")
        await late.shutdown()
        await fleet.shutdown()
    }

    @Test("Creating tasks and pushing configuration need the admin token when one is set; bad specs name the field")
    func adminTokenAndBadRequests() throws {
        let node = try HyphaNode(arguments: ["--admin-token", "s3cret"])
        defer { node.stop(); node.remove() }
        let spec = #"{"kind":"tail","stream":"app","parameters":{"path":"/var/log/*.log"}}"#
        #expect(try node.http("/api/v1/tasks", method: "POST", body: spec).0 == 401)
        #expect(try node.http("/api/v1/config/agent", method: "PUT", body: "a: 1\n", contentType: "text/yaml").0 == 401)
        let token = ["Authorization: Bearer s3cret"]
        let (created, body) = try node.http("/api/v1/tasks", method: "POST", body: spec, headers: token)
        #expect(created == 201, "\(body)")
        let (relative, relativeBody) = try node.http(
            "/api/v1/tasks", method: "POST", body: #"{"kind":"tail","stream":"app","parameters":{"path":"logs/*.log"}}"#, headers: token)
        #expect(relative == 400 && relativeBody.contains("path"), "a relative tail path is refused, naming the field: \(relativeBody)")
        let (unknown, unknownBody) = try node.http("/api/v1/tasks", method: "POST", body: #"{"kind":"ftp","stream":"x"}"#, headers: token)
        #expect(unknown == 400, "an unknown kind is refused: \(unknownBody)")
        let (missing, missingBody) = try node.http("/api/v1/tasks/t-999/suspend", method: "POST", headers: token)
        #expect(missing == 404, "\(missingBody)")
        let (listed, list) = try node.http("/api/v1/tasks?state=bogus")
        #expect(listed == 400 && list.contains("unknown state"), "\(list)")
    }

    @Test("After SIGKILL of the node, tasks, leases, checkpoints, versions and rollouts are back, and no task moves")
    func controlStateSurvivesSIGKILL() async throws {
        let lease = 4_000
        let arguments = ["--flow-lease-ms", "\(lease)", "--heartbeat-interval-ms", "300"]
        let node = try HyphaNode(arguments: arguments)
        defer { node.remove() }
        let ids = (0 ..< 5).map { "k\($0)" }
        // Daemons that keep their state while the node restarts: the same incarnation at both HELLOs.
        let incarnations = ids.map { _ in DaemonIncarnation.random() }
        let fleet = try await Fleet.start(count: 5, node: try node.nativeAddress(), threads: 1) { i in
            SimulatedDaemon.Configuration(daemonID: ids[i], labels: ["env": "prod"], incarnation: incarnations[i])
        }
        _ = try node.createTasks((0 ..< 10).map { #"{"kind":"exec","stream":"s","parameters":{"command":"job \#($0)"}}"# })
        #expect(await eventually { fleet.daemons.reduce(0) { $0 + $1.runningTasks.count } == 10 })
        #expect(try node.http("/api/v1/config/agent", method: "PUT", body: "a: 1\n", contentType: "text/yaml").0 == 201)
        let (s2, b2) = try node.http("/api/v1/config/agent?batch_size=1&gate_seconds=60", method: "PUT", body: "a: 2\n", contentType: "text/yaml")
        #expect(s2 == 201, "\(b2)")
        #expect(try await eventually(every: .milliseconds(100)) { try node.tasks().allSatisfy { offset($0.checkpoint) >= 2 } },
                "every task reported a few checkpoints")
        let before = try node.tasks()
        // Checkpoints are committed at most once per flush interval: wait until the store on
        // disk holds every checkpoint of `before` (what SIGKILL must keep).
        var stored: [String: [String: String]] = [:]
        #expect(await eventually(timeout: .seconds(15), every: .milliseconds(200)) {
            stored = node.storedCheckpoints() ?? [:]
            return before.allSatisfy { offset(stored[$0.id]) >= offset($0.checkpoint) }
        }, "the store holds the checkpoints the API showed: \(before.map { "\($0.id) \(offset($0.checkpoint)) stored \(offset(stored[$0.id]))" })")
        let (_, rolloutsBefore) = try node.http("/api/v1/rollouts")

        node.stop(SIGKILL)
        await fleet.shutdown()
        let restarted = try HyphaNode(data: node.data, arguments: arguments)
        defer { restarted.stop() }
        let after = try restarted.tasks()
        #expect(after.map(\.id) == before.map(\.id), "the same tasks")
        for (a, b) in zip(after, before) {
            #expect(a.state == b.state && a.epoch == b.epoch && a.lease?.holder == b.lease?.holder, "task \(a.id) kept its state, epoch and holder")
            #expect(offset(a.checkpoint) >= offset(b.checkpoint), "task \(a.id) checkpoint \(a.checkpoint) is not older than \(b.checkpoint)")
        }
        let (_, config) = try restarted.http("/api/v1/config/agent")
        #expect(config.contains(#""version":1"#) && config.contains(#""version":2"#), "both versions are back: \(config)")
        let (_, rolloutsAfter) = try restarted.http("/api/v1/rollouts")
        #expect(rolloutsAfter.contains(#""state":"running""#) && rolloutsBefore.contains(#""state":"running""#), "the rollout is still running: \(rolloutsAfter)")

        // The holders come back within the grace: every task stays where it was, same epoch.
        let again = try await Fleet.start(count: 5, node: try restarted.nativeAddress(), threads: 1) { i in
            SimulatedDaemon.Configuration(daemonID: ids[i], labels: ["env": "prod"], incarnation: incarnations[i])
        }
        #expect(await eventually { again.daemons.reduce(0) { $0 + $1.runningTasks.count } == 10 }, "holders get their tasks back at hello")
        // The restored leases get one lease of grace from the restart: that time passing is what
        // is under test. No task may move, checked all through the grace and half a second past it.
        var settled = before
        let stayed = try await holds(for: .milliseconds(lease + 500), every: .milliseconds(250)) {
            settled = try restarted.tasks()
            return settled.count == before.count
                && zip(settled, before).allSatisfy { $0.epoch == $1.epoch && $0.lease?.holder == $1.lease?.holder }
        }
        #expect(stayed, "no task moved after the restart")
        for (a, b) in zip(settled, before) {
            #expect(a.epoch == b.epoch && a.lease?.holder == b.lease?.holder,
                    "task \(a.id) did not move after the restart: epoch \(a.epoch) holder \(a.lease?.holder ?? "-"), was \(b.epoch) \(b.lease?.holder ?? "-")")
        }
        await again.shutdown()
    }
}

// MARK: Helpers

extension HyphaNode {
    func nativeAddress() throws -> SocketAddress { try SocketAddress(ipAddress: "127.0.0.1", port: port("native")) }

    /// Creates tasks from JSON specs in one request.
    func createTasks(_ specs: [String]) throws -> [TaskRecord] {
        let (status, body) = try http("/api/v1/tasks", method: "POST", body: #"{"tasks":[\#(specs.joined(separator: ","))]}"#)
        guard status == 201 else { throw NodeError(message: "POST /api/v1/tasks: \(status) \(body)") }
        return try JSONDecoder().decode(TaskPage.self, from: Data(body.utf8)).tasks
    }

    func tasks() throws -> [TaskRecord] {
        let (status, body) = try http("/api/v1/tasks?limit=100000")
        guard status == 200 else { throw NodeError(message: "GET /api/v1/tasks: \(status) \(body)") }
        return try JSONDecoder().decode(TaskPage.self, from: Data(body.utf8)).tasks
    }

    func task(_ id: String) throws -> TaskRecord {
        let (status, body) = try http("/api/v1/tasks/\(id)")
        guard status == 200 else { throw NodeError(message: "GET /api/v1/tasks/\(id): \(status) \(body)") }
        return try JSONDecoder().decode(TaskRecord.self, from: Data(body.utf8))
    }
}

extension HyphaNode {
    /// The task checkpoints in the node's control store as they are on disk now, by task id:
    /// read from a copy (the running node keeps writing the original; the copy's recovery cuts
    /// a record torn by the copy). `nil` when the copy cannot be opened (a compaction renamed
    /// files while it was taken): try again.
    func storedCheckpoints() -> [String: [String: String]]? {
        let copy = TemporaryDirectory("hypha-store-copy")
        defer { copy.remove() }
        do {
            try FileManager.default.removeItem(atPath: copy.path)
            try FileManager.default.copyItem(atPath: data + "/control/store", toPath: copy.path)
            let store = try FileControlStore(directory: copy.path)
            var checkpoints: [String: [String: String]] = [:]
            for entry in store.values(under: ControlKeys.checkpoints) {
                checkpoints[String(entry.key.dropFirst(ControlKeys.checkpoints.count))] = CheckpointCodec.decode(entry.value)
            }
            return checkpoints
        } catch {
            return nil
        }
    }
}

struct TaskPage: Decodable {
    let tasks: [TaskRecord]
    let total: Int
}

/// The simulated daemons' progress: the largest number in a checkpoint.
func offset(_ checkpoint: [String: String]?) -> UInt64 { checkpoint?.values.compactMap { UInt64($0) }.max() ?? 0 }

func record(_ message: String) -> Record {
    .log(LogRecord(timestamp: WallClock.nanoseconds(), host: "fleet", app: "app", message: message, fields: [("stream", "app")]))
}

/// `rollout.id` of a PUT /api/v1/config reply.
func rolloutIdentifier(_ body: String) -> String? {
    let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    return (object?["rollout"] as? [String: Any])?["id"] as? String
}
