import Dispatch
import Logging
import Synchronization

/// What became of a submitted batch, reported once it is durable (or failed).
public enum WriteResult: Sendable, Equatable {
    /// Stored and durable: sequences `firstSequence ..< firstSequence + count` of `shard`.
    case written(shard: Int, firstSequence: UInt64, count: Int)
    /// Not stored again: the producer sequence was already stored (and is now durable).
    case duplicate(shard: Int)
    /// The WAL refused or failed the batch.
    case failed(String)
}

extension WriteResult {
    /// This result when it is a failure, else `success`.
    func failedOr(_ success: WriteResult) -> WriteResult {
        if case .failed = self { self } else { success }
    }
}

/// The one WAL writer of a shard: a dedicated thread that takes sealed batches from a queue,
/// appends them, and reports each batch's ``WriteResult`` once it is durable under the
/// configured mode (at once for `none` and `batch`; after the group commit for `interval`).
///
/// Thread safety: `submit` may be called from any thread (one hop per batch, never per
/// record); completions run on the writer thread or the WAL flusher thread and must be quick
/// (hop to an event loop for I/O).
public final class ShardWriter: Sendable {
    public typealias Completion = @Sendable (WriteResult) -> Void

    struct Job {
        var draft: BatchDraft
        var completion: Completion?
    }

    struct State {
        var queue: [Job] = []
        var stopping = false
        /// Completions waiting for the group commit: (end sequence, completion).
        var waiting: [(UInt64, Completion)] = []
    }

    public let shard: ShardLog
    private let gate: InFlightGate
    let pool: PayloadPool
    let tap: StreamTap?
    private let state = Mutex(State())
    private let wakeup = DispatchSemaphore(value: 0)
    private let thread: Mutex<BackgroundThread?> = Mutex(nil)
    private let logger: Logger
    private let counters = Mutex((batches: 0, records: 0, bytes: 0))

    init(shard: ShardLog, gate: InFlightGate, pool: PayloadPool, tap: StreamTap?, logger: Logger) {
        self.shard = shard
        self.gate = gate
        self.pool = pool
        self.tap = tap
        self.logger = logger
    }

    func start() {
        let t = BackgroundThread(name: "hypha-wal-\(shard.shard)") { [self] in run() }
        thread.withLock { $0 = t }
    }

    /// Queues a batch; its bytes must already be reserved in the in-flight gate.
    public func submit(_ draft: BatchDraft, completion: Completion? = nil) {
        state.withLock { $0.queue.append(Job(draft: draft, completion: completion)) }
        wakeup.signal()
    }

    /// Writes everything queued, then stops the thread.
    func stop() {
        state.withLock { $0.stopping = true }
        wakeup.signal()
        thread.withLock { $0 }?.join()
    }

    /// The flusher made everything below `sequence` durable: complete the waiting batches.
    /// When the shard has stopped after a failed sync (``ShardLog/failure``), every batch still
    /// waiting fails instead: it will never be durable.
    func durable(upTo sequence: UInt64) {
        let failure = shard.failure
        let (ready, failed) = state.withLock { s -> ([Completion], [Completion]) in
            var ready: [Completion] = []
            s.waiting.removeAll { entry in
                guard entry.0 <= sequence else { return false }
                ready.append(entry.1)
                return true
            }
            guard failure != nil else { return (ready, []) }
            defer { s.waiting.removeAll() }
            return (ready, s.waiting.map(\.1))
        }
        for c in ready { c(.written(shard: shard.shard, firstSequence: 0, count: 0)) }
        if let failure { for c in failed { c(.failed(failure.description)) } }
    }

    /// In `batch` mode the writer appends everything it has taken, syncs once, then acknowledges
    /// them all (group commit): acks still wait for the sync, but one msync serves many batches.
    private var groupCommits: Bool { shard.options.durability == .batch }

    private func commit() {
        do {
            let sequence = try shard.sync()
            durable(upTo: sequence)
        } catch {
            logger.error("wal group commit failed", metadata: ["wal.shard": "\(shard.shard)", "error": "\(error)"])
            durable(upTo: shard.durableSequence)
        }
    }

    /// Batches, records and payload bytes appended so far.
    public var totals: (batches: Int, records: Int, bytes: Int) { counters.withLock { $0 } }

    private func run() {
        while true {
            wakeup.wait()
            // Take everything queued at once: one lock per wake-up, and nothing written stays
            // referenced by the queue.
            let (jobs, stopping) = state.withLock { s in
                defer { s.queue.removeAll(keepingCapacity: true) }
                return (s.queue, s.stopping)
            }
            for job in jobs { write(job) }
            if groupCommits, !jobs.isEmpty { commit() }
            if stopping && state.withLock({ $0.queue.isEmpty }) { return }
        }
    }

    private func write(_ job: Job) {
        let bytes = job.draft.payload.count
        defer {
            gate.release(bytes: bytes, shard: shard.shard)
            pool.recycle(job.draft.payload)
        }
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
                wait(until: base + UInt64(count)) { completion($0.failedOr(result)) }
            }
        case .duplicate:
            guard let completion = job.completion else { return }
            // The stored original may still be waiting for the group commit: answer once
            // everything appended so far is durable.
            let index = shard.shard
            wait(until: shard.nextSequence) { completion($0.failedOr(.duplicate(shard: index))) }
        }
    }

    /// Completes `completion` once `end` is durable, or with the failure if the shard stopped.
    /// Checked under the writer's lock, so a failure published before ``durable(upTo:)`` runs
    /// is seen either here or there.
    private func wait(until end: UInt64, _ completion: @escaping Completion) {
        let verdict = state.withLock { s -> WriteResult? in
            if let failure = shard.failure { return .failed(failure.description) }
            if shard.durableSequence >= end { return .written(shard: shard.shard, firstSequence: 0, count: 0) }
            s.waiting.append((end, completion))
            return nil
        }
        if let verdict { completion(verdict) }
    }
}
