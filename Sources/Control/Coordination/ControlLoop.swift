import Foundation
import Platform
import WAL
import Wire
import Logging

/// The state and steps of the control loop. Used only on the control thread.
final class ControlLoop: @unchecked Sendable {
    var state: ControlState
    private let store: any ControlStore
    private let settings: ControlCoordinator.Settings
    private let clock: any EpochClock
    private let fences: TaskFenceTable
    private let logger: Logger
    private let health: @Sendable () -> [String: HealthState]
    private let throughput: @Sendable () -> [String: Double]
    var publish: (ControlCoordinator.Status) -> Void = { _ in }

    private var sessions: [String: DaemonSession] = [:]
    private var nextTick: Int64 = 0
    private var nextSecond: Int64 = 0
    private var nextPlacementUpdate: Int64 = 0
    // Changes not yet committed, coalesced by key.
    private var pendingRecords: [String: TaskRecord] = [:]
    private var pendingCheckpoints: [String: [String: String]] = [:]
    private var pendingRemoved: Set<String> = []
    private var pendingConfig = ConfigChanges()
    private var lastCommit: Int64 = 0
    private var lastPublished: Int64 = 0
    private var storedSerial: UInt64 = 0
    private var retryAfter: Int64 = 0
    private(set) var status = ControlCoordinator.Status()
    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    init(
        state: ControlState, store: any ControlStore, settings: ControlCoordinator.Settings, clock: any EpochClock,
        fences: TaskFenceTable, logger: Logger, health: @escaping @Sendable () -> [String: HealthState],
        throughput: @escaping @Sendable () -> [String: Double]
    ) {
        self.state = state
        self.store = store
        self.settings = settings
        self.clock = clock
        self.fences = fences
        self.logger = logger
        self.health = health
        self.throughput = throughput
        status = makeStatus()
    }

    // MARK: Events

    func handle(_ events: [ControlCoordinator.Event]) {
        let now = clock.now
        state.now = now
        for event in events {
            switch event {
            case .opened(let session): opened(session, now: now)
            case .closed(let session): closed(session, now: now)
            case .heartbeat(let id): state.tasks.heartbeat(from: id, now: now)
            case .report(let id, .task(let report)): state.send(state.tasks.report(report, from: id, now: now))
            case .report(let id, .config(let report)): state.send(state.configs.report(report, from: id, now: now))
            case .request(let body): body(&state)
            }
        }
        if now >= nextTick {
            tick(now: now)
            nextTick = now + settings.tickInterval.clampedNanoseconds
        }
    }

    private func opened(_ session: DaemonSession, now: Int64) {
        let hello = session.hello
        sessions[session.daemonID] = session
        let candidate = DaemonCandidate(
            id: hello.daemonID, labels: hello.labels, region: hello.region,
            throughput: state.online[hello.daemonID]?.throughput ?? 0)
        state.online[hello.daemonID] = candidate
        state.send(state.tasks.daemonOnline(candidate, incarnation: hello.incarnation, now: now))
        state.send(state.configs.daemonOnline(candidate, now: now))
    }

    private func closed(_ session: DaemonSession, now: Int64) {
        // A reconnect may open the new session before the old one's close arrives.
        guard sessions[session.daemonID] === session else { return }
        sessions[session.daemonID] = nil
        state.online[session.daemonID] = nil
        state.tasks.daemonOffline(session.daemonID, now: now)
        state.configs.daemonOffline(session.daemonID, now: now)
    }

    private func tick(now: Int64) {
        if now >= nextPlacementUpdate {
            // Throughput only breaks ties between daemons with as many tasks: every 5 s is enough.
            nextPlacementUpdate = now + 5_000_000_000
            for (id, rate) in throughput() where state.online[id].map({ $0.throughput != rate }) == true {
                state.online[id]?.throughput = rate
                state.tasks.setThroughput(rate, of: id)
            }
        }
        if now >= nextSecond {
            nextSecond = now + 1_000_000_000
            if !state.configs.activeRollouts.isEmpty {
                let health = self.health()
                state.send(state.configs.tick(now: now, health: { health[$0] }))
            }
        }
        state.send(state.tasks.tick(now: now))
    }

    // MARK: Commit, then send

