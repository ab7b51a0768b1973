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
    func durable(upTo sequence: UInt64) {
        let ready: [Completion] = state.withLock { s in
            var ready: [Completion] = []
            s.waiting.removeAll { entry in
                guard entry.0 <= sequence else { return false }
                ready.append(entry.1)
                return true
            }
            return ready
        }
        for c in ready { c(.written(shard: shard.shard, firstSequence: 0, count: 0)) }
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
                wait(until: base + UInt64(count)) { _ in completion(result) }
            }
        case .duplicate:
            guard let completion = job.completion else { return }
            // The stored original may still be waiting for the group commit: answer once
            // everything appended so far is durable.
            let index = shard.shard
            wait(until: shard.nextSequence) { _ in completion(.duplicate(shard: index)) }
        }
    }

    private func wait(until end: UInt64, _ completion: @escaping Completion) {
        let already = state.withLock { s -> Bool in
            if shard.durableSequence >= end { return true }
            s.waiting.append((end, completion))
            return false
        }
        if already { completion(.written(shard: shard.shard, firstSequence: 0, count: 0)) }
    }
}
