import Logging
import Platform
import Wire
import Synchronization
public import WAL

/// What became of a submitted batch, reported once it is durable (or failed).
public enum WriteResult: Sendable, Equatable {
    /// Stored and durable: sequences `firstSequence ..< firstSequence + count` of `shard`.
    case written(shard: Int, firstSequence: UInt64, count: Int)
    /// Not stored again: the producer sequence was already stored (and is now durable).
    case duplicate(shard: Int)
    /// The WAL refused or failed the batch.
    case failed(String)
}

/// The one WAL writer of a shard: a dedicated thread (``WorkerThread``, `hypha-wal-N`) that
/// takes sealed batches from a queue, appends them, and reports each batch's ``WriteResult``
/// once it is durable under the configured mode (at once for `none`; after the writer's own
/// group commit for `batch`; after the ``WALFlusher``'s for `interval`).
///
/// Thread safety: `submit` may be called from any thread (one hop per batch, never per
/// record); completions run on the writer thread or the WAL flusher thread and must be quick
/// (hop to an event loop for I/O).
public final class ShardWriter: Sendable {
    public typealias Completion = @Sendable (WriteResult) -> Void

    struct Job: Sendable {
        var draft: BatchDraft
        var completion: Completion?
    }

    private let appender: ShardAppender
    private let worker: WorkerThread<Job>

    /// Starts the writer thread of `shard`.
    init(shard: ShardLog, gate: InFlightGate, pool: PayloadPool, tap: StreamTap?, logger: Logger) {
        let appender = ShardAppender(shard: shard, gate: gate, pool: pool, tap: tap, logger: logger)
        self.appender = appender
        worker = WorkerThread(name: "hypha-wal-\(shard.shard)") { wake in appender.write(wake.jobs) }
    }

    /// The shard this writer appends to.
    public var shard: ShardLog { appender.shard }

    /// Queues a batch; its bytes must already be reserved in the in-flight gate.
    public func submit(_ draft: BatchDraft, completion: Completion? = nil) {
        if !worker.submit(Job(draft: draft, completion: completion)) {
            appender.release(draft)
            completion?(.failed("the shard writer has stopped"))
        }
    }

    /// Writes everything queued, then stops the thread. Batches submitted later fail.
    func stop() { worker.stop() }

    /// The WAL made everything below `sequence` durable: complete the waiting batches. When the
    /// shard has stopped after a failed sync (``ShardLog/failure``), every batch still waiting
    /// fails instead: it will never be durable.
    public func durable(upTo sequence: UInt64) { appender.durable(upTo: sequence) }

    /// Batches, records and payload bytes appended so far.
    public var totals: (batches: Int, records: Int, bytes: Int) { appender.totals }
}

/// Whether the writes a waiting batch depends on became durable.
enum DurableOutcome: Sendable {
    case durable
    case failed(String)
}

/// The writer thread's work: append, group-commit, and answer each batch once it is durable.
final class ShardAppender: Sendable {
    let shard: ShardLog
    private let gate: InFlightGate
    private let pool: PayloadPool
    private let tap: StreamTap?
    private let logger: Logger
    /// Answers waiting for durability: (end sequence, answer).
    private let waiting = Mutex<[(UInt64, @Sendable (DurableOutcome) -> Void)]>([])
    private let counters = Mutex((batches: 0, records: 0, bytes: 0))

    init(shard: ShardLog, gate: InFlightGate, pool: PayloadPool, tap: StreamTap?, logger: Logger) {
        self.shard = shard
        self.gate = gate
        self.pool = pool
        self.tap = tap
        self.logger = logger
    }

    var totals: (batches: Int, records: Int, bytes: Int) { counters.withLock { $0 } }

    /// In `batch` mode the writer appends everything it has taken, syncs once, then acknowledges
    /// them all (group commit): acks still wait for the sync, but one msync serves many batches.
    private var groupCommits: Bool { shard.options.durability == .batch }

    /// Appends `jobs` in order; in `batch` mode, then syncs once.
    func write(_ jobs: [ShardWriter.Job]) {
        for job in jobs { write(job) }
        guard groupCommits, !jobs.isEmpty else { return }
        do {
            durable(upTo: try shard.sync())
        } catch {
            logger.error("wal group commit failed", metadata: ["wal.shard": "\(shard.shard)", "error": "\(error)"])
            durable(upTo: shard.durableSequence)
        }
    }

    /// Gives a batch's bytes back to the gate and its buffer to the pool.
    func release(_ draft: BatchDraft) {
        gate.release(bytes: draft.payload.count, shard: shard.shard)
        pool.recycle(draft.payload)
    }

    func durable(upTo sequence: UInt64) {
        let failure = shard.failure
        let (ready, failed) = waiting.withLock { w -> ([@Sendable (DurableOutcome) -> Void], [@Sendable (DurableOutcome) -> Void]) in
            var ready: [@Sendable (DurableOutcome) -> Void] = []
            w.removeAll { entry in
                guard entry.0 <= sequence else { return false }
                ready.append(entry.1)
                return true
            }
            guard failure != nil else { return (ready, []) }
            defer { w.removeAll() }
            return (ready, w.map(\.1))
        }
        for answer in ready { answer(.durable) }
        if let failure { for answer in failed { answer(.failed(failure.description)) } }
    }

    private func write(_ job: ShardWriter.Job) {
        defer { release(job.draft) }
        let outcome: AppendOutcome
        do {
            outcome = try shard.append(job.draft, deferSync: groupCommits)
        } catch {
            logger.error("wal append failed", metadata: ["wal.shard": "\(shard.shard)", "error": "\(error)"])
            job.completion?(.failed(error.description))
            return
        }
        switch outcome {
        case .appended(let base, let count, let durable):
            tap?.scan(job.draft.payload, count: count)
            let bytes = job.draft.payload.count
            counters.withLock {
                $0.batches += 1
                $0.records += count
                $0.bytes += bytes
            }
            guard let completion = job.completion else { return }
            let result = WriteResult.written(shard: shard.shard, firstSequence: base, count: count)
            if durable {
                completion(result)
            } else {
                wait(until: base + UInt64(count)) { completion($0.answer(result)) }
            }
        case .duplicate:
            guard let completion = job.completion else { return }
            // The stored original may still be waiting for the group commit: answer once
            // everything appended so far is durable.
            let result = WriteResult.duplicate(shard: shard.shard)
            wait(until: shard.nextSequence) { completion($0.answer(result)) }
        }
    }

    /// Answers once `end` is durable, or with the failure if the shard stopped. Checked under
    /// the waiting list's lock, so a failure published before ``durable(upTo:)`` runs is seen
    /// either here or there.
    private func wait(until end: UInt64, _ answer: @escaping @Sendable (DurableOutcome) -> Void) {
        let verdict = waiting.withLock { w -> DurableOutcome? in
            if let failure = shard.failure { return .failed(failure.description) }
            if shard.durableSequence >= end { return .durable }
            w.append((end, answer))
            return nil
        }
        if let verdict { answer(verdict) }
    }
}

extension DurableOutcome {
    /// `result` once durable, or the failure.
    func answer(_ result: WriteResult) -> WriteResult {
        switch self {
        case .durable: result
        case .failed(let message): .failed(message)
        }
    }
}
