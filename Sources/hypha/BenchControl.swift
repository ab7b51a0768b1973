import ArgumentParser
import Bench
import Foundation

struct BenchControl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "Load the control plane with simulated daemons and tasks; kill some daemons and time the reassignment.",
        discussion: """
            Starts `hypha serve` on a temporary data directory and connects --daemons simulated \
            daemons (Fleet: real native-protocol connections over loopback, from this process) that \
            heartbeat every --heartbeat-ms and report a checkpoint for each task they run before \
            every heartbeat. Creates --tasks exec tasks through POST /api/v1/tasks (a third \
            unconstrained, a third per region), waits until every one runs, then measures the \
            server's CPU time over --steady-s seconds (all threads, and the control loop thread \
            alone), as a share of one core. Then kills --kill daemons and measures, for each of \
            their tasks, the time from the kill until it runs on another daemon, and checks from \
            the daemons' logs that no task ran on two daemons at once.

            Targets: 10,000 daemons heartbeating every 5 s with 50,000 tasks take at most 20% of \
            one core; the tasks of 1,000 lost daemons run elsewhere within the lease + 1 s. \
            Exit status 1 when a target is missed.
            """
    )

    @Option(help: "Simulated daemons.") var daemons = 10_000
    @Option(help: "Tasks.") var tasks = 50_000
    @Option(help: "Daemons to kill after the steady window.") var kill = 1_000
    @Option(help: "Heartbeat interval announced to daemons, in ms.") var heartbeatMs = 5_000
    @Option(help: "Task lease (flowLease), in ms.") var leaseMs = 10_000
    @Option(help: "Seconds of steady state to measure.") var steadyS = 30.0
    @Option(help: "Event loops of the simulated fleet.") var fleetThreads = 1
    @Option(name: .customLong("server-arg"), help: "An extra argument for the node, e.g. --server-arg=--shards --server-arg=4 (repeatable).")
    var serverArguments: [String] = []
    @Flag(help: "Print one JSON object (snake_case keys) instead of text.") var json = false

    func run() async throws {
        var o = ControlBenchmark.Options()
        o.daemons = daemons
        o.tasks = tasks
        o.kill = kill
        o.heartbeatMilliseconds = heartbeatMs
        o.leaseMilliseconds = leaseMs
        o.steadySeconds = steadyS
        o.fleetThreads = fleetThreads
        o.serverArguments = serverArguments
        let quiet = json
        let result = try await ControlBenchmark(options: o).run { line in
            if !quiet { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
        }
        if json { try printJSONLine(result) } else { print(result.humanReport()) }
        if !result.meetsTargets { throw ExitCode(1) }
    }
}
