import Fleet
import Foundation
import Platform
import WAL
import Wire
import NIOCore

/// `hypha bench control`: a node under a fleet of simulated daemons. Measures what the control
/// plane costs while thousands of daemons heartbeat and report checkpoints for tens of
/// thousands of tasks, then kills a share of the daemons and times how long their tasks take to
/// run elsewhere.
///
/// Targets (issue "Control plane II"): 10,000 daemons heartbeating every 5 s with 50,000 tasks
/// take at most 20% of one core, and the tasks of 1,000 lost daemons are reassigned within the
/// lease duration + 1 s.
public struct ControlBenchmark: Sendable {
    public struct Options: Sendable {
        public var daemons = 10_000
        public var tasks = 50_000
        public var kill = 1_000
        public var heartbeatMilliseconds = 5_000
        public var leaseMilliseconds = 10_000
        /// How long the steady state is measured.
        public var steadySeconds = 30.0
        /// Event loops of the simulated fleet.
        public var fleetThreads = 1
        public var binary = ServerProcess.currentBinary
        public var serverArguments: [String] = []
        public init() {}
    }

    public struct Result: Sendable, Codable {
        public var daemons: Int
        public var tasks: Int
        public var killed: Int
        public var heartbeatSeconds: Double
        public var leaseSeconds: Double
        /// From the first connect until every daemon had HELLO_OK.
        public var connectSeconds: Double
        /// From the first create request until every task ran on a daemon.
        public var placeSeconds: Double
        /// Heartbeats the fleet sent per second during the steady window.
        public var heartbeatsPerSecond: Double
        /// Server CPU (all threads) during the steady window, in % of one core.
        public var serverCorePercent: Double
        /// The control loop thread alone during the steady window, in % of one core.
        public var controlLoopCorePercent: Double
        public var tasksOfKilled: Int
        /// Slowest and median time from the kill to the task running on another daemon.
        public var reassignMaxSeconds: Double
        public var reassignMedianSeconds: Double
        /// Whether every task of the killed daemons runs again on exactly one live daemon.
        public var allReassigned: Bool
        /// Tasks seen on two daemons at once in the fleet's log (must be 0).
        public var overlaps: Int
        public var serverPeakRSSBytes: Int
        /// Server resident memory after the fleet connected, after the tasks were placed, and
        /// at the end of the steady window.
        public var serverRSSBytes: [String: Int]

        public var meetsTargets: Bool { serverCorePercent <= 20 && allReassigned && overlaps == 0 && reassignMaxSeconds <= leaseSeconds + 1 }

        public func humanReport() -> String {
            func f(_ v: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", v) }
            return """
                control plane: \(daemons) daemons heartbeating every \(f(heartbeatSeconds, 1)) s, \(tasks) tasks, lease \(f(leaseSeconds, 1)) s
                  connect       \(f(connectSeconds)) s for every daemon's HELLO_OK
                  place         \(f(placeSeconds)) s until every task ran
                  steady        \(f(heartbeatsPerSecond, 0)) heartbeats/s; server \(f(serverCorePercent, 1))% of one core (control loop \(f(controlLoopCorePercent, 1))%)   target <= 20%
                  kill          \(killed) daemons holding \(tasksOfKilled) tasks
                  reassigned    \(allReassigned ? "all" : "NOT all"), slowest \(f(reassignMaxSeconds)) s, median \(f(reassignMedianSeconds)) s after the kill   target <= \(f(leaseSeconds + 1, 1)) s
                  run twice     \(overlaps) tasks on two daemons at once
                  server RSS    connected \((serverRSSBytes["connected"] ?? 0) >> 20) MiB, placed \((serverRSSBytes["placed"] ?? 0) >> 20) MiB, steady \((serverRSSBytes["steady"] ?? 0) >> 20) MiB, peak \(serverPeakRSSBytes >> 20) MiB
                  \(meetsTargets ? "targets met" : "targets NOT met")
                """
        }
    }

    public let options: Options
    public init(options: Options) { self.options = options }

