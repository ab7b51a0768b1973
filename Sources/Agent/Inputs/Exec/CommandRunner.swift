public import Ingest
public import Logging
import Platform
import WAL

/// Runs a command once, at an interval, or all the time, and emits its output lines as log
/// records: the `exec` task's reader.
///
/// The owner calls ``poll(into:budget:now:)`` every 250 ms or so (more often while
/// ``ReadProgress/isMoreWaiting``). Each poll starts the command when it is due, enforces the
/// timeout, reads what the command printed (never blocking), emits it up to the budget, and
/// reports runs that ended. What the budget does not allow stays in the pipe; the command blocks
/// when the pipe is full.
///
/// **Records.** `host` from the options, `app` the program's name, the line as the message, the
/// poll's wall time as timestamp. stdout lines have severity 6 (informational); stderr lines
/// have severity 4 (warning) and the field `stream=stderr`. Pieces of a line longer than
/// ``ExecOptions/maxLineBytes`` carry `partial=true`. Lines end at LF (one CR before it is
/// dropped); empty lines are skipped; a last line without LF is emitted when the stream ends.
///
/// **Processes.** The command runs in a process group of its own with stdin from `/dev/null`.
/// A timeout sends SIGTERM to the group, then SIGKILL after ``ExecOptions/killGrace``. When the
/// command has exited but something it started keeps its output open, the group is killed
/// after ``ExecOptions/drainGrace``. Every child is reaped: none is left as a zombie.
///
/// Thread: not thread-safe; one thread at a time (the agent's input worker).
///
/// ```swift
/// let runner = CommandRunner(options: ExecOptions(command: .arguments(["df", "-k"]), schedule: .every(.seconds(60)), host: "web-1"),
///                            logger: logger)
/// let progress = try runner.poll(into: &sink, budget: ReadBudget(), now: .now())
/// for exit in progress.exits where !exit.status.isSuccess { logger.info("\(exit)") }
/// ```
public final class CommandRunner {
    /// The options it was made with.
    public let options: ExecOptions
    private let logger: Logger
    private let hostBytes: [UInt8]
    private let appBytes: [UInt8]
    private var checkpoint: ExecCheckpoint
    private var run: CommandRun?
    /// Monotonic time before which a kept-running command is not started again.
    private var restartAt = Int64.min
    private var restartDelay: Int64 = 1_000_000_000

    /// A runner resuming from `checkpoint` (empty: the command has not run yet). Nothing starts
    /// before the first poll.
    public init(options: ExecOptions, checkpoint: ExecCheckpoint = ExecCheckpoint(), logger: Logger) {
        self.options = options
        self.logger = logger
        self.checkpoint = checkpoint
        hostBytes = Array(options.host.utf8)
        appBytes = Array(options.app.utf8)
    }

    deinit { stop() }

    /// Starts the command when due, reads its output up to `budget`, and reports ended runs.
    /// - Throws: ``InputError`` with ``InputError/Code/commandNotFound`` or
    ///   ``InputError/Code/commandFailed`` when the command cannot be started.
    public func poll(into sink: inout some RecordSink, budget: ReadBudget, now: ReadTime) throws(InputError) -> ExecProgress {
        var meter = BudgetMeter(budget)
        var exits: [CommandExit] = []
        if run == nil, isDue(now) { try start(now: now) }
        var isMoreWaiting = false
        if let run {
            run.enforceLimits(
                timeout: options.timeout?.clampedNanoseconds, killGrace: options.killGrace.clampedNanoseconds,
                drainGrace: options.drainGrace.clampedNanoseconds, now: now.monotonic)
            isMoreWaiting = emitOutput(of: run, now: now, meter: &meter, into: &sink)
            run.enforceLimits(timeout: nil, killGrace: options.killGrace.clampedNanoseconds, drainGrace: options.drainGrace.clampedNanoseconds, now: now.monotonic)
            if run.isComplete { exits.append(finish(run, now: now)) }
        }
        return ExecProgress(read: ReadProgress(meter, checkpoint: checkpoint, isMoreWaiting: isMoreWaiting), exits: exits, isFinished: isFinished)
    }

