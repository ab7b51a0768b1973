import ArgumentParser
import Foundation

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput, acknowledgement latency and crash recovery of a Hypha node.",
        subcommands: [BenchThroughput.self, BenchRecovery.self, BenchCompare.self, BenchAlerts.self, BenchControl.self, BenchLoad.self, BenchAgent.self, BenchQueryMetrics.self]
    )
}

/// Prints `value` as one JSON object with snake_case keys (the `--json` output of the runners).
func printJSONLine(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
