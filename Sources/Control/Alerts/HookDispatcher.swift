import Foundation
import Platform
public import Logging
import Synchronization

/// Counters of one hook, from ``HookDispatcher/stats``.
public struct HookStats: Sendable, Equatable, Codable {
    /// ``AlertHook/name``.
    public var hook: String
    /// Notifications delivered.
    public var delivered: UInt64 = 0
    /// Deliveries that failed (including timeouts).
    public var failed: UInt64 = 0
    /// Of ``failed``: commands killed at their timeout.
    public var timedOut: UInt64 = 0
    /// Notifications dropped because the hook's queue was full (it is slow or hanging).
    public var dropped: UInt64 = 0
    /// Deliveries that took longer than ``HookDispatcher/slowDelivery``.
    public var slow: UInt64 = 0
    /// Waiting now.
    public var queued = 0
    /// Being delivered now.
    public var running = 0

    /// Zeroed counters for `hook`.
    public init(hook: String) { self.hook = hook }
}

/// Takes notifications from the evaluator without ever blocking it, and delivers them to the
/// hooks on worker threads of its own.
///
/// Each hook has a lane: a bounded queue (``AlertHook/maxQueued``) and
/// ``AlertHook/maxConcurrent`` dedicated threads. ``submit(_:)`` only appends to the lanes'
/// queues under a short lock; a full queue drops the notification and counts it. A hook that
/// fails is counted and logged (`info`, with `hook.name` and `hook.error` metadata); a hook
/// that hangs holds only its own lane's threads, so it neither blocks evaluation and ingestion
/// nor the other hooks.
///
/// Threads are OS threads (blocking `write`, `fsync` and `waitpid` have no place on the
/// Swift concurrency pool). A hook's threads start when the hook is configured and stop when
/// it is removed or in ``shutdown(timeout:)``.
///
/// ```swift
/// let dispatcher = HookDispatcher(logger: logger)
/// try dispatcher.configure(ruleSet.hooks)
/// dispatcher.submit(notifications)     // returns at once
/// dispatcher.reopen()                  // on SIGHUP
/// dispatcher.shutdown(timeout: .seconds(5))
/// ```
public final class HookDispatcher: Sendable {
    /// Deliveries slower than this count as ``HookStats/slow`` and are logged. 1 s.
    public static let slowDelivery: Duration = .seconds(1)

    private let logger: Logger
    private let lanes: Mutex<[HookLane]>
    /// Serialises ``configure(_:)`` calls.
    private let configuring = Mutex<Void>(())

    /// A dispatcher with no configured hooks yet.
    /// - Parameters:
    ///   - logger: where failures are logged.
    ///   - extraHooks: hooks kept across every ``configure(_:)`` (a webhook, a test recorder).
    public init(logger: Logger, extraHooks: [any AlertHook] = []) {
        self.logger = logger
        lanes = Mutex(extraHooks.map { HookLane(hook: $0, configuration: nil, logger: logger) })
    }

    deinit {
        for lane in lanes.withLock({ $0 }) { lane.stop() }
    }

    /// Sets the configured hooks. A hook whose configuration is unchanged keeps its lane
    /// (queue, counters, open file); removed hooks finish their queue and stop.
    /// - Throws: ``HookError`` (with ``HookError/index``) when a hook cannot be set up; then
    ///   nothing changes.
    public func configure(_ configurations: [HookConfiguration]) throws(HookError) {
        try configuring.withLock { _ throws(HookError) in try replaceLanes(configurations) }
    }

    private func replaceLanes(_ configurations: [HookConfiguration]) throws(HookError) {
        let current = lanes.withLock { $0 }
        var next: [HookLane] = current.filter { $0.configuration == nil }
        var reused = Set<ObjectIdentifier>()
        for (i, c) in configurations.enumerated() {
            if let lane = current.first(where: { $0.configuration == c && !reused.contains(ObjectIdentifier($0)) }) {
                reused.insert(ObjectIdentifier(lane))
                next.append(lane)
                continue
            }
            do {
                next.append(HookLane(hook: try makeHook(c), configuration: c, logger: logger))
            } catch {
                var e = error
                e.index = i
                throw e
            }
        }
        let removed = current.filter { $0.configuration != nil && !reused.contains(ObjectIdentifier($0)) }
        lanes.withLock { $0 = next }
        for lane in removed { lane.stop() }
    }