    /// Commits what changed, then updates the fences, sends the frames and answers requests.
    /// Checkpoint-only changes wait up to the checkpoint flush interval; a failed commit is
    /// retried a second later, and nothing goes out before it succeeds.
    func flush(force: Bool) {
        let now = clock.now
        collectConfig()
        let urgent = state.tasks.hasRecordChanges || !pendingRecords.isEmpty || !pendingRemoved.isEmpty || !pendingConfig.isEmpty
            || !state.outbox.isEmpty || !state.completions.isEmpty
        let due = (state.tasks.hasCheckpointChanges || !pendingCheckpoints.isEmpty)
            && now - lastCommit >= settings.checkpointFlushInterval.clampedNanoseconds
        guard urgent || due || force, now >= retryAfter || force else { return }
        // Task changes are taken only when they are about to be committed: checkpoints pile up in
        // the book between commits instead of being copied at every wake-up.
        collectTasks()
        let changes = encodeChanges()
        if !changes.isEmpty {
            do {
                try store.commit(changes)
                status.commits += 1
                storedSerial = state.tasks.nextSerial
            } catch {
                status.commitFailures += 1
                retryAfter = now + 1_000_000_000
                logger.error("control store commit failed; retrying, nothing is sent until it succeeds", metadata: ["error": "\(error)"])
                publish(makeStatus())
                return
            }
        }
        lastCommit = now
        fences.update(pendingRecords.values)
        fences.remove(serials: pendingRemoved.compactMap(TaskRecord.serial(of:)))
        pendingRecords.removeAll(keepingCapacity: true)
        pendingCheckpoints.removeAll(keepingCapacity: true)
        pendingRemoved.removeAll(keepingCapacity: true)
        pendingConfig = ConfigChanges()
        send()
        let completions = state.completions
        state.completions.removeAll()
        for c in completions { c() }
        // Counting tasks per state walks every task: at most every 5 s.
        if now - lastPublished >= 5_000_000_000 {
            lastPublished = now
            publish(makeStatus())
        }
    }

    private func collectTasks() {
        let t = state.tasks.takeChanges()
        for record in t.records {
            pendingRecords[record.id] = record
            pendingCheckpoints[record.id] = nil
            pendingRemoved.remove(record.id)
        }
        if pendingCheckpoints.isEmpty {
            pendingCheckpoints = t.checkpoints
        } else {
            for (id, checkpoint) in t.checkpoints { pendingCheckpoints[id] = checkpoint }
        }
        for id in t.removed {
            pendingRemoved.insert(id)
            pendingRecords[id] = nil
            pendingCheckpoints[id] = nil
        }
    }

    private func collectConfig() {
        let c = state.configs.takeChanges()
        pendingConfig.documents += c.documents
        pendingConfig.rollouts += c.rollouts
        pendingConfig.removedDocuments += c.removedDocuments
        pendingConfig.removedRollouts += c.removedRollouts
    }

    private func encodeChanges() -> [ControlChange] {
        var changes: [ControlChange] = []
        changes.reserveCapacity(pendingRecords.count + pendingCheckpoints.count + pendingRemoved.count)
        for (id, record) in pendingRecords {
            changes.append(.put(key: ControlKeys.task(id), value: Array(try! encoder.encode(record))))
            changes.append(.delete(key: ControlKeys.checkpoint(id)))
        }
        for (id, checkpoint) in pendingCheckpoints {
            changes.append(.put(key: ControlKeys.checkpoint(id), value: CheckpointCodec.encode(checkpoint)))
        }
        for id in pendingRemoved {
            changes.append(.delete(key: ControlKeys.task(id)))
            changes.append(.delete(key: ControlKeys.checkpoint(id)))
        }
        for document in pendingConfig.documents {
            changes.append(.put(key: ControlKeys.config(document.name, document.version), value: Array(try! encoder.encode(document))))
        }
        for (name, version) in pendingConfig.removedDocuments { changes.append(.delete(key: ControlKeys.config(name, version))) }
        for rollout in pendingConfig.rollouts {
            changes.append(.put(key: ControlKeys.rollout(rollout.id), value: Array(try! encoder.encode(rollout))))
        }
        for id in pendingConfig.removedRollouts { changes.append(.delete(key: ControlKeys.rollout(id))) }
        if state.tasks.nextSerial != storedSerial, !changes.isEmpty {
            changes.append(.put(key: ControlKeys.nextTaskSerial, value: Array("\(state.tasks.nextSerial)".utf8)))
        }
        return changes
    }

    private func send() {
        guard !state.outbox.isEmpty else { return }
        var byDaemon: [String: [NodeControlMessage]] = [:]
        for (daemon, message) in state.outbox { byDaemon[daemon, default: []].append(message) }
        state.outbox.removeAll(keepingCapacity: true)
        for (daemon, messages) in byDaemon {
            // A daemon without a session gets its tasks and configuration again at its next HELLO.
            sessions[daemon]?.send(messages)
        }
    }

    private func makeStatus() -> ControlCoordinator.Status {
        var s = status
        s.tasks = state.tasks.counts
        s.sessions = sessions.count
        s.storeBytes = store.diskBytes
        s.rollouts = Dictionary(grouping: state.configs.rollouts, by: \.state).mapValues(\.count)
        return s
    }
}
