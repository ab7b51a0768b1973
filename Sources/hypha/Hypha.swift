import ArgumentParser

@main
struct Hypha: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hypha",
        abstract: "Log and metrics ingestion with a durable, shard-aware write-ahead log.",
        discussion: """
            One binary does all of it. `hypha serve` runs a node on a data directory (the embedded \
            default: ./hypha-data, loopback only); `hypha wal` reads a data directory offline.
            """,
        subcommands: [
            Serve.self, AgentCommand.self, WAL.self, BenchCommand.self,
            QueryMetrics.self,  // merged under 'query' later
        ]
    )
}
