import ArgumentParser

struct BenchLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "(being written)")
    func run() async throws { throw ValidationError("hypha bench load is not implemented yet") }
}
