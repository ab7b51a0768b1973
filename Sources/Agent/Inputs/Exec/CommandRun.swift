import Glibc

/// One run of a command: the child, its two output streams, and its timeline.
///
/// Thread: its runner's thread.
final class CommandRun {
    let process: SpawnedProcess
    var stdout: PipeLines
    var stderr: PipeLines
    /// Wall and monotonic times of the start.
    let startedAt: ReadTime
    /// Monotonic time SIGTERM was sent for the timeout, `nil` before.
    var terminatingSince: Int64?
    /// Monotonic time the child was seen to exit.
    var exitedAt: Int64?
    /// Whether the process group was killed after the drain grace.
    var isGroupKilled = false

    init(process: SpawnedProcess, maxLineBytes: Int, startedAt: ReadTime) {
        self.process = process
        stdout = PipeLines(maxLineBytes: maxLineBytes)
        stderr = PipeLines(maxLineBytes: maxLineBytes)
        self.startedAt = startedAt
    }

    /// Whether it timed out.
    var timedOut: Bool { terminatingSince != nil }

    /// Whether the child exited and both streams were emitted to their end.
    var isComplete: Bool { process.exit != nil && stdout.isDone && stderr.isDone }

    /// Enforces the timeout and the drain grace: SIGTERM at the timeout, SIGKILL `killGrace`
    /// later; SIGKILL to the group when the output stays open `drainGrace` after the exit.
    func enforceLimits(timeout: Int64?, killGrace: Int64, drainGrace: Int64, now: Int64) {
        if process.reap() != nil, exitedAt == nil { exitedAt = now }
        if let exitedAt {
            if !isGroupKilled, !(stdout.isAtEnd && stderr.isAtEnd), now &- exitedAt >= drainGrace {
                process.signalGroup(SIGKILL)
                isGroupKilled = true
            }
            return
        }
        if let since = terminatingSince {
            if now &- since >= killGrace { process.signalGroup(SIGKILL) }
        } else if let timeout, now &- startedAt.monotonic >= timeout {
            process.signalGroup(SIGTERM)
            terminatingSince = now
        }
    }
}

@available(*, unavailable)
extension CommandRun: Sendable {}
