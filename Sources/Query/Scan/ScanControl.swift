import Platform
import Synchronization

/// Shared by the threads of one scan: a deadline, and a stop flag one failing shard sets so
/// the others end at their next batch.
///
/// Thread-safe.
final class ScanControl: Sendable {
    private let stopped = Atomic<Bool>(false)
    /// Monotonic deadline (ns), if any.
    private let deadline: Int64?
    /// The time limit, for the error message.
    private let timeLimit: Duration?

    init(timeLimit: Duration?) {
        self.timeLimit = timeLimit
        deadline = timeLimit.map { MonotonicClock.nanoseconds() &+ $0.clampedNanoseconds }
    }

    /// Asks every thread to stop.
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Throws when the scan should stop.
    func check() throws(LogQueryError) {
        if let deadline, MonotonicClock.nanoseconds() > deadline {
            stop()
            throw LogQueryError(.timeLimit, "the query ran longer than its time limit of \(timeLimit.map { "\($0)" } ?? "")")
        }
        if stopped.load(ordering: .relaxed) { throw LogQueryError(.stopped, "the query was stopped") }
    }
}