    /// Queues notifications for every hook. Never blocks; a hook whose queue is full drops
    /// them (counted in ``HookStats/dropped``).
    public func submit(_ notifications: [AlertNotification]) {
        guard !notifications.isEmpty else { return }
        for lane in lanes.withLock({ $0 }) { lane.enqueue(notifications) }
    }

    /// Asks every hook to reopen its files (file hooks, after logrotate). Never blocks.
    public func reopen() {
        for lane in lanes.withLock({ $0 }) { lane.hook.reopen() }
    }

    /// Counters per hook, in configuration order (extra hooks first).
    public var stats: [HookStats] { lanes.withLock { $0 }.map { $0.snapshot() } }

    /// Waits until every queue is empty and nothing is being delivered, or `timeout` passes.
    /// - Returns: whether everything was delivered (or failed) in time.
    @discardableResult
    public func waitUntilIdle(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        for lane in lanes.withLock({ $0 }) where !lane.waitUntilIdle(timeout: max(.zero, deadline - ContinuousClock.now)) {
            return false
        }
        return true
    }

    /// Gives queued notifications up to `timeout` to go out, then stops every hook's threads
    /// (a thread stuck in a hanging hook is left behind) and drops the hooks; later
    /// ``submit(_:)`` calls are ignored until ``configure(_:)`` runs again. Blocks the caller
    /// for up to `timeout`.
    public func shutdown(timeout: Duration = .seconds(5)) {
        waitUntilIdle(timeout: timeout)
        let all = lanes.withLock { l in defer { l = [] }; return l }
        for lane in all { lane.stop() }
    }
}

/// One hook's queue and workers: a ``WorkerThread`` of ``AlertHook/maxConcurrent`` threads that
/// take one notification each from a queue bounded at ``AlertHook/maxQueued``.
final class HookLane: Sendable {
    let hook: any AlertHook
    let configuration: HookConfiguration?
    private let logger: Logger
    private let counters: Counters
    private let worker: WorkerThread<AlertNotification>

    /// The lane's counters, shared with its threads.
    private final class Counters: Sendable {
        let stats: Mutex<HookStats>
        init(_ stats: HookStats) { self.stats = Mutex(stats) }
    }

    /// Starts the lane's threads.
    init(hook: any AlertHook, configuration: HookConfiguration?, logger: Logger) {
        self.hook = hook
        self.configuration = configuration
        self.logger = logger
        let counters = Counters(HookStats(hook: hook.name))
        self.counters = counters
        worker = WorkerThread(
            name: "hypha-hook", threads: max(1, hook.maxConcurrent), capacity: max(1, hook.maxQueued), intake: .one
        ) { wake in
            for n in wake.jobs { Self.deliver(n, to: hook, counters: counters, logger: logger) }
        }
    }

    /// Lets the threads deliver what is queued and end; a thread stuck in a hanging hook is not
    /// waited for.
    func stop() { worker.stop(join: false) }

    /// Queues `notifications`; those that do not fit are dropped and counted.
    func enqueue(_ notifications: [AlertNotification]) {
        let dropped = notifications.count - worker.submit(contentsOf: notifications)
        guard dropped > 0 else { return }
        counters.stats.withLock { $0.dropped &+= UInt64(dropped) }
        logger.info("alert hook queue full: notifications dropped", metadata: [
            "hook.name": "\(hook.name)", "hook.dropped": "\(dropped)",
        ])
    }

    func snapshot() -> HookStats {
        var stats = counters.stats.withLock { $0 }
        let load = worker.load
        stats.queued = load.queued
        stats.running = load.running
        return stats
    }

    func waitUntilIdle(timeout: Duration) -> Bool { worker.waitUntilIdle(timeout: timeout) }

    private static func deliver(_ n: AlertNotification, to hook: any AlertHook, counters: Counters, logger: Logger) {
        let started = ContinuousClock.now
        var failure: HookError?
        do { try hook.deliver(n) } catch { failure = error }
        let took = ContinuousClock.now - started
        counters.stats.withLock { c in
            if let failure {
                c.failed &+= 1
                if failure.code == .timedOut { c.timedOut &+= 1 }
            } else {
                c.delivered &+= 1
            }
            if took > HookDispatcher.slowDelivery { c.slow &+= 1 }
        }
        if let failure {
            logger.info("alert hook failed", metadata: [
                "hook.name": "\(hook.name)", "hook.error": "\(failure.message)", "alert.rule": "\(n.rule)",
            ])
        } else if took > HookDispatcher.slowDelivery {
            logger.info("alert hook slow", metadata: ["hook.name": "\(hook.name)", "hook.duration": "\(took)"])
        }
    }
}
