import Ingest
import Logging
import Platform
import TestSupport
import WAL

@testable import Agent

/// A follower over a temporary directory, on a manual clock, collecting what it emits.
final class TailHarness {
    let directory = TemporaryDirectory("hypha-tail")
    var clock = ManualClock()
    var sink = CollectingSink()
    var follower: FileFollower!
    /// Records handed out by ``take()`` so far.
    private var taken = 0
    /// Checkpoints of every poll, with how many records had been emitted at that point.
    private(set) var history: [(checkpoint: TailCheckpoint, emitted: Int)] = []

    /// Options for `pattern` (a name in the directory) that rescan at every poll.
    func options(_ pattern: String, from: ReadStart = .start) -> TailOptions {
        var options = TailOptions(path: directory.file(pattern), host: "host-1", from: from)
        options.rescanInterval = .zero
        return options
    }

    init(_ pattern: String, from: ReadStart = .start, checkpoint: TailCheckpoint = TailCheckpoint(), _ configure: (inout TailOptions) -> Void = { _ in }) throws {
        var options = options(pattern, from: from)
        configure(&options)
        follower = try FileFollower(options: options, checkpoint: checkpoint, logger: quietLogger)
    }

    deinit { directory.remove() }

    func path(_ name: String) -> String { directory.file(name) }

    /// One poll.
    @discardableResult
    func poll(_ budget: ReadBudget = ReadBudget()) throws -> ReadProgress<TailCheckpoint> {
        let progress = try follower.poll(into: &sink, budget: budget, now: clock.now)
        history.append((progress.checkpoint, sink.logs.count))
        return progress
    }

    /// Polls until nothing more is waiting.
    func drain(_ budget: ReadBudget = ReadBudget()) throws {
        while try poll(budget).isMoreWaiting {}
    }

    /// The records emitted since the last call.
    func take() -> [Line] {
        let logs = sink.logs
        defer { taken = logs.count }
        return logs[taken...].map(Line.init)
    }

    /// The messages emitted since the last call.
    func takeMessages() -> [String] { take().map(\.message) }
}
