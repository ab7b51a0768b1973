import Glibc
public import Ingest
public import Logging
import Platform

/// Follows the systemd journal through `journalctl --output=json --follow` and emits one log
/// record per entry: the `journald` task's reader.
///
/// The first poll starts journalctl as a child process (``SpawnedProcess``): after the
/// checkpoint's cursor (`--after-cursor=… --no-tail`), or with no checkpoint from the oldest
/// entry (`--no-tail`) or from new entries only (`--lines=0`), always with `--all` (large fields
/// in full) and `--quiet`. Each poll reads what journalctl has printed, without blocking, and maps
/// each line with ``JournalEntryMapper`` up to the budget; journalctl blocks on a full pipe
/// meanwhile. An entry longer than ``JournalOptions/maxEntryBytes`` is rejected and skipped.
///
/// Failures are thrown, with what journalctl said: no journalctl on the search path, no
/// journal on the host (``JournalOptions/journalLocations``: journalctl itself would wait
/// silently forever), journalctl failing to start, or journalctl exiting (a bad cursor exits
/// with `Failed to seek to cursor: Invalid argument`). After a failure the next poll starts
/// journalctl again from the last entry emitted.
///
/// Thread: not thread-safe; one thread at a time (the agent's input worker). ``stop()`` blocks
/// for at most ``JournalOptions/stopGrace``.
///
/// ```swift
/// let journal = JournalFollower(options: JournalOptions(host: "web-1"),
///                               checkpoint: try JournalCheckpoint(encoded: assignment.checkpoint), logger: logger)
/// let progress = try journal.poll(into: &sink, budget: ReadBudget(), now: .now())
/// ```
public final class JournalFollower {
    /// The options it was made with.
    public let options: JournalOptions
    private let logger: Logger
    private var mapper: JournalEntryMapper
    private var checkpoint: JournalCheckpoint
    private var process: SpawnedProcess?
    private var lines: PipeLines
    /// The end of what journalctl wrote to stderr (at most ``errorTextLimit`` bytes).
    private var errorText: [UInt8] = []
    private static let errorTextLimit = 4096
    private var errorChunk = [UInt8](repeating: 0, count: 1024)
    /// Inside an entry longer than the limit: its pieces are skipped up to its end.
    private var isSkippingEntry = false

    /// A follower resuming after `checkpoint` (empty: from `from`). Nothing starts before the
    /// first poll.
    public init(options: JournalOptions, checkpoint: JournalCheckpoint = JournalCheckpoint(), logger: Logger) {
        self.options = options
        self.logger = logger
        self.checkpoint = checkpoint
        mapper = JournalEntryMapper(host: options.host)
        lines = PipeLines(maxLineBytes: options.maxEntryBytes)
    }

    deinit { stop() }

    /// journalctl's arguments (after its name) for the current position: what the next start
    /// runs, or what the running journalctl was started with.
    public var arguments: [String] { options.arguments(after: checkpoint.cursor) }

    /// The process id of the running journalctl, `nil` when none runs.
    public var processID: Int32? { process?.pid }

    /// Starts journalctl if needed, then maps what it printed, up to `budget`.
    /// - Throws: ``InputError`` with ``InputError/Code/journalUnavailable``,
    ///   ``InputError/Code/commandNotFound`` or ``InputError/Code/commandFailed`` (journalctl
    ///   could not start, or exited: the message holds what it wrote to stderr).
    public func poll(into sink: inout some RecordSink, budget: ReadBudget, now: ReadTime) throws(InputError) -> ReadProgress<JournalCheckpoint> {
        let process: SpawnedProcess
        if let running = self.process { process = running } else { process = try start() }
        var meter = BudgetMeter(budget)
        var isMoreWaiting = false
        var cursorMoved = false
        while true {
            var progressed = lines.fill(from: process.output)
            readErrors(process)
            while meter.allowsRecord, lines.nextLine({ line, isPartial in
                if let length = take(line, isPartial: isPartial, now: now, into: &sink) {
                    meter.spend(bytes: length)
                    cursorMoved = true
                }
            }) {
                progressed = true
            }
            guard meter.allowsRecord else {
                isMoreWaiting = true
                break
            }
            guard progressed else { break }
        }
        if cursorMoved { checkpoint.cursor = mapper.cursor }
        if process.reap() != nil, lines.isDone {
            readErrors(process)
            let exit = process.exit!
            self.process = nil
            let said = String(decoding: errorText, as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: "; ")
            throw InputError(
                .commandFailed, "journalctl stopped (\(exit))\(said.isEmpty ? "" : ": \(said)")",
                subject: ([options.journalctl] + options.arguments(after: checkpoint.cursor)).joined(separator: " "))
        }
        return ReadProgress(meter, checkpoint: checkpoint, isMoreWaiting: isMoreWaiting)
    }

    /// Stops journalctl (SIGTERM, then SIGKILL after ``JournalOptions/stopGrace``) and reaps it.
    /// Entries it printed and that were not emitted are read again by the next start.
    public func stop() {
        process?.terminate(grace: options.stopGrace)
        process = nil
    }

    /// One line: a record, a reject, or a piece of an entry that is too long.
    private func take(_ line: ByteView, isPartial: Bool, now: ReadTime, into sink: inout some RecordSink) -> Int? {
        if isSkippingEntry {
            isSkippingEntry = isPartial
            return nil
        }
        if isPartial {
            sink.reject("journal entry longer than the limit", sample: line[0 ..< min(line.count, 256)])
            isSkippingEntry = true
            return nil
        }
        return mapper.map(line, receivedAt: now.wall, into: &sink)
    }

    private func start() throws(InputError) -> SpawnedProcess {
        guard hasJournal() else {
            throw InputError(
                .journalUnavailable,
                "no systemd journal on this host: none of \(options.journalLocations.joined(separator: ", ")) is a journald socket or a journal directory with files")
        }
        let environment = ProgramLookup.currentEnvironment()
        let executable = try ProgramLookup.resolve(options.journalctl, searchPath: options.searchPath ?? ProgramLookup.searchPath(of: environment))
        let process = try SpawnedProcess(
            executable: executable, arguments: [options.journalctl] + arguments, environment: environment, workingDirectory: nil)
        logger.debug("journalctl started", metadata: ["agent.journald.command": "\(process.command)", "agent.journald.pid": "\(process.pid)"])
        self.process = process
        lines = PipeLines(maxLineBytes: options.maxEntryBytes)
        errorText = []
        isSkippingEntry = false
        return process
    }

    /// Keeps the end of what journalctl writes to stderr, for the message when it stops.
    private func readErrors(_ process: SpawnedProcess) {
        while true {
            let n = unsafe errorChunk.withUnsafeMutableBytes { unsafe read(process.errors, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return }
            errorText += errorChunk[0 ..< n]
            if errorText.count > Self.errorTextLimit { errorText.removeFirst(errorText.count - Self.errorTextLimit) }
        }
    }

    /// Whether one of the journal locations is a socket or a directory with entries.
    private func hasJournal() -> Bool {
        options.journalLocations.contains { path in
            var st = stat()
            guard unsafe stat(path, &st) == 0 else { return false }
            switch st.st_mode & S_IFMT {
            case S_IFSOCK: return true
            case S_IFDIR: return !((try? FileSystem.list(path))?.isEmpty ?? true)
            default: return false
            }
        }
    }
}

@available(*, unavailable)
extension JournalFollower: Sendable {}
