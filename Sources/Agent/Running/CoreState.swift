import Logging
import NIOCore
import Platform
import WAL
import Wire

/// The core's state: tasks, quick-start inputs, configuration, heartbeats. Touched only by the
/// core's thread (``AgentCore``'s worker, whose calls never overlap).
final class CoreState: @unchecked Sendable {
    /// The configuration in force: the command line's, with pushed documents applied.
    private(set) var configuration: AgentConfiguration
    /// The command line's configuration, under the pushed documents.
    let base: AgentConfiguration
    let configs: AppliedConfigs
    private var welcome: NativeWelcome?
    private var nextHeartbeat: Int64 = 0
    private var heartbeatSentAt: Int64?
    private var tasks: [String: HeldTask] = [:]
    private var locals: [String: LocalInput] = [:]
    private var stoppingInputs = false
    private var nextCompaction: Int64 = 0

    /// A task this agent was assigned.
    struct HeldTask {
        var assignment: TaskAssignment
        var runner: InputRunner?
        /// Monotonic; the lease as the node counts it, conservatively (from heartbeats sent).
        var leaseExpiresAt: Int64
        /// A suspend or terminate being carried out: the answer goes once the input's batches
        /// are acknowledged, or after ``finishTimeout``.
        var finishing: (action: TaskControlAction, since: Int64)?
    }

    /// A quick-start input: its runner, or when it failed, when to try again.
    struct LocalInput {
        var spec: InputSpec
        var runner: InputRunner?
        var retryAt: Int64 = 0
    }

    static let finishTimeout: Int64 = 10_000_000_000
    static let retryDelay: Int64 = 30_000_000_000

    init(configuration: AgentConfiguration, base: AgentConfiguration, configs: AppliedConfigs) {
        self.configuration = configuration
        self.base = base
        self.configs = configs
    }

    var labels: [String: String] { (try? configuration.labelMap()) ?? [:] }

    func handle(_ job: AgentCore.Job, core: AgentCore) {
        let now = MonotonicClock.nanoseconds()
        switch job {
        case .opened(let w):
            welcome = w
            nextHeartbeat = now
        case .closed:
            welcome = nil
            heartbeatSentAt = nil
        case .heartbeatAcknowledged:
            // The node renewed every lease when the heartbeat arrived, after it was sent.
            guard let sent = heartbeatSentAt else { return }
            for id in tasks.keys where tasks[id]?.finishing == nil {
                tasks[id]!.leaseExpiresAt = max(tasks[id]!.leaseExpiresAt, sent + Int64(tasks[id]!.assignment.leaseMilliseconds) * 1_000_000)
            }
        case .control(.assign(let assignment)):
            assign(assignment, core: core, now: now)
        case .control(.control(let control)):
            self.control(control, core: core, now: now)
        case .control(.config(let push)):
            applyPush(push, core: core)
        case .stopInputs:
            stoppingInputs = true
            for id in tasks.keys { stopRunner(of: id, core: core) }
            for name in locals.keys { stopLocal(name, core: core) }
        }
    }

    func tick(core: AgentCore, stopping: Bool) {
        let now = MonotonicClock.nanoseconds()
        if stopping {
            handle(.stopInputs, core: core)
            return
        }
        if !stoppingInputs { reconcileLocals(core: core, now: now) }
        checkTasks(core: core, now: now)
        if welcome != nil, now >= nextHeartbeat { sendHeartbeat(core: core, now: now) }
        if now >= nextCompaction {
            nextCompaction = now + 2_000_000_000
            compact(core: core)
        }
        core.checkSilence()
    }

    // MARK: Tasks

    private func assign(_ a: TaskAssignment, core: AgentCore, now: Int64) {
        let lease = Int64(a.leaseMilliseconds) * 1_000_000
        if let held = tasks[a.taskID] {
            if held.assignment.epoch > a.epoch { return }
            if held.assignment.epoch == a.epoch, held.finishing == nil, let runner = held.runner, !runner.isStopped {
                tasks[a.taskID]!.leaseExpiresAt = max(held.leaseExpiresAt, now + lease)
                return
            }
            stopRunner(of: a.taskID, core: core)
        }
        guard !stoppingInputs else { return }
        let spec = InputSpec(name: a.taskID, kind: a.kind, parameters: a.parameters, stream: a.stream, producerID: a.producerID)
        do throws(AgentError) {
            let runner = try makeRunner(spec, checkpoint: a.checkpoint, core: core)
            tasks[a.taskID] = HeldTask(assignment: a, runner: runner, leaseExpiresAt: now + lease)
            core.logger.info("task started", metadata: [
                "task.id": "\(a.taskID)", "task.kind": "\(a.kind)", "task.epoch": "\(a.epoch)",
            ])
        } catch {
            core.logger.error("task cannot start", metadata: ["task.id": "\(a.taskID)", "error": "\(error)"])
            tasks[a.taskID] = nil
            report(TaskStatus(taskID: a.taskID, epoch: a.epoch, state: .failed, message: error.message), core: core)
        }
    }

