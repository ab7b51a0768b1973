import Platform
import Synchronization

/// Runs one job per shard on a few threads of their own (a ``WorkerThread`` taking one shard
/// at a time), so a scan uses every core it is given and never the cooperative pool; the
/// caller awaits the per-shard results.
enum ShardPool {
    /// `work(shard)` for every shard in `0 ..< shards`, on `threads` threads at nice value
    /// `niceness`, results by shard.
    /// - Throws: the first failure other than the stops it caused (``ScanControl`` stops the
    ///   other shards at their next batch).
    static func run<Partial: Sendable>(
        shards: Int, threads: Int, niceness: Int32, control: ScanControl,
        _ work: @escaping @Sendable (Int) throws -> Partial
    ) async throws -> [Partial] {
        guard shards > 0 else { return [] }
        let results: [Result<Partial, any Error>] = await withCheckedContinuation { continuation in
            let state = PoolState<Partial>(shards: shards)
            let worker = WorkerThread<Int>(name: "hypha-query", threads: max(1, min(threads, shards)), intake: .one) { wake in
                if niceness != 0, !wake.jobs.isEmpty { ThreadNiceness.set(niceness) }
                for shard in wake.jobs {
                    let result = Result { try work(shard) }
                    if case .failure = result { control.stop() }
                    let finished = state.results.withLock { s -> [Result<Partial, any Error>]? in
                        s.results[shard] = result
                        s.remaining -= 1
                        return s.remaining == 0 ? s.results.compactMap { $0 } : nil
                    }
                    if let finished { continuation.resume(returning: finished) }
                }
            }
            worker.submit(contentsOf: 0 ..< shards)
            // The threads handle what is queued, then exit on their own.
            worker.stop(join: false)
        }
        var firstStop: (any Error)?
        var partials: [Partial] = []
        for result in results {
            switch result {
            case .success(let partial): partials.append(partial)
            case .failure(let error as LogQueryError) where error.code == .stopped: firstStop = firstStop ?? error
            case .failure(let error): throw error
            }
        }
        if let firstStop { throw firstStop }
        return partials
    }
}

/// The results of a ``ShardPool`` run as they come in.
private final class PoolState<Partial: Sendable>: Sendable {
    let results: Mutex<(remaining: Int, results: [Result<Partial, any Error>?])>

    init(shards: Int) {
        results = Mutex((remaining: shards, results: Array(repeating: nil, count: shards)))
    }
}
