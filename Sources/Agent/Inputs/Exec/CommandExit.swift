/// One run of a command that ended, as ``CommandRunner`` reports it to its owner.
public struct CommandExit: Sendable, Equatable, CustomStringConvertible {
    /// The command line.
    public var command: String
    /// Wall times (nanoseconds since the epoch) of its start and of the poll that saw it end.
    public var startedAt: Int64
    public var endedAt: Int64
    /// How it ended.
    public var status: ProcessExit
    /// Whether it was stopped for running past its timeout.
    public var timedOut: Bool

    public init(command: String, startedAt: Int64, endedAt: Int64, status: ProcessExit, timedOut: Bool) {
        self.command = command
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.status = status
        self.timedOut = timedOut
    }

    /// `df -k: exit status 0`, `sleep 60: killed by signal 15 after its timeout`.
    public var description: String { "\(command): \(status)\(timedOut ? " after its timeout" : "")" }
}

/// What one poll of a ``CommandRunner`` did.
public struct ExecProgress: Sendable, Equatable {
    /// Records, checkpoint, and whether more output is waiting.
    public var read: ReadProgress<ExecCheckpoint>
    /// Runs that ended during this poll (their output has all been emitted).
    public var exits: [CommandExit]
    /// Whether nothing more will come: a ``ExecOptions/Schedule/once`` command ran (now or
    /// before the checkpoint).
    public var isFinished: Bool

    public init(read: ReadProgress<ExecCheckpoint>, exits: [CommandExit], isFinished: Bool) {
        self.read = read
        self.exits = exits
        self.isFinished = isFinished
    }
}