    /// Stops a run in progress (SIGTERM to its group, SIGKILL after the kill grace) and reaps
    /// it; what it printed and was not emitted yet is dropped, and the run does not count as
    /// complete. Blocks for at most the kill grace.
    public func stop() {
        guard let run else { return }
        run.process.terminate(grace: options.killGrace)
        self.run = nil
    }

    /// The process id of the run in progress, `nil` between runs.
    public var runningProcessID: Int32? { run?.process.pid }

    /// Whether a ``ExecOptions/Schedule/once`` command has run.
    private var isFinished: Bool { options.schedule == .once && checkpoint.lastRun != nil && run == nil }

    private func isDue(_ now: ReadTime) -> Bool {
        switch options.schedule {
        case .once: checkpoint.lastRun == nil
        case .every(let interval): checkpoint.lastRun.map { now.wall &- $0 >= interval.clampedNanoseconds } ?? true
        case .keepRunning: now.monotonic >= restartAt
        }
    }

    private func start(now: ReadTime) throws(InputError) {
        let environment = ProgramLookup.environment(overriding: options.environment)
        let argv = options.argv
        let executable = try ProgramLookup.resolve(argv[0], searchPath: ProgramLookup.searchPath(of: environment))
        let process = try SpawnedProcess(executable: executable, arguments: argv, environment: environment, workingDirectory: options.workingDirectory)
        logger.debug("command started", metadata: ["agent.exec.command": "\(process.command)", "agent.exec.pid": "\(process.pid)"])
        run = CommandRun(process: process, maxLineBytes: options.maxLineBytes, startedAt: now)
    }

    /// Reads both streams and emits their lines, stdout first, up to the budget; whether the
    /// budget ran out with lines still waiting.
    private func emitOutput(of run: CommandRun, now: ReadTime, meter: inout BudgetMeter, into sink: inout some RecordSink) -> Bool {
        while true {
            var progressed = run.stdout.fill(from: run.process.output)
            progressed = run.stderr.fill(from: run.process.errors) || progressed
            for isError in [false, true] {
                while meter.allowsRecord {
                    let emitted = isError ? run.stderr.nextLine { line, isPartial in
                        emit(line, isError: true, isPartial: isPartial, now: now, meter: &meter, into: &sink)
                    } : run.stdout.nextLine { line, isPartial in
                        emit(line, isError: false, isPartial: isPartial, now: now, meter: &meter, into: &sink)
                    }
                    guard emitted else { break }
                    progressed = true
                }
            }
            guard meter.allowsRecord else { return true }
            guard progressed else { return false }
        }
    }

    private func emit(_ line: ByteView, isError: Bool, isPartial: Bool, now: ReadTime, meter: inout BudgetMeter, into sink: inout some RecordSink) {
        withValidUTF8(line) { text in
            ByteView.with(hostBytes) { host in
                ByteView.with(appBytes) { app in
                    sink.beginLog(timestamp: now.wall, severity: isError ? 4 : 6, facility: LogRecord.unknownLevel, host: host, app: app, message: text)
                }
            }
            if isError { withLiteral("stream") { key in withLiteral("stderr") { sink.field(key: key, value: $0) } } }
            if isPartial { withLiteral("partial") { key in withLiteral("true") { sink.field(key: key, value: $0) } } }
            sink.finishRecord()
        }
        meter.spend(bytes: line.count)
    }

    /// Records a complete run: the checkpoint moves to its start, and the next run is planned.
    private func finish(_ run: CommandRun, now: ReadTime) -> CommandExit {
        let exit = CommandExit(
            command: run.process.command, startedAt: run.startedAt.wall, endedAt: now.wall, status: run.process.exit!, timedOut: run.timedOut)
        logger.debug("command ended", metadata: ["agent.exec.command": "\(exit.command)", "agent.exec.status": "\(exit.status)"])
        checkpoint.lastRun = run.startedAt.wall
        if options.schedule == .keepRunning {
            let lasted = now.monotonic &- run.startedAt.monotonic
            restartDelay = lasted >= 60_000_000_000 ? 1_000_000_000 : restartDelay
            restartAt = now.monotonic &+ restartDelay
            restartDelay = min(restartDelay * 2, options.maxRestartDelay.clampedNanoseconds)
        }
        self.run = nil
        return exit
    }
}

@available(*, unavailable)
extension CommandRunner: Sendable {}
