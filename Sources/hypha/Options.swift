public import ArgumentParser
public import WAL

extension WALCodec: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { allCases.map(\.description) }
}

/// Options shared by every command that opens a data directory.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data"), help: "The data directory (holds wal/ and the control state).")
    var directory: String = "hypha-data"
}
