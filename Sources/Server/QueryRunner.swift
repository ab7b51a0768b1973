import Platform
import PromQL

/// Runs metric queries on their own threads, never on an event loop or Swift's cooperative
/// pool: a query blocks on file reads and CPU for up to its timeout.
///
/// At most `threads` queries run at once and `capacity` more wait; past that a query is
/// refused at once (an `execution` error), so that queries cannot pile up behind ingestion.
/// The threads stop when the runner is released.
final class QueryRunner: Sendable {
    typealias Job = @Sendable () -> Void
    private let worker: WorkerThread<Job>

    init(threads: Int, capacity: Int) {
        worker = WorkerThread(name: "hypha-promql", threads: threads, capacity: capacity, intake: .one) { wake in
            for job in wake.jobs { job() }
        }
    }

    deinit { worker.stop(join: false) }

    /// Runs `body` on a query thread and returns what it returned.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(PromQLError) -> T) async throws(PromQLError) -> T {
        let result: Result<T, PromQLError> = await withCheckedContinuation { continuation in
            let accepted = worker.submit {
                continuation.resume(returning: Result { () throws(PromQLError) -> T in try body() })
            }
            if !accepted {
                continuation.resume(returning: .failure(PromQLError(.execution, "too many queries are running or waiting; try again later")))
            }
        }
        return try result.get()
    }
}
