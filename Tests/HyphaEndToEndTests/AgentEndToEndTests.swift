import Foundation
import Glibc
import TestSupport
import Testing

/// `hypha agent` and `hypha serve`, both real processes on loopback: files followed through
/// rotation, crashes of either side, a full spool, a task moving between agents, and pushed
/// configuration.
@Suite(.serialized) struct AgentEndToEndTests {
    /// Every line 1...n exactly once.
    private func expectExactlyOnce(_ counts: [Int: Int], _ n: Int, _ comment: String) {
        let missing = (1 ... n).filter { counts[$0] == nil }
        let doubled = counts.filter { $0.value > 1 }.keys.sorted()
        let (noneMissing, noneDoubled, distinct) = (missing.isEmpty, doubled.isEmpty, counts.count)
        #expect(noneMissing, "\(comment): \(missing.count) lines missing, first \(missing.prefix(10))")
        #expect(noneDoubled, "\(comment): \(doubled.count) lines stored twice, first \(doubled.prefix(10))")
        #expect(distinct == n, "\(comment): \(distinct) distinct lines, expected \(n)")
    }

    @Test("tail through rename rotation, copytruncate and truncation: every line exactly once")
    func tailThroughRotations() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        let logs = TemporaryDirectory("agent-logs")
        defer { logs.remove() }
        let path = logs.file("app.log")
        let writer = LineWriter(path: path)
        writer.write(3000)
        let agent = try HyphaAgent(nativePorts: [node.port("native")], arguments: ["--tail", path, "--tail-from", "start"])
        defer { agent.remove() }
        #expect(agent.waitForLog("session open"), "the agent connects: \(agent.log)")
        #expect(node.waitForLines(3000), "the first lines arrive")

        // Rotation by rename: the old file is read to its end, the new one from its start.
        writer.write(500)
        #expect(rename(path, path + ".1") == 0)
        writer.write(2500)
        #expect(node.waitForLines(6000), "lines on both sides of a rename")

        // copytruncate: what was read stays, the truncated file is read again from its start.
        _ = try runProcess("/bin/cp", [path, path + ".2"])
        #expect(truncate(path, 0) == 0)
        writer.write(3000)
        #expect(node.waitForLines(9000), "lines after copytruncate")

        // A plain truncation, then lines longer than what was there.
        #expect(truncate(path, 0) == 0)
        writer.write(1000, bytes: 300)
        #expect(node.waitForLines(10_000), "lines after truncation")

        let agentOutput = agent.stop()
        #expect(agentOutput.status == 0, "the agent stops cleanly on SIGTERM: \(agentOutput)")
        #expect(agentOutput.stderr.contains("everything read was acknowledged"))
        node.stop()
        expectExactlyOnce(try node.lineCounts().counts, 10_000, "after rotations")
    }

    @Test("SIGKILL the node, then the agent, mid-stream: nothing lost, nothing twice")
    func crashesOnEitherSide() throws {
        var node = try HyphaNode()
        let data = node.data
        let port = node.port("native")
        defer { node.remove() }
        let logs = TemporaryDirectory("agent-crash")
        defer { logs.remove() }
        let path = logs.file("app.log")
        let writer = LineWriter(path: path)
        let spool = TemporaryDirectory("agent-crash-spool").path
        var agent = try HyphaAgent(nativePorts: [port], spool: spool, arguments: ["--tail", path, "--tail-from", "start"])
        defer { agent.remove() }
        #expect(agent.waitForLog("session open"))
        writer.write(20_000)
        node.stop(SIGKILL)
        writer.write(10_000)
        node = try HyphaNode(data: data, arguments: ["--native-port", "\(port)"])
        writer.write(10_000)
        #expect(eventuallyBlocking(timeout: .seconds(30)) { (try? node.lineCounts().counts.count) ?? 0 > 30_000 }, "the agent reconnects")
        agent.stop(SIGKILL)
        writer.write(10_000)
        agent = try HyphaAgent(nativePorts: [port], spool: spool, arguments: ["--tail", path, "--tail-from", "start"])
        writer.write(10_000)
        #expect(node.waitForLines(60_000, timeout: .seconds(90)), "every line arrives: \(agent.log.suffix(2000))")
        agent.stop()
        node.stop()
        expectExactlyOnce(try node.lineCounts().counts, 60_000, "after a node crash and an agent crash")
    }

    @Test("node down: the spool fills, reading pauses and /health says so; the node returns and it drains in order")
    func spoolFillsThenDrains() throws {
        var node = try HyphaNode(arguments: ["--heartbeat-interval-ms", "5000"])
        let data = node.data
        let port = node.port("native")
        defer { node.remove() }
        let logs = TemporaryDirectory("agent-full")
        defer { logs.remove() }
        let path = logs.file("app.log")
        let writer = LineWriter(path: path)
        let agent = try HyphaAgent(nativePorts: [port], arguments: ["--tail", path, "--tail-from", "start", "--spool-mib", "1"])
        defer { agent.remove() }
        #expect(agent.waitForLog("session open"))
        writer.write(1000)
        #expect(node.waitForLines(1000))
        node.stop()

        writer.write(40_000, bytes: 200)  // about 8 MiB of text: 1 MiB compressed fills the spool
        #expect(agent.waitForLog("the spool is full"), "the agent says its spool is full: \(agent.log.suffix(1000))")

        node = try HyphaNode(data: data, arguments: ["--native-port", "\(port)", "--heartbeat-interval-ms", "5000"])
        let reported = eventuallyBlocking(timeout: .seconds(20)) {
            (try? node.http("/health").1)?.contains("spool full") ?? false
        }
        #expect(reported, "/health names the full spool")
        #expect(node.waitForLines(41_000, timeout: .seconds(90)), "everything drains once the node is back")
        agent.stop()
        node.stop()
        let (counts, order) = try node.lineCounts()
        expectExactlyOnce(counts, 41_000, "after a full spool")
        for numbers in order where !numbers.isEmpty {
            #expect(numbers == numbers.sorted(), "one host's lines are stored in the order they were written")
        }
    }
}
