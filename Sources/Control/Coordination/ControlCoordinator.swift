import Platform
import WAL
public import Wire
public import Logging
import Synchronization

/// The control plane's loop: it owns the task book and the configuration book, applies what
/// daemons say (sessions, heartbeats, reports) and what operators ask (``perform(_:)``),
/// persists every change in the ``ControlStore``, and only then sends the resulting frames.
///
/// Persist-then-send is what makes leases safe across a crash: an epoch is durable before any
/// daemon hears of it, so a restarted node never hands the same epoch to two holders.
///
/// Threads: the loop runs on its own thread (a ``WorkerThread``, `hypha-control`, from
/// construction to ``stop()``), waking on sessions and requests and every ``Settings/tickInterval``;
/// heartbeats and reports are picked up at the next wake-up. The `DaemonControl` methods run on
/// event loops and only queue; ``perform(_:)`` may be called from any task.
public final class ControlCoordinator: DaemonControl, Sendable {
    /// How the loop paces itself.
    public struct Settings: Sendable {
        /// How long a lease lasts without renewal (`--flow-lease-ms`, default 10 s).
        public var leaseDuration: Duration = .seconds(10)
        /// How often leases are checked and pending work placed (default 100 ms).
        public var tickInterval: Duration = .milliseconds(100)
        /// Checkpoint-only changes are committed at most this often (default 1 s); assignments,
        /// state changes and requests are committed at once.
        public var checkpointFlushInterval: Duration = .seconds(1)
        /// Tasks kept at most, terminated ones until retention drops them (default 100,000).
        public var maxTasks = 100_000

        public init() {}
    }

    /// Figures for /metrics, published after every commit.
    public struct Status: Sendable, Equatable {
        public var tasks: [TaskState: Int] = [:]
        public var sessions = 0
        public var commits = 0
        public var commitFailures = 0
        public var storeBytes = 0
        public var rollouts: [RolloutState: Int] = [:]
    }

    enum Event: Sendable {
        case opened(DaemonSession)
        case closed(DaemonSession)
        case heartbeat(String)
        case report(String, DaemonControlReport)
        case request(@Sendable (inout ControlState) -> Void)
    }

    public let settings: Settings
    /// The fencing table the event loops consult.
    public let fences = TaskFenceTable()
    private let worker: WorkerThread<Event>
    private let published: PublishedStatus
    private let fenced = Atomic<Int>(0)

    /// The figures the loop publishes after every commit, for readers on any thread.
    private final class PublishedStatus: Sendable {
        let value: Mutex<Status>
        init(_ status: Status) { value = Mutex(status) }
    }

    /// Opens the control state kept in `store` (tasks, leases, checkpoints, configuration
    /// versions, rollouts). Every restored lease gets one lease duration of grace from now.
    /// - Parameters:
    ///   - health: each daemon's health, read once a second while a rollout runs.
    ///   - throughput: each daemon's records/s EMA, read every 5 s for placement.
    /// - Throws: when a stored entry cannot be decoded (the node must not start on state it
    ///   cannot read).
    public init(
        store: any ControlStore, settings: Settings, clock: any EpochClock, logger: Logger,
        health: @escaping @Sendable () -> [String: HealthState], throughput: @escaping @Sendable () -> [String: Double]
    ) throws {
        self.settings = settings
        let state = try ControlPersistence.restore(from: store, settings: settings, now: clock.now)
        fences.update(state.tasks.tasks)
        let loop = ControlLoop(
            state: state, store: store, settings: settings, clock: clock, fences: fences, logger: logger, health: health,
            throughput: throughput)
        let published = PublishedStatus(loop.status)
        self.published = published
        loop.publish = { status in published.value.withLock { $0 = status } }
        worker = WorkerThread(name: "hypha-control", period: settings.tickInterval) { wake in
            loop.handle(wake.jobs)
            loop.flush(force: wake.isStopping)
        }
    }

    deinit { worker.stop() }

    /// Handles what is queued, commits it, and stops the loop thread. Later events are
    /// dropped and ``perform(_:)`` throws ``ControlUnavailable``.
    public func stop() { worker.stop() }

    /// Runs `body` on the control thread with the books, and returns its result once every
    /// change it made is durable and its frames are on their way.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (inout ControlState) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = enqueue(.request { state in
                let result = Result { try body(&state) }
                state.afterCommit { continuation.resume(with: result) }
            }, wake: true)
            if !accepted { continuation.resume(throwing: ControlUnavailable()) }
        }
    }

    /// The latest published figures.
    public var status: Status { published.value.withLock { $0 } }
    /// Task batches refused by fencing since start.
    public var fencedBatches: Int { fenced.load(ordering: .relaxed) }

    // MARK: DaemonControl (event loops)

    public func sessionOpened(_ session: DaemonSession) { enqueue(.opened(session), wake: true) }
    public func sessionClosed(_ session: DaemonSession) { enqueue(.closed(session), wake: true) }
    public func sessionHeartbeat(_ session: DaemonSession) { enqueue(.heartbeat(session.daemonID), wake: false) }
    public func session(_ session: DaemonSession, reported report: DaemonControlReport) {
        enqueue(.report(session.daemonID, report), wake: false)
    }

    public func admitsTaskData(daemonID: String, producerID: UInt64) -> TaskFenceVerdict {
        let verdict = fences.verdict(daemonID: daemonID, producerID: producerID)
        if verdict != .admitted { fenced.add(1, ordering: .relaxed) }
        return verdict
    }

    // MARK: Loop

    @discardableResult
    private func enqueue(_ event: Event, wake: Bool) -> Bool { worker.submit(event, wake: wake) }
}

/// The control plane is shutting down and takes no more requests.
public struct ControlUnavailable: Error, CustomStringConvertible {
    public var description: String { "the control plane is shutting down" }
}
