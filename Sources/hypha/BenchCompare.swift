import ArgumentParser

struct BenchCompare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "compare", abstract: "(being written)")
    func run() async throws { throw ValidationError("hypha bench compare is not implemented yet") }
}