    private func control(_ c: TaskControl, core: AgentCore, now: Int64) {
        guard let held = tasks[c.taskID], held.assignment.epoch == c.epoch else {
            // Not held (any more): nothing runs, so suspend and terminate are done already.
            if c.action != .revoke {
                let state: TaskReportState = c.action == .suspend ? .suspended : .terminated
                report(TaskStatus(taskID: c.taskID, epoch: c.epoch, state: state), core: core)
            }
            return
        }
        switch c.action {
        case .revoke:
            core.logger.info("task revoked", metadata: ["task.id": "\(c.taskID)", "task.epoch": "\(c.epoch)"])
            stopRunner(of: c.taskID, core: core)
            tasks[c.taskID] = nil
        case .suspend, .terminate:
            stopRunner(of: c.taskID, core: core, keep: true)
            tasks[c.taskID]!.finishing = (c.action, now)
        }
    }

    private func checkTasks(core: AgentCore, now: Int64) {
        for (id, held) in tasks {
            if let finishing = held.finishing {
                let drained = held.runner?.isDrained ?? true
                guard welcome != nil, drained || now - finishing.since > Self.finishTimeout else { continue }
                let state: TaskReportState = finishing.action == .suspend ? .suspended : .terminated
                report(TaskStatus(
                    taskID: id, epoch: held.assignment.epoch, state: state, checkpoint: held.runner?.acknowledgedCheckpoint ?? [:]), core: core)
                if let runner = held.runner { core.unregister(runner) }
                tasks[id] = nil
                continue
            }
            guard let runner = held.runner else { continue }
            if let failure = runner.failure {
                report(TaskStatus(
                    taskID: id, epoch: held.assignment.epoch, state: .failed, checkpoint: runner.acknowledgedCheckpoint ?? [:],
                    message: failure), core: core)
                stopRunner(of: id, core: core)
                tasks[id] = nil
            } else if now > held.leaseExpiresAt, !runner.isStopped {
                // The node may already have moved the task; it may also still count this
                // agent as the holder (it read the late heartbeats first). Saying so settles
                // both: the node places the task again (at the next epoch), or ignores a
                // report for an epoch it moved on from.
                core.logger.warning("task lease lost; stopped", metadata: ["task.id": "\(id)", "task.epoch": "\(held.assignment.epoch)"])
                runner.stop()
                report(TaskStatus(
                    taskID: id, epoch: held.assignment.epoch, state: .failed, checkpoint: runner.acknowledgedCheckpoint ?? [:],
                    message: "lease lost: no heartbeat acknowledged within the lease"), core: core)
                core.unregister(runner)
                tasks[id] = nil
            }
        }
    }

    private func stopRunner(of id: String, core: AgentCore, keep: Bool = false) {
        guard let runner = tasks[id]?.runner else { return }
        runner.stop()
        if !keep {
            core.unregister(runner)
            tasks[id]?.runner = nil
        }
    }

    private func report(_ status: TaskStatus, core: AgentCore) {
        core.send { allocator in [DaemonControlReport.task(status).frame(allocator: allocator)] }
    }

    private func sendHeartbeat(core: AgentCore, now: Int64) {
        let interval = Int64(max(100, welcome?.heartbeatIntervalMilliseconds ?? 1000)) * 1_000_000
        nextHeartbeat = now + interval
        heartbeatSentAt = now
        var statuses: [TaskStatus] = []
        for (id, held) in tasks.sorted(by: { $0.key < $1.key }) where held.finishing == nil {
            guard let runner = held.runner, !runner.isStopped else { continue }
            statuses.append(TaskStatus(
                taskID: id, epoch: held.assignment.epoch, state: .running, checkpoint: runner.acknowledgedCheckpoint ?? [:]))
        }
        let heartbeat = heartbeatMessage(core: core)
        let reports = statuses
        core.send { allocator in
            reports.map { DaemonControlReport.task($0).frame(allocator: allocator) } + [heartbeat.frame(allocator: allocator)]
        }
    }

    private func heartbeatMessage(core: AgentCore) -> NativeHeartbeat {
        let spool = core.spool
        let counters = core.counters
        let runners = tasks.values.compactMap(\.runner) + locals.values.compactMap(\.runner)
        let blocked = runners.filter(\.isBlocked).count
        return NativeHeartbeat(
            sentAtMilliseconds: UInt64(max(0, WallClock.nanoseconds() / 1_000_000)), backlogBytes: UInt64(spool.backlogBytes),
            oldestUnackedAgeMilliseconds: UInt64(spool.oldestUnacknowledgedAge.clampedNanoseconds / 1_000_000),
            recordsSent: counters.recordsSent, errors: counters.errors,
            extra: [
                "spool_bytes": "\(spool.backlogBytes)", "spool_max_bytes": "\(spool.maxBytes)",
                "spool_full": spool.hasRoom ? "false" : "true", "inputs": "\(runners.filter { !$0.isStopped }.count)",
                "inputs_blocked": "\(blocked)",
            ])
    }

