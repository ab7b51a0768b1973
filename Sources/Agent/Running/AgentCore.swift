import Logging
import NIOCore
import Platform
import Synchronization
import WAL
import Wire

/// The agent between its inputs, its spool and its connection: it starts and stops inputs for
/// tasks and for the quick-start settings, routes the node's answers and control frames, and
/// sends heartbeats and task reports.
///
/// Thread model: the connection's event loop calls ``answered(_:end:records:)`` and the
/// session callbacks; everything else (starting readers, which opens files and spawns
/// processes; stopping them, which waits for their threads) runs on the core's own thread,
/// which also ticks every 250 ms. Every method may be called from any thread.
final class AgentCore: Sendable {
    let spool: Spool
    let incarnation: DaemonIncarnation
    let host: String
    let logger: Logger
    private let worker: WorkerThread<Job>
    private let shared: Locked<Shared>
    let state: CoreState

    enum Job: Sendable {
        case opened(NativeWelcome)
        case closed
        case control(NodeControlMessage)
        case heartbeatAcknowledged
        case stopInputs
    }

    /// What the event loop and the core's thread both touch.
    struct Shared: Sendable {
        var session: NIOLoopBound<NodeSession>?
        var runners: [UInt64: InputRunner] = [:]
        var recordsSent: UInt64 = 0
        var errors: UInt64 = 0
        var refusedRecords: UInt64 = 0
        var onLabels: (@Sendable ([String: String]) -> Void)?
    }

    init(configuration: AgentConfiguration, base: AgentConfiguration, configs: AppliedConfigs, spool: Spool, incarnation: DaemonIncarnation, logger: Logger) {
        self.spool = spool
        self.incarnation = incarnation
        host = configuration.id
        self.logger = logger
        let shared = Locked(Shared())
        self.shared = shared
        let state = CoreState(configuration: configuration, base: base, configs: configs)
        self.state = state
        let box = WorkerBox()
        worker = WorkerThread<Job>(name: "hypha-agent", period: .milliseconds(250)) { wake in
            box.core?.handle(wake)
        }
        spool.whenDurable { [shared] in
            guard let session = shared.withLock({ $0.session }) else { return }
            session.eventLoop.execute { session.value.pump() }
        }
        box.core = self
    }

    /// Starts the quick-start inputs and those of the saved configuration.
    func start() { worker.wake() }

    // MARK: From the connection (any thread)

    func sessionOpened(_ welcome: NativeWelcome, session: NIOLoopBound<NodeSession>) {
        shared.withLock { $0.session = session }
        worker.submit(.opened(welcome))
    }

    func sessionClosed() {
        shared.withLock { $0.session = nil }
        worker.submit(.closed)
    }

    func received(_ message: NodeControlMessage) { worker.submit(.control(message)) }

    func heartbeatAcknowledged() { worker.submit(.heartbeatAcknowledged) }

    /// The node answered the batch ending at spool sequence `end`: every answer is final.
    func answered(_ answer: BatchAnswer, end: UInt64, records: UInt32) {
        spool.acknowledge(through: end)
        let runner = shared.withLock { s -> InputRunner? in
            s.recordsSent += UInt64(answer.acceptedCount)
            if !answer.isAcknowledged { s.refusedRecords += UInt64(answer.rejectedCount) }
            return s.runners[answer.producerID]
        }
        if answer.isAcknowledged {
            runner?.acknowledge(answer.producerSequence)
            return
        }
        if answer.rejections.allSatisfy({ $0.code == NativeRejectCode.fenced.rawValue }) {
            logger.info("node: batch fenced (the task moved); its records are read again by the new holder", metadata: [
                "producer.id": "\(answer.producerID)", "producer.sequence": "\(answer.producerSequence)",
            ])
            return
        }
        shared.withLock { $0.errors += 1 }
        // The node stored the valid records; those it refused would be refused again.
        runner?.acknowledge(answer.producerSequence)
        logger.error("node: records refused", metadata: [
            "producer.id": "\(answer.producerID)", "producer.sequence": "\(answer.producerSequence)",
            "refused": "\(answer.rejectedCount)", "reason": "\(answer.rejectReasons.first ?? "")",
        ])
    }

    // MARK: Stopping

    /// Stops every input (each spools what it read) and waits for their threads.
    func stopInputs() {
        worker.submit(.stopInputs)
        _ = worker.waitUntilIdle(timeout: .seconds(30))
    }

    /// Whether every spooled batch is acknowledged.
    var isDrained: Bool { spool.acknowledged >= spool.endSequence }

    /// Stops the core's thread (after ``stopInputs()``).
    func stop() { worker.stop() }

    /// Counters for the heartbeat.
    var counters: (recordsSent: UInt64, errors: UInt64) { shared.withLock { ($0.recordsSent, $0.errors + $0.refusedRecords) } }

    func register(_ runner: InputRunner) { shared.withLock { $0.runners[runner.producerID] = runner } }

    func unregister(_ runner: InputRunner) {
        shared.withLock { s in
            if s.runners[runner.producerID] === runner { s.runners[runner.producerID] = nil }
        }
    }

    /// Sends frames on the current session, if any.
    func send(_ frames: @escaping @Sendable (ByteBufferAllocator) -> [ByteBuffer]) {
        guard let session = shared.withLock({ $0.session }) else { return }
        session.eventLoop.execute {
            let allocator = ByteBufferAllocator()
            session.value.send(frames(allocator))
        }
    }

    /// Asks the session to check the node's silence.
    func checkSilence() {
        guard let session = shared.withLock({ $0.session }) else { return }
        session.eventLoop.execute { session.value.checkSilence() }
    }

    /// Calls `body` when a pushed configuration changes the labels.
    func whenLabelsChange(_ body: @escaping @Sendable ([String: String]) -> Void) { shared.withLock { $0.onLabels = body } }

    func labelsChanged(_ configuration: AgentConfiguration) {
        let labels = (try? configuration.labelMap()) ?? [:]
        shared.withLock { $0.onLabels }?(labels)
    }

    private func handle(_ wake: WorkerThread<Job>.Wake) {
        for job in wake.jobs { state.handle(job, core: self) }
        state.tick(core: self, stopping: wake.isStopping)
    }
}

/// Lets the worker's closure reach the core once it exists.
private final class WorkerBox: @unchecked Sendable {
    // Written once, at the end of AgentCore.init; read on the worker only.
    weak var core: AgentCore?
}
