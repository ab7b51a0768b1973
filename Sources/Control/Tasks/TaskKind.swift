/// What a task makes its daemon do (docs/control.md, "Tasks").
public enum TaskKind: String, Codable, Sendable, CaseIterable {
    /// Follow files matching an absolute path glob (`path`); the checkpoint maps
    /// `"<dev>:<inode>:<fingerprint>"` to the decimal offset read so far.
    case tail
    /// Follow the systemd journal (`from`, `units`); the checkpoint is the journal cursor.
    case journald
    /// Run a command (`command`) and send its output lines: once, every `interval_seconds`, or
    /// kept running (`mode`).
    case exec
    /// Sample CPU, memory, load, disk and network from /proc every `interval_seconds`.
    case hostmetrics
    /// Listen on a port of the daemon's host for syslog over TCP or UDP, or JSON lines (`port`,
    /// `protocol`, `address`, `max_line_kib`, `queue_kib`); the checkpoint is always empty.
    case listen
}
