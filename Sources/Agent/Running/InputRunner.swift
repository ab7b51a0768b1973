import Logging
import Platform
import Synchronization
import WAL

/// Runs one input on a thread of its own: polls its reader, spools its batches with their
/// checkpoints, and stops reading while the spool is full.
///
/// The cadence adapts: at once while the reader says more is waiting, 5 ms after a poll that
/// found records, then doubling to 250 ms while idle. Every method may be called from any
/// thread; the reader and the batcher are touched by the input's thread only.
final class InputRunner: Sendable {
    /// The task id, or the quick-start input's name.
    let name: String
    let producerID: UInt64
    private let worker: WorkerThread<Command>
    private let shared: Locked<Shared>

    enum Command: Sendable { case stop }

    /// What the manager reads: the journal (checkpoints) and how the input fares.
    struct Shared: @unchecked Sendable {
        // The journal is a class used under this lock only.
        var journal: CheckpointJournal
        var isBlocked = false
        var failure: String?
        var isStopped = false
        var records = 0
    }

    /// Starts reading. `journal` holds where to resume: the caller created the reader from
    /// its newest entry (or from the task's checkpoint).
    init(
        name: String, producerID: UInt64, reader: any InputReader, batcher: InputBatcher, journal: CheckpointJournal,
        spool: Spool, logger: Logger
    ) {
        self.name = name
        self.producerID = producerID
        let shared = Locked(Shared(journal: journal))
        self.shared = shared
        let loop = Loop(reader: reader, batcher: batcher, checkpoint: journal.latest ?? [:])
        let worker = WorkerThread<Command>(name: "hypha-input") { [spool, logger] wake in
            loop.step(wake, spool: spool, shared: shared, logger: logger, name: name)
        }
        loop.worker = worker
        self.worker = worker
        worker.wake()
    }

    /// Stops reading and spools what the reader emitted; returns once the input's thread ended.
    func stop() {
        worker.submit(.stop)
        worker.stop()
    }

    /// The node acknowledged this producer's batch `sequence`.
    func acknowledge(_ sequence: UInt64) { shared.withLock { $0.journal.acknowledge(sequence) } }

    /// The newest checkpoint whose records the node acknowledged.
    var acknowledgedCheckpoint: [String: String]? { shared.withLock { $0.journal.acknowledgedCheckpoint } }

    /// Whether every spooled batch of this input is acknowledged.
    var isDrained: Bool { shared.withLock { s in (s.journal.entries.last?.sequence ?? 0) <= s.journal.acknowledged } }

    /// Whether the input waits for room in the spool.
    var isBlocked: Bool { shared.withLock { $0.isBlocked } }

    /// Why the reader failed, once it has.
    var failure: String? { shared.withLock { $0.failure } }

    var isStopped: Bool { shared.withLock { $0.isStopped } }

    /// Shrinks the checkpoint journal to what is not yet acknowledged.
    func compactJournal() throws(SystemError) { try shared.withLock { s throws(SystemError) in try s.journal.compact() } }
}

/// The input thread's own state.
private final class Loop: @unchecked Sendable {
    // Touched only by the input's thread (WorkerThread with one thread never overlaps calls).
    let reader: any InputReader
    var batcher: InputBatcher
    var checkpoint: [String: String]
    var idle: Duration = .milliseconds(5)
    var done = false
    /// Set once, before the first wake-up.
    var worker: WorkerThread<InputRunner.Command>?

    init(reader: any InputReader, batcher: InputBatcher, checkpoint: [String: String]) {
        self.reader = reader
        self.batcher = batcher
        self.checkpoint = checkpoint
    }

    func step(
        _ wake: WorkerThread<InputRunner.Command>.Wake, spool: Spool, shared: Locked<InputRunner.Shared>, logger: Logger, name: String
    ) {
        guard !done else { return }
        if wake.isStopping || !wake.jobs.isEmpty {
            finish(shared: shared, logger: logger, name: name)
            return
        }
        if batcher.isDue(now: MonotonicClock.nanoseconds()) {
            seal(shared: shared, logger: logger, name: name)
            // The spool refused it (a full disk): read nothing more until it takes it.
            if batcher.pendingRecords > 0 {
                worker?.wake(after: .milliseconds(500))
                return
            }
        }
        guard spool.hasRoom else {
            if !shared.withLock({ $0.isBlocked }) {
                logger.warning("input: the spool is full; reading paused until the node acknowledges", metadata: ["input": "\(name)"])
            }
            shared.withLock { $0.isBlocked = true }
            // What is open is spooled anyway: a full spool stops reading, not what was read.
            seal(shared: shared, logger: logger, name: name)
            worker?.wake(after: .milliseconds(50))
            return
        }
        shared.withLock { $0.isBlocked = false }
        let now = ReadTime.now()
        let poll: InputPoll
        do throws(InputError) {
            poll = try reader.poll(into: &batcher, budget: ReadBudget(records: min(10_000, batcher.recordRoom), bytes: batcher.room), now: now)
        } catch {
            logger.error("input: the reader failed", metadata: ["input": "\(name)", "error": "\(error)"])
            seal(shared: shared, logger: logger, name: name)
            shared.withLock { $0.failure = "\(error)" }
            finish(shared: shared, logger: logger, name: name)
            return
        }
        checkpoint = poll.checkpoint
        shared.withLock { $0.records += poll.records }
        if batcher.isDue(now: now.monotonic) || (batcher.pendingRecords == 0 && checkpoint != shared.withLock({ $0.journal.latest ?? [:] })) {
            seal(shared: shared, logger: logger, name: name)
        }
        if poll.isMoreWaiting {
            worker?.wake()
            return
        }
        idle = poll.records > 0 ? .milliseconds(5) : min(idle * 2, .milliseconds(250))
        let untilDue = batcher.pendingRecords > 0 ? Duration.nanoseconds(batcher.lingerNanoseconds) : idle
        worker?.wake(after: min(idle, untilDue))
    }

    private func seal(shared: Locked<InputRunner.Shared>, logger: Logger, name: String) {
        let failure = shared.withLock { s -> AgentError? in
            do throws(AgentError) {
                try batcher.seal(checkpoint: checkpoint, journal: s.journal)
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            logger.error("input: cannot spool; will try again", metadata: ["input": "\(name)", "error": "\(failure)"])
        }
    }

    private func finish(shared: Locked<InputRunner.Shared>, logger: Logger, name: String) {
        seal(shared: shared, logger: logger, name: name)
        reader.stop()
        done = true
        shared.withLock { $0.isStopped = true }
    }
}
