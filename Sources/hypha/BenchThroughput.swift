import ArgumentParser

struct BenchThroughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "throughput", abstract: "(being written)")
    func run() async throws { throw ValidationError("hypha bench throughput is not implemented yet") }
}
