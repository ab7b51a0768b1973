import CShims
import Glibc
import Synchronization

/// Dedicated OS threads (one by default) that run jobs from a queue: the home of blocking work
/// (`pwrite`, `msync`, `fsync`, `waitpid`, hook deliveries) that must sit neither on an event
/// loop nor on Swift's cooperative pool.
///
/// - Each wake-up hands `handle` what is queued: every job (``Intake/all``, so one lock
///   operation serves a whole burst) or the oldest one (``Intake/one``, for several threads
///   sharing a queue).
/// - With a `period`, `handle` also runs when that long passes without a wake-up, with no jobs:
///   a group commit, a lease check.
/// - The queue is bounded by `capacity`: ``submit(_:)`` refuses past it and the refusal is
///   counted (``load``), so a stuck consumer never makes memory grow.
/// - ``stop(join:)`` is graceful: the threads finish what is queued, `handle` runs once more
///   with ``Wake/isStopping`` set, and the threads exit.
///
/// Thread safety: every method may be called from any thread. `handle` runs on the worker's
/// threads only; with one thread, its calls never overlap.
///
/// ```swift
/// let writer = WorkerThread<Batch>(name: "hypha-wal-0") { wake in
///     for batch in wake.jobs { append(batch) }
///     if !wake.jobs.isEmpty { commit() }
/// }
/// writer.submit(batch)
/// writer.stop()   // writes what is queued, then returns
/// ```
public final class WorkerThread<Job: Sendable>: Sendable {
    /// How many queued jobs one call of `handle` takes.
    public enum Intake: Sendable {
        /// Everything queued (one thread drains the queue in bursts).
        case all
        /// The oldest job (several threads share the queue, one job each).
        case one
    }

    /// What one call of `handle` gets.
    public struct Wake: Sendable {
        /// The jobs taken, oldest first; empty when the period passed or on the final call.
        public var jobs: [Job]
        /// Set on the last call, after every queued job was handled: flush and let go.
        public var isStopping: Bool
    }

    /// Counters of the queue.
    public struct Load: Sendable, Equatable {
        /// Jobs waiting.
        public var queued: Int
        /// Calls of `handle` running now.
        public var running: Int
        /// Jobs refused since start because the queue was full or the worker stopped.
        public var refused: Int
        /// Jobs `handle` has finished with since start.
        public var handled: Int
    }

    private struct State {
        var queue: [Job] = []
        var head = 0
        var stopping = false
        var running = 0
        var refused = 0
        var handled = 0
        var woken = false
        /// Monotonic deadline of a wake-up asked for with ``WorkerThread/wake(after:)``.
        var wakeAt: Int64?

        var waiting: Int { queue.count - head }

        mutating func take(_ intake: Intake) -> [Job] {
            guard waiting > 0 else { return [] }
            switch intake {
            case .all:
                let jobs = Array(queue[head...])
                queue.removeAll(keepingCapacity: true)
                head = 0
                return jobs
            case .one:
                let job = queue[head]
                head += 1
                if head == queue.count {
                    queue.removeAll(keepingCapacity: true)
                    head = 0
                } else if head > 64, head * 2 > queue.count {
                    queue.removeFirst(head)
                    head = 0
                }
                return [job]
            }
        }
    }

    /// The name the threads carry (`top -H`, `perf`, `/proc/PID/task`).
    public let name: String
    private let capacity: Int
    private let intake: Intake
    private let periodNanoseconds: Int64?
    private let handle: @Sendable (Wake) -> Void
    private let state = ConditionLock(State())
    private let threads = Mutex<[pthread_t]>([])

    /// Starts `threads` threads named `name`.
    /// - Parameters:
    ///   - capacity: jobs that may wait at once; more are refused (default: no limit).
    ///   - period: call `handle` with no jobs after this long without a wake-up (default: never).
    ///   - handle: runs on the worker's threads; must not throw or block forever.
    public init(
        name: String, threads count: Int = 1, capacity: Int = .max, intake: Intake = .all, period: Duration? = nil,
        _ handle: @escaping @Sendable (Wake) -> Void
    ) {
        precondition(count >= 1, "a worker needs at least one thread")
        self.name = name
        self.capacity = capacity
        self.intake = intake
        periodNanoseconds = period.map { max(1, $0.clampedNanoseconds) }
        self.handle = handle
        var started: [pthread_t] = []
        for _ in 0 ..< count { started.append(Self.spawn(name: name) { [self] in run() }) }
        threads.withLock { $0 = started }
    }

