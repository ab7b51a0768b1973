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
        let worker = WorkerThread<Job>(name: "hypha-wal-\(shard.shard)") { wake in appender.write(wake.jobs, stopping: wake.isStopping) }
        self.worker = worker
        appender.retryLater = { [weak worker] delay in worker?.wake(after: delay) }
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

    /// Records accepted from listeners that no acknowledgement covered and that could not be
    /// written (the shard stopped, or the disk was still full when the node stopped).
    public var lostRecords: Int { appender.lostRecords }

    /// Since when (monotonic ns) the shard has been holding batches it cannot write, and why;
    /// `nil` while it writes.
    public var blocked: (since: Int64, reason: String)? { appender.blocked }
}

/// Whether the writes a waiting batch depends on became durable.
enum DurableOutcome: Sendable {
    case durable
    case failed(String)
}

/// The writer thread's work: append, group-commit, and answer each batch once it is durable.
///
/// When the WAL cannot take a batch for now (an I/O error such as a full disk, while the
/// shard itself works), the writer never drops it:
/// - batches of the line protocols (no acknowledgement) are held, in order, and retried with
///   back-off (50 ms doubling to 1 s); their bytes stay in the in-flight gate, so the listeners
///   stop reading and TCP pushes back on senders (UDP datagrams are dropped and counted);
/// - batches whose sender waits for an answer (native, `POST /write`) are answered at once
///   with the failure, so the sender keeps them and resends once the node writes again.
/// Appends resume by themselves when the WAL takes a batch again. A batch that can never be
/// written (the shard stopped after a failed sync) is answered or counted as lost, as are held
/// batches still unwritten when the writer stops.
final class ShardAppender: Sendable {
    let shard: ShardLog
    private let gate: InFlightGate
    private let pool: PayloadPool
    private let tap: StreamTap?
    private let logger: Logger
    /// Answers waiting for durability: (end sequence, answer).
    private let waiting = Mutex<[(UInt64, @Sendable (DurableOutcome) -> Void)]>([])
    private let counters = Mutex((batches: 0, records: 0, bytes: 0, lost: 0))
    private let holding = Mutex(Holding())
    private let retry = Mutex<(@Sendable (Duration) -> Void)?>(nil)

    /// Batches held after a failed append, and since when.
    struct Holding {
        var batches: [ShardWriter.Job] = []
        var since: Int64 = 0
        var reason = ""
        var backoff: Duration = .zero
    }

    init(shard: ShardLog, gate: InFlightGate, pool: PayloadPool, tap: StreamTap?, logger: Logger) {
        self.shard = shard
        self.gate = gate
        self.pool = pool
        self.tap = tap
        self.logger = logger
    }

    /// Asks the writer thread to run again after a delay (set once, by the writer).
    var retryLater: (@Sendable (Duration) -> Void)? {
        get { retry.withLock { $0 } }
        set { retry.withLock { $0 = newValue } }
    }

    var totals: (batches: Int, records: Int, bytes: Int) { counters.withLock { ($0.batches, $0.records, $0.bytes) } }
    var lostRecords: Int { counters.withLock { $0.lost } }
    var blocked: (since: Int64, reason: String)? {
        holding.withLock { $0.batches.isEmpty ? nil : ($0.since, $0.reason) }
    }

    /// In `batch` mode the writer appends everything it has taken, syncs once, then acknowledges
    /// them all (group commit): acks still wait for the sync, but one msync serves many batches.
    private var groupCommits: Bool { shard.options.durability == .batch }

