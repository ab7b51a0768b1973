import Ingest
import Logging

/// Makes the reader of a task kind from its parameters and checkpoint.
enum InputFactory {
    /// The reader for `spec`, resuming from `checkpoint`.
    /// - Throws: ``InputError`` naming the parameter or checkpoint entry that cannot be used, or
    ///   an unknown kind.
    static func reader(_ spec: InputSpec, checkpoint: [String: String], host: String, logger: Logger) throws(InputError) -> any InputReader {
        var logger = logger
        logger[metadataKey: "input"] = "\(spec.name)"
        switch spec.kind {
        case "tail":
            let follower = try FileFollower(
                options: TailOptions(parameters: spec.parameters, host: host), checkpoint: TailCheckpoint(encoded: checkpoint), logger: logger)
            return ReaderAdapter(poll: { sink, budget, now throws(InputError) in try follower.poll(into: &sink, budget: budget, now: now) }, stop: {})
        case "journald":
            let follower = JournalFollower(
                options: try JournalOptions(parameters: spec.parameters, host: host), checkpoint: try JournalCheckpoint(encoded: checkpoint),
                logger: logger)
            return ReaderAdapter(poll: { sink, budget, now throws(InputError) in try follower.poll(into: &sink, budget: budget, now: now) }, stop: follower.stop)
        case "hostmetrics":
            let collector = HostMetricsCollector(
                options: try HostMetricsOptions(parameters: spec.parameters, host: host), checkpoint: try HostMetricsCheckpoint(encoded: checkpoint), logger: logger)
            return ReaderAdapter(poll: { sink, budget, now throws(InputError) in try collector.poll(into: &sink, budget: budget, now: now) }, stop: {})
        case "listen":
            let listener = PortListener(options: try ListenOptions(parameters: spec.parameters, host: host), logger: logger)
            return ReaderAdapter(poll: { sink, budget, now throws(InputError) in try listener.poll(into: &sink, budget: budget, now: now) }, stop: listener.stop)
        case "exec":
            let runner = CommandRunner(
                options: try ExecOptions(parameters: spec.parameters, host: host), checkpoint: try ExecCheckpoint(encoded: checkpoint), logger: logger)
            return ExecAdapter(runner: runner, logger: logger)
        default:
            throw InputError(.invalidParameter, "unknown task kind '\(spec.kind)' (known: tail, journald, exec, hostmetrics, listen)", subject: "kind")
        }
    }
}

/// A reader whose poll returns a ``ReadProgress``.
private final class ReaderAdapter<Checkpoint: InputCheckpoint>: InputReader {
    typealias Poll = (inout InputBatcher, ReadBudget, ReadTime) throws(InputError) -> ReadProgress<Checkpoint>
    private let pollBody: Poll
    private let stopBody: () -> Void

    init(poll: @escaping Poll, stop: @escaping () -> Void) {
        pollBody = poll
        stopBody = stop
    }

    func poll(into sink: inout InputBatcher, budget: ReadBudget, now: ReadTime) throws(InputError) -> InputPoll {
        let progress = try pollBody(&sink, budget, now)
        return InputPoll(records: progress.records, checkpoint: progress.checkpoint.encoded, isMoreWaiting: progress.isMoreWaiting)
    }

    func stop() { stopBody() }
}

/// `exec`: also logs each run's exit.
private final class ExecAdapter: InputReader {
    private let runner: CommandRunner
    private let logger: Logger

    init(runner: CommandRunner, logger: Logger) {
        self.runner = runner
        self.logger = logger
    }

    func poll(into sink: inout InputBatcher, budget: ReadBudget, now: ReadTime) throws(InputError) -> InputPoll {
        let progress = try runner.poll(into: &sink, budget: budget, now: now)
        for exit in progress.exits { logger.info("exec: command ended", metadata: ["exit": "\(exit)"]) }
        return InputPoll(records: progress.read.records, checkpoint: progress.read.checkpoint.encoded, isMoreWaiting: progress.read.isMoreWaiting)
    }

    func stop() { runner.stop() }
}