    /// Queues `job` and, with `wake` (the default), wakes a thread; without it the job waits
    /// for the next wake-up or period (for frequent, unhurried jobs such as heartbeats).
    /// - Returns: `false` when the queue is full or the worker is stopping (the job is dropped
    ///   and counted in ``Load/refused``).
    @discardableResult
    public func submit(_ job: Job, wake: Bool = true) -> Bool {
        let accepted = state.withLock { s -> Bool in
            guard !s.stopping, s.waiting < capacity else {
                s.refused += 1
                return false
            }
            s.queue.append(job)
            return true
        }
        if accepted, wake { state.signal() }
        return accepted
    }

    /// Queues every job that fits and wakes the threads.
    /// - Returns: how many were accepted (the rest are counted in ``Load/refused``).
    @discardableResult
    public func submit(contentsOf jobs: some Collection<Job>) -> Int {
        let accepted = state.withLock { s -> Int in
            guard !s.stopping else {
                s.refused += jobs.count
                return 0
            }
            let accepted = min(max(0, capacity - s.waiting), jobs.count)
            s.queue.append(contentsOf: jobs.prefix(accepted))
            s.refused += jobs.count - accepted
            return accepted
        }
        if accepted > 1 { state.broadcast() } else if accepted == 1 { state.signal() }
        return accepted
    }

    /// Runs `handle` soon with whatever is queued (possibly nothing), without waiting for the
    /// period.
    public func wake() {
        state.withLock { $0.woken = true }
        state.signal()
    }

    /// Runs `handle` once `delay` has passed (or sooner, with jobs), even without a period:
    /// for retrying work that failed, without waking an idle worker on a timer.
    public func wake(after delay: Duration) {
        let deadline = MonotonicClock.nanoseconds() &+ delay.clampedNanoseconds
        state.withLock { $0.wakeAt = min($0.wakeAt ?? .max, deadline) }
        state.signal()
    }

    /// The queue's counters now.
    public var load: Load {
        state.withLock { Load(queued: $0.waiting, running: $0.running, refused: $0.refused, handled: $0.handled) }
    }

    /// Waits until nothing is queued and nothing is being handled, or `timeout` passes.
    /// - Returns: whether the worker went idle in time.
    @discardableResult
    public func waitUntilIdle(timeout: Duration) -> Bool {
        let deadline = MonotonicClock.nanoseconds() &+ timeout.clampedNanoseconds
        return state.withLock(waitingUntil: { $0.waiting == 0 && $0.running == 0 }, deadline: deadline) { _, idle in idle }
    }

    /// Refuses new jobs, lets the threads handle what is queued and make their final call,
    /// then, with `join`, waits for them to exit. Later calls return at once.
    /// - Parameter join: `false` leaves the threads to finish on their own (a thread stuck in
    ///   a hanging job is not waited for).
    public func stop(join: Bool = true) {
        state.withLock { $0.stopping = true }
        state.broadcast()
        let all = threads.withLock { t in defer { t = [] }; return t }
        for thread in all {
            if join { pthread_join(thread, nil) } else { pthread_detach(thread) }
        }
    }

    private func run() {
        var nextPeriod = periodNanoseconds.map { MonotonicClock.nanoseconds() &+ $0 }
        while true {
            let wakeAt = state.withLock { $0.wakeAt }
            let deadline = [nextPeriod, wakeAt].compactMap { $0 }.min()
            let (jobs, stopping) = state.withLock(
                waitingUntil: { $0.waiting > 0 || $0.stopping || $0.woken || $0.wakeAt != wakeAt }, deadline: deadline
            ) { s, _ -> ([Job], Bool) in
                s.woken = false
                if let at = s.wakeAt, at <= MonotonicClock.nanoseconds() { s.wakeAt = nil }
                let jobs = s.take(intake)
                s.running += 1
                return (jobs, s.stopping && s.waiting == 0 && jobs.isEmpty)
            }
            if let period = periodNanoseconds { nextPeriod = MonotonicClock.nanoseconds() &+ period }
            handle(Wake(jobs: jobs, isStopping: stopping))
            state.withLock {
                $0.running -= 1
                $0.handled += jobs.count
            }
            state.broadcast()  // waitUntilIdle, and sibling threads waiting for a final turn
            if stopping { return }
        }
    }

    /// Starts a joinable thread named `name` (15 bytes are kept) running `body`.
    private static func spawn(name: String, _ body: @escaping @Sendable () -> Void) -> pthread_t {
        let box = unsafe Unmanaged.passRetained(ThreadBody {
            unsafe hy_thread_set_name(name)
            body()
        }).toOpaque()
        var thread = pthread_t()
        let r = unsafe pthread_create(&thread, nil, { arg in
            let box = unsafe Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(r == 0, "cannot start thread \(name): error \(r)")
        return thread
    }
}

/// What a new thread runs, passed through `pthread_create`'s argument.
private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