    /// Runs the benchmark; `progress` gets one line per phase.
    public func run(progress: @Sendable (String) -> Void = { _ in }) async throws -> Result {
        let o = options
        guard o.daemons >= 2, o.tasks >= 1, (1 ..< o.daemons).contains(o.kill) else {
            throw BenchError("need at least 2 daemons, 1 task, and 1 to daemons - 1 killed")
        }
        FileLimit.raiseToHard()
        let directory = try ThroughputRunner.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServerProcess(
            binary: o.binary, dataDirectory: directory,
            arguments: [
                "--flow-lease-ms", "\(o.leaseMilliseconds)", "--heartbeat-interval-ms", "\(o.heartbeatMilliseconds)",
                "--max-connections", "\(o.daemons + 64)", "--max-daemons", "\(o.daemons * 2)", "--max-tasks", "\(o.tasks * 2)",
                "--offline-after-s", "\(max(30, 3 * o.heartbeatMilliseconds / 1000))",
            ] + o.serverArguments)
        defer { server.stop(SIGKILL) }
        guard let native = server.ports["native"], let http = server.ports["http"] else { throw BenchError("the node has no native or HTTP port") }
        let probe = NodeProbe(port: http)

        progress("connecting \(o.daemons) simulated daemons")
        let connectStart = Date()
        let fleet = try await Fleet.start(
            count: o.daemons, node: try SocketAddress(ipAddress: "127.0.0.1", port: native), threads: o.fleetThreads,
            timeout: .seconds(120)
        ) { i in
            SimulatedDaemon.Configuration(daemonID: String(format: "daemon-%05d", i), region: i % 2 == 0 ? "eu" : "us", labels: ["rack": "r\(i % 50)"])
        }
        defer { Task { await fleet.shutdown() } }
        let connectSeconds = Date().timeIntervalSince(connectStart)
        var rss = ["connected": ProcessStats.memory(pid: server.pid).resident]

        progress("creating \(o.tasks) tasks")
        let placeStart = Date()
        var created = 0
        while created < o.tasks {
            let n = min(10_000, o.tasks - created)
            let specs = (created ..< created + n).map { i in
                // A third with no constraint, a third per region: placement has to honour selectors.
                let selector = i % 3 == 0 ? "" : #","selector":{"region":"\#(i % 3 == 1 ? "eu" : "us")"}"#
                return #"{"kind":"exec","stream":"bench","parameters":{"command":"job \#(i)"}\#(selector)}"#
            }
            let reply = try probe.send("POST", "/api/v1/tasks", json: #"{"tasks":[\#(specs.joined(separator: ","))]}"#)
            guard reply.contains(#""total":\#(n)"#) else { throw BenchError("creating tasks failed: \(reply.prefix(300))") }
            created += n
        }
        try await waitUntil(seconds: 300, "every task to run") { fleet.daemons.reduce(0) { $0 + $1.runningTasks.count } == o.tasks }
        let placeSeconds = Date().timeIntervalSince(placeStart)
        rss["placed"] = ProcessStats.memory(pid: server.pid).resident

        progress("steady state for \(Int(o.steadySeconds)) s")
        // One full heartbeat period first, so every daemon's reports are in their stride.
        try await Task.sleep(for: .milliseconds(o.heartbeatMilliseconds))
        let beats0 = fleet.daemons.reduce(0) { $0 + $1.heartbeatCounts.sent }
        let cpu0 = server.cpuSeconds(), loop0 = ProcessStats.cpuSeconds(pid: server.pid, thread: "hypha-control")
        let steadyStart = Date()
        try await Task.sleep(for: .seconds(o.steadySeconds))
        let wall = Date().timeIntervalSince(steadyStart)
        let cpu = server.cpuSeconds() - cpu0, loop = ProcessStats.cpuSeconds(pid: server.pid, thread: "hypha-control") - loop0
        let beats = fleet.daemons.reduce(0) { $0 + $1.heartbeatCounts.sent } - beats0
        rss["steady"] = ProcessStats.memory(pid: server.pid).resident

        progress("killing \(o.kill) daemons")
        let victims = Array(fleet.daemons.prefix(o.kill))
        let orphaned = Set(victims.flatMap(\.runningTasks.keys))
        let killedAt = WallClock.nanoseconds()
        for v in victims { v.kill() }
        let survivors = fleet.daemons.dropFirst(o.kill)
        let allBack = (try? await waitUntil(seconds: Double(o.leaseMilliseconds) / 1000 + 30, "the orphaned tasks to run again") {
            var running = 0
            for d in survivors { running += d.runningTasks.keys.reduce(0) { $0 + (orphaned.contains($1) ? 1 : 0) } }
            return running == orphaned.count
        }) != nil

        var delays: [Double] = []
        var seen: Set<String> = []
        let events = fleet.events
        for event in events where event.wallNanoseconds >= killedAt {
            guard case .assigned(let task, _, _) = event.kind, orphaned.contains(task), !seen.contains(task) else { continue }
            seen.insert(task)
            delays.append(Double(event.wallNanoseconds - killedAt) / 1e9)
        }
        delays.sort()
        let result = Result(
            daemons: o.daemons, tasks: o.tasks, killed: o.kill, heartbeatSeconds: Double(o.heartbeatMilliseconds) / 1000,
            leaseSeconds: Double(o.leaseMilliseconds) / 1000, connectSeconds: connectSeconds, placeSeconds: placeSeconds,
            heartbeatsPerSecond: Double(beats) / wall, serverCorePercent: 100 * cpu / wall, controlLoopCorePercent: 100 * loop / wall,
            tasksOfKilled: orphaned.count, reassignMaxSeconds: delays.last ?? .infinity,
            reassignMedianSeconds: delays.isEmpty ? .infinity : delays[delays.count / 2],
            allReassigned: allBack && seen.count == orphaned.count, overlaps: FleetEvent.concurrentRuns(in: events).count, serverPeakRSSBytes: server.peakRSS(), serverRSSBytes: rss)
        return result
    }

    private func waitUntil(seconds: Double, _ what: String, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            guard Date() < deadline else { throw BenchError("timed out after \(Int(seconds)) s waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
