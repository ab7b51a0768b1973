/// File names in a ``FileControlStore`` directory.
///
/// Generation *N* is `snapshot-N` (the contents when the generation began; generation 0 has
/// none and starts empty) plus `log-N` (the commits since). `*.tmp` files are snapshots
/// that were being written when the process stopped.
enum ControlStoreLayout {
    /// What a directory entry is.
    enum Entry: Equatable {
        case snapshot(UInt64)
        case log(UInt64)
        case temporary
        case other
    }

    static func snapshotName(_ generation: UInt64) -> String { "snapshot-\(generation)" }
    static func logName(_ generation: UInt64) -> String { "log-\(generation)" }
    static let temporarySuffix = ".tmp"

    /// Classifies `name`; numbers must be canonical decimal (`log-7`, not `log-07`).
    static func classify(_ name: String) -> Entry {
        if name.hasSuffix(temporarySuffix) { return .temporary }
        if let generation = number(name, after: "snapshot-") { return .snapshot(generation) }
        if let generation = number(name, after: "log-") { return .log(generation) }
        return .other
    }

    private static func number(_ name: String, after prefix: String) -> UInt64? {
        guard name.hasPrefix(prefix) else { return nil }
        let digits = name.dropFirst(prefix.count)
        guard let value = UInt64(digits), String(value) == digits else { return nil }
        return value
    }
}
