/// Where a ``CommandRunner`` stands: when its last complete run started.
///
/// Encoded as `{"last_run": "<nanoseconds since the epoch>"}`, or empty before the first run
/// has ended. A run counts once its output has been emitted to the end; a restart or a move in
/// the middle of a run starts the command again (its output so far may be sent twice). With
/// ``ExecOptions/Schedule/once`` a recorded run means the command is not run again; with
/// ``ExecOptions/Schedule/every(_:)`` the next run is due an interval after it.
public struct ExecCheckpoint: InputCheckpoint {
    /// Wall time (nanoseconds since the epoch) at which the last complete run started.
    public var lastRun: Int64?

    public init() { lastRun = nil }

    public init(lastRun: Int64?) { self.lastRun = lastRun }

    public init(encoded: [String: String]) throws(InputError) {
        guard let text = encoded["last_run"] else {
            self.init()
            return
        }
        guard let value = Int64(text) else {
            throw InputError(.invalidCheckpoint, "exec checkpoint last_run is \"\(text)\"; it must be nanoseconds since the epoch", subject: "last_run")
        }
        self.init(lastRun: value)
    }

    public var encoded: [String: String] { lastRun.map { ["last_run": String($0)] } ?? [:] }
}
