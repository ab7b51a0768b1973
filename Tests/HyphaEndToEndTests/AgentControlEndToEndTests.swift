import Control
import Foundation
import Platform
import Glibc
import TestSupport
import Testing
import WAL

/// `hypha agent` under the control plane: tasks, leases, incarnations and configuration.
@Suite(.serialized) struct AgentControlEndToEndTests {
    @Test("two agents share a file: the holder of the tail task is killed, the other takes it within lease + heartbeat and resumes")
    func theTaskMovesToTheOtherAgent() async throws {
        let node = try HyphaNode(arguments: ["--flow-lease-ms", "3000", "--heartbeat-interval-ms", "300"])
        defer { node.stop(); node.remove() }
        let logs = TemporaryDirectory("agent-shared")
        defer { logs.remove() }
        let path = logs.file("shared.log")
        let writer = LineWriter(path: path)
        writer.write(2000)
        let agents = try ["a1", "a2"].map { try HyphaAgent(nativePorts: [node.port("native")], id: $0) }
        defer { for agent in agents { agent.stop(SIGKILL); agent.remove() } }
        for agent in agents { #expect(agent.waitForLog("session open"), "\(agent.id): \(agent.log)") }
        let task = try #require(try node.createTasks([#"{"kind":"tail","stream":"shared","parameters":{"path":"\#(path)","from":"start"}}"#]).first)
        #expect(node.waitForLines(2000), "the holder reads the file")
        let first = try node.task(task.id)
        let holder = try #require(agents.first { $0.id == first.lease?.holder }, "held by \(String(describing: first.lease))")
        let other = try #require(agents.first { $0 !== holder })
        #expect(try await eventually { try !node.task(task.id).checkpoint.isEmpty }, "the holder reports checkpoints")

        let killedAt = WallClock.nanoseconds()
        holder.stop(SIGKILL)
        writer.write(3000)
        #expect(try await eventually(timeout: .seconds(60)) { try node.task(task.id).lease?.holder == other.id }, "the task moves")
        let moved = try node.task(task.id)
        #expect(moved.epoch == first.epoch + 1)
        // Timed by the node's own clock (the grant of the new lease), not by this test's polling,
        // which a loaded machine slows: within the lease (3 s) + a heartbeat (0.3 s) + the
        // control loop's tick (1 s), from the kill.
        let grantedAfter = Double((moved.lease?.grantedAt ?? .max) - killedAt) / 1e9
        #expect(grantedAfter > 0 && grantedAfter <= 3 + 0.3 + 1 + 0.5, "the new lease was granted \(grantedAfter) s after the kill")
        writer.write(1000)
        #expect(node.waitForLines(6000), "the new holder resumes from the checkpoint: \(other.log.suffix(1500))")
        let counts = try node.lineCounts().counts
        let doubled = counts.filter { $0.value > 1 }.keys.sorted()
        // At least once across a move: only lines after the last acknowledged checkpoint repeat.
        #expect(doubled.allSatisfy { $0 > 0 && $0 <= 2000 }, "only lines the dead holder read may repeat: \(doubled.prefix(10))")
    }

    @Test("suspend, resume and terminate are carried out by the agent and acknowledged with its checkpoint")
    func suspendResumeTerminate() async throws {
        let node = try HyphaNode(arguments: ["--flow-lease-ms", "3000", "--heartbeat-interval-ms", "300"])
        defer { node.stop(); node.remove() }
        let agent = try HyphaAgent(nativePorts: [node.port("native")], id: "host-1")
        defer { agent.stop(); agent.remove() }
        #expect(agent.waitForLog("session open"))
        let task = try #require(try node.createTasks([#"{"kind":"hostmetrics","stream":"host","parameters":{"interval_seconds":"1"}}"#]).first)
        #expect(try await eventually { try !node.task(task.id).checkpoint.isEmpty }, "the agent reports the acknowledged checkpoint")
        #expect(try node.http("/api/v1/tasks/\(task.id)/suspend", method: "POST").0 == 202)
        #expect(try await eventually { try node.task(task.id).state == .suspended }, "suspended once the agent acknowledged")
        #expect(try node.http("/api/v1/tasks/\(task.id)/resume", method: "POST").0 == 202)
        #expect(try await eventually { try node.task(task.id).state == .running && node.task(task.id).epoch == 2 }, "resumed at epoch 2")
        #expect(try node.http("/api/v1/tasks/\(task.id)/terminate", method: "POST").0 == 202)
        #expect(try await eventually { try node.task(task.id).state == .terminated })
        let samples = try node.records().compactMap { if case .metric(let m) = $0 { m } else { nil } }
        #expect(!samples.isEmpty, "host metrics were stored")
    }

    @Test("an agent whose heartbeats go unanswered past the lease stops the task at once, and resumes it when the node answers again")
    func aLostLeaseStopsTheTask() async throws {
        let node = try HyphaNode(arguments: ["--flow-lease-ms", "2000", "--heartbeat-interval-ms", "300"])
        defer { kill(node.process.pid, SIGCONT); node.stop(); node.remove() }
        let agent = try HyphaAgent(nativePorts: [node.port("native")], id: "frozen-node", arguments: ["--connect-timeout-s", "10"])
        defer { agent.stop(); agent.remove() }
        #expect(agent.waitForLog("session open"))
        let task = try #require(try node.createTasks([#"{"kind":"hostmetrics","stream":"host","parameters":{"interval_seconds":"1"}}"#]).first)
        #expect(agent.waitForLog("task started"))
        kill(node.process.pid, SIGSTOP)  // the node stops answering; the connection stays open
        #expect(agent.waitForLog("task lease lost; stopped", timeout: .seconds(10)), "\(agent.log.suffix(1500))")
        kill(node.process.pid, SIGCONT)
        #expect(try await eventually(timeout: .seconds(20)) { try node.task(task.id).state == .running }, "the task runs again once the node answers")
    }

    @Test("an agent restarted within its lease without its spool gets a new epoch, and its lines are stored, not taken for duplicates")
    func aRestartWithoutTheSpoolIsANewIncarnation() async throws {
        let node = try HyphaNode(arguments: ["--flow-lease-ms", "10000", "--heartbeat-interval-ms", "300"])
        defer { node.stop(); node.remove() }
        let logs = TemporaryDirectory("agent-incarnation")
        defer { logs.remove() }
        let writer = LineWriter(path: logs.file("app.log"))
        writer.write(1000)
        var agent = try HyphaAgent(nativePorts: [node.port("native")], id: "solo")
        #expect(agent.waitForLog("session open"))
        let task = try #require(try node.createTasks([#"{"kind":"tail","stream":"app","parameters":{"path":"\#(logs.file("app.log"))","from":"start"}}"#]).first)
        #expect(node.waitForLines(1000))
        let epoch = try node.task(task.id).epoch
        agent.stop(SIGKILL)
        agent.remove()
        writer.write(1000)
        agent = try HyphaAgent(nativePorts: [node.port("native")], id: "solo")
        defer { agent.stop(); agent.remove() }
        #expect(try await eventually { try node.task(task.id).epoch == epoch + 1 }, "a new incarnation gets the next epoch at once, within the lease")
        #expect(node.waitForLines(2000), "the restarted agent's lines are stored: \(agent.log.suffix(1500))")
    }

    @Test("a pushed configuration is applied and survives a restart; a bad one is refused and the rollout rolls back")
    func configuration() async throws {
        let node = try HyphaNode(arguments: ["--heartbeat-interval-ms", "200"])
        defer { node.stop(); node.remove() }
        let spool = TemporaryDirectory("agent-config").path
        var agent = try HyphaAgent(nativePorts: [node.port("native")], id: "cfg", spool: spool, arguments: ["--label", "env=prod"])
        defer { agent.stop(); agent.remove() }
        #expect(agent.waitForLog("session open"))
        let (s1, b1) = try node.http("/api/v1/config/agent?labels=env=prod", method: "PUT", body: "batch_kib: 64\nlinger_ms: 20\n", contentType: "text/yaml")
        #expect(s1 == 201, "\(b1)")
        #expect(agent.waitForLog("config applied"), "\(agent.log.suffix(1000))")
        #expect(try await eventually { try node.http("/api/v1/daemons/cfg").1.contains(#""state":"applied""#) }, "the node records applied")

        let bad = #"{"content":"batch_kib: 999999\n","selector":{"labels":{"env":"prod"}},"rollout":{"batch_size":1,"gate_seconds":0.3,"max_failure_percent":0}}"#
        let (s2, b2) = try node.http("/api/v1/config/agent", method: "PUT", body: bad, contentType: "application/json")
        #expect(s2 == 201, "\(b2)")
        let rolloutID = try #require(rolloutIdentifier(b2))
        #expect(try await eventually(timeout: .seconds(20)) { try node.http("/api/v1/rollouts/\(rolloutID)").1.contains(#""state":"rolled_back""#) })
        #expect(agent.log.contains("config refused"), "the agent says why: \(agent.log.suffix(1000))")

        agent.stop()
        let saved = try String(contentsOfFile: spool + "/config/agent", encoding: .utf8)
        #expect(saved.contains("batch_kib: 64"), "the last applied version is kept: \(saved)")
        agent = try HyphaAgent(nativePorts: [node.port("native")], id: "cfg", spool: spool, arguments: ["--label", "env=prod"])
        #expect(agent.waitForLog("session open"))
        #expect(!agent.log.contains("no longer validate"), "the saved version applies at start")
    }
}