    /// Appends the held batches and then `jobs`, in order; in `batch` mode, then syncs once. On
    /// the writer's last call (`stopping`), batches that still cannot be written are lost.
    func write(_ jobs: [ShardWriter.Job], stopping: Bool) {
        let pending = holding.withLock { h in defer { h.batches = [] }; return h.batches } + jobs
        var wrote = false
        for (index, job) in pending.enumerated() {
            switch write(job) {
            case .done:
                wrote = true
            case .retry(let error):
                hold(pending[index...], after: error, stopping: stopping)
                if wrote { commit() }
                return
            }
        }
        resumeIfHolding()
        if wrote { commit() }
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

    private func commit() {
        guard groupCommits else { return }
        do {
            durable(upTo: try shard.sync())
        } catch {
            logger.error("wal group commit failed", metadata: ["wal.shard": "\(shard.shard)", "error": "\(error)"])
            durable(upTo: shard.durableSequence)
        }
    }

    private enum Attempt {
        /// Written, or answered as never to be written: go on with the next batch.
        case done
        /// The WAL could not take the batch now; it may later.
        case retry(WALError)
    }

    private func write(_ job: ShardWriter.Job) -> Attempt {
        let outcome: AppendOutcome
        do {
            outcome = try shard.append(job.draft, deferSync: groupCommits)
        } catch where error.code == .io {
            return .retry(error)
        } catch {
            // The batch can never be written: the shard stopped, or the batch is unusable.
            fail(job, error.description)
            return .done
        }
        defer { release(job.draft) }
        switch outcome {
        case .appended(let base, let count, let durable):
            tap?.scan(job.draft.payload, count: count)
            let bytes = job.draft.payload.count
            counters.withLock {
                $0.batches += 1
                $0.records += count
                $0.bytes += bytes
            }
            guard let completion = job.completion else { return .done }
            let result = WriteResult.written(shard: shard.shard, firstSequence: base, count: count)
            if durable {
                completion(result)
            } else {
                wait(until: base + UInt64(count)) { completion($0.answer(result)) }
            }
        case .duplicate:
            guard let completion = job.completion else { return .done }
            // The stored original may still be waiting for the group commit: answer once
            // everything appended so far is durable.
            let result = WriteResult.duplicate(shard: shard.shard)
            wait(until: shard.nextSequence) { completion($0.answer(result)) }
        }
        return .done
    }

    /// Answers a batch that will not be written with `reason`, or counts its records as lost
    /// when nobody waits for an answer.
    private func fail(_ job: ShardWriter.Job, _ reason: String) {
        if let completion = job.completion {
            completion(.failed(reason))
        } else {
            let first = counters.withLock { c -> Bool in
                defer { c.lost += job.draft.recordCount }
                return c.lost == 0
            }
            if first {
                logger.error("wal append failed: records are lost", metadata: ["wal.shard": "\(shard.shard)", "error": "\(reason)"])
            }
        }
        release(job.draft)
    }

    /// Holds the line-protocol batches of `rest` for a retry and answers the others with the
    /// failure at once; on the writer's last call, gives them all up.
    private func hold(_ rest: ArraySlice<ShardWriter.Job>, after error: WALError, stopping: Bool) {
        guard !stopping else {
            for job in rest { fail(job, "not written before the node stopped: \(error)") }
            return
        }
        var kept: [ShardWriter.Job] = []
        for job in rest {
            if job.completion != nil { fail(job, error.description) } else { kept.append(job) }
        }
        let (delay, first) = holding.withLock { h -> (Duration, Bool) in
            let first = h.since == 0
            if first {
                h.since = MonotonicClock.nanoseconds()
                h.backoff = .milliseconds(50)
            } else {
                h.backoff = min(h.backoff * 2, .seconds(1))
            }
            h.reason = error.description
            h.batches = kept
            return (h.backoff, first)
        }
        if first {
            logger.error("wal shard cannot write: holding its batches and retrying; listeners stop reading until it can", metadata: [
                "wal.shard": "\(shard.shard)", "error": "\(error)",
            ])
        }
        retryLater?(delay)
    }

    /// Logs the end of a time of holding batches, if there was one.
    private func resumeIfHolding() {
        let since = holding.withLock { h -> Int64 in
            defer { h = Holding() }
            return h.since
        }
        guard since != 0 else { return }
        let seconds = Double(MonotonicClock.nanoseconds() - since) / 1e9
        logger.info("wal shard writes again", metadata: ["wal.shard": "\(shard.shard)", "wal.held_seconds": "\(seconds)"])
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
