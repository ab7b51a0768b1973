import ArgumentParser

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput, acknowledgement latency and crash recovery of a Hypha node.",
        subcommands: [BenchThroughput.self, BenchRecovery.self, BenchCompare.self, BenchAlerts.self, BenchLoad.self]
    )
}
