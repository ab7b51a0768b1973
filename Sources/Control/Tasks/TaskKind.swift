/// What a task makes its daemon do (docs/control.md, "Tasks").
public enum TaskKind: String, Codable, Sendable, CaseIterable {
    /// Follow files matching an absolute path glob (`path`); the checkpoint maps
    /// `"<dev>:<inode>"` to the decimal offset read so far.
    case tail
    /// Run a command (`command`) and send its stdout lines, once or every `interval_seconds`.
    case exec
    /// Sample CPU, memory, load, disk and network from /proc every `interval_seconds`.
    case hostmetrics
    /// Listen on a port of the daemon's host (`port`, `protocol`, `address`).
    case listen
}
