import ArgumentParser

struct BenchRecovery: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recovery", abstract: "(being written)")
    func run() async throws { throw ValidationError("hypha bench recovery is not implemented yet") }
}
