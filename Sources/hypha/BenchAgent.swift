import ArgumentParser
import Bench
import Foundation

struct BenchAgent: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Tail a file with a real `hypha agent` into a real local node: throughput, latency, a node outage.",
        discussion: """
            Starts `hypha serve` and `hypha agent` (this binary) on temporary directories.
            1. Throughput: --lines lines of 200 bytes written first, tailed from the start; lines/s \
            until the node holds every line, the agent's CPU time per line, its peak RSS.
            2. Latency: --latency-rate lines/s for --latency-s seconds, each stamped with its write \
            time; p50 and p99 from write to the line's batch in the node's WAL.
            3. Outage: --outage-rate lines/s; the node is stopped for --outage-s seconds and started \
            again; lines lost and doubled, and the time to drain after the node's return.

            Targets: ≥ 600,000 lines/s, ≤ 0.5 µs agent CPU per line, ≤ 32 MiB agent RSS with lz4; \
            p99 ≤ 50 ms at 10,000 lines/s; after a 60 s outage at 100,000 lines/s nothing lost or \
            doubled and the spool drained within 30 s. Exit status 1 when a target is missed.
            """
    )

    @Option(help: "Lines for the throughput run.") var lines = 2_000_000
    @Option(help: "Lines per second for the latency run.") var latencyRate = 10_000
    @Option(help: "Seconds of the latency run.") var latencyS = 10.0
    @Option(help: "Lines per second during the outage run.") var outageRate = 100_000
    @Option(help: "Seconds the node is down.") var outageS = 60.0
    @Option(help: "Compression on the wire: lz4, zstd or none.") var compression = "lz4"
    @Flag(help: "Print one JSON object (snake_case keys) instead of text.") var json = false

    func run() throws {
        var options = AgentBenchmark.Options()
        options.lines = lines
        options.latencyRate = latencyRate
        options.latencySeconds = latencyS
        options.outageRate = outageRate
        options.outageSeconds = outageS
        options.compression = compression
        let result = try AgentBenchmark.run(options) { FileHandle.standardError.write(Data(("… " + $0 + "\n").utf8)) }
        if json { try printJSONLine(result) } else { print(result.text) }
        let met = result.linesPerSecond >= 600_000 && result.agentCPUMicrosecondsPerLine <= 0.5 && result.agentPeakRSSBytes <= 32 << 20
            && result.latencyP99Milliseconds <= 50 && result.outageLost == 0 && result.outageDoubled == 0 && result.outageDrainSeconds <= 30
        if !met { throw ExitCode(1) }
    }
}