    private func compact(core: AgentCore) {
        do { try core.spool.compact() } catch {
            core.logger.error("spool: cannot delete acknowledged segments", metadata: ["error": "\(error)"])
        }
        let runners = tasks.values.compactMap(\.runner) + locals.values.compactMap(\.runner)
        for runner in runners {
            do { try runner.compactJournal() } catch {
                core.logger.warning("spool: cannot compact a checkpoint journal", metadata: ["input": "\(runner.name)", "error": "\(error)"])
            }
        }
    }

    // MARK: Quick-start inputs

    /// Starts the inputs the configuration names and stops those it no longer names.
    private func reconcileLocals(core: AgentCore, now: Int64) {
        let wanted = InputSpec.quickStart(configuration, agentID: core.host)
        for name in locals.keys where !wanted.contains(where: { $0.name == name }) {
            stopLocal(name, core: core)
            locals[name] = nil
        }
        for spec in wanted {
            if let local = locals[spec.name] {
                if local.spec != spec {
                    stopLocal(spec.name, core: core)
                    locals[spec.name] = LocalInput(spec: spec)
                } else if let runner = local.runner, let failure = runner.failure {
                    core.logger.error("input failed; retrying in 30 s", metadata: ["input": "\(spec.name)", "error": "\(failure)"])
                    stopLocal(spec.name, core: core)
                    locals[spec.name]?.retryAt = now + Self.retryDelay
                }
            } else {
                locals[spec.name] = LocalInput(spec: spec)
            }
            guard let local = locals[spec.name], local.runner == nil, now >= local.retryAt else { continue }
            do throws(AgentError) {
                locals[spec.name]?.runner = try makeRunner(spec, checkpoint: [:], core: core)
                core.logger.info("input started", metadata: ["input": "\(spec.name)"])
            } catch {
                core.logger.error("input cannot start; retrying in 30 s", metadata: ["input": "\(spec.name)", "error": "\(error)"])
                locals[spec.name]?.retryAt = now + Self.retryDelay
            }
        }
    }

    private func stopLocal(_ name: String, core: AgentCore) {
        guard let runner = locals[name]?.runner else { return }
        runner.stop()
        core.unregister(runner)
        locals[name]?.runner = nil
    }

    // MARK: Readers

    /// A runner for `spec`, resuming from its checkpoint journal when the spool holds its
    /// batches, else from `checkpoint` (the node's).
    private func makeRunner(_ spec: InputSpec, checkpoint: [String: String], core: AgentCore) throws(AgentError) -> InputRunner {
        let directory = core.spool.directory + "/checkpoints"
        let journal: CheckpointJournal
        do {
            try FileSystem.makeDirectory(directory)
            journal = try CheckpointJournal(
                path: directory + "/" + String(spec.producerID, radix: 16), spooled: core.spool.spooledSequence(producer: spec.producerID))
        } catch {
            throw AgentError("cannot open the checkpoint journal of \(spec.name): \(error)")
        }
        let resume = journal.latest ?? checkpoint
        let reader: any InputReader
        do { reader = try InputFactory.reader(spec, checkpoint: resume, host: core.host, logger: core.logger) } catch {
            throw AgentError(error.description)
        }
        let batcher = InputBatcher(
            spool: core.spool, producerID: spec.producerID, codec: configuration.compression, batchBytes: configuration.batchBytes,
            linger: configuration.linger, host: core.host, stream: spec.stream, logger: core.logger)
        let runner = InputRunner(
            name: spec.name, producerID: spec.producerID, reader: reader, batcher: batcher, journal: journal, spool: core.spool,
            logger: core.logger)
        core.register(runner)
        return runner
    }

    // MARK: Configuration

    private func applyPush(_ push: ConfigPush, core: AgentCore) {
        let result = configs.apply(push, base: base, logger: core.logger)
        core.send { allocator in result.reports.map { DaemonControlReport.config($0).frame(allocator: allocator) } }
        if let updated = result.configuration { adopt(updated, core: core) }
    }

    /// Puts `updated` in force: the spool limit at once, inputs on the next tick (restarted
    /// when their settings changed), labels at the next HELLO.
    func adopt(_ updated: AgentConfiguration, core: AgentCore) {
        let labelsChanged = updated.labels != configuration.labels
        let batchingChanged = (updated.batchBytes, updated.linger, updated.compression) != (configuration.batchBytes, configuration.linger, configuration.compression)
        configuration = updated
        core.spool.setMaxBytes(updated.spoolMaxBytes)
        if batchingChanged {
            for name in locals.keys { stopLocal(name, core: core) }
        }
        if labelsChanged { core.labelsChanged(updated) }
    }
}
