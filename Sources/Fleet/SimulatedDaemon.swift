import Platform
public import WAL
public import Wire
public import NIOCore
import NIOPosix
import Synchronization

/// A daemon that speaks the native protocol to a node and pretends to run the tasks it is
/// assigned: for end-to-end tests of the control plane and for `hypha bench control`.
///
/// It connects over TCP, sends HELLO and, after HELLO_OK:
/// - every heartbeat interval (the node's announced one, or
///   ``Configuration/heartbeatInterval``) sends one TASK_STATUS `running` per task it runs, with
///   a checkpoint that advances by ``Configuration/checkpointStep``, then a HEARTBEAT;
/// - on TASK_ASSIGN starts the task from the received checkpoint and reports `running` at once;
/// - on TASK_CONTROL `suspend` / `terminate` stops the task and answers `suspended` /
///   `terminated` (unless ``Configuration/acknowledgesTaskControl`` is off); on `revoke` stops
///   it without an answer;
/// - on CONFIG_PUSH answers `applying`, then what ``Configuration/configPolicy`` decides, and
///   remembers applied versions per name (``appliedConfigs``).
///
/// It sends task data only when asked (``sendTaskData(taskID:records:)``), with the producer
/// id of the task's current assignment. It never reconnects: once the connection ends, or after
/// ``kill()``, it runs nothing.
///
/// Checkpoints: `tail` tasks report `{"<dev>:<inode>": "<offset>"}` (a fixed device and an inode
/// derived from the `path` parameter); every other kind reports `{"offset": "<n>"}`. A received
/// checkpoint resumes from its largest numeric value.
///
/// Threading: all I/O and timers run on ``eventLoop`` (no thread, no Dispatch queue of its
/// own); every public method and property is thread-safe. State sits behind one small lock, so
/// ten thousand daemons fit in one process.
///
/// ```swift
/// let daemon = SimulatedDaemon(configuration: .init(daemonID: "web1"), eventLoop: group.next())
/// let welcome = try await daemon.connect(to: nodeAddress)
/// // … the node assigns a task …
/// let outcome = try await daemon.sendTaskData(taskID: "nginx-logs", records: records)
/// daemon.kill()
/// ```
public final class SimulatedDaemon: Sendable {
    /// Who the daemon is and how it behaves.
    public struct Configuration: Sendable {
        /// HELLO `daemon_id`, 1..128 bytes.
        public var daemonID: String
        /// HELLO `region`, 0..64 bytes.
        public var region: String
        public var labels: [String: String]
        public var token: String
        public var agentVersion: String
        /// The daemon's incarnation: when set, its HELLO is version 2 and names it (a daemon
        /// that keeps its state across connections keeps its incarnation; one that restarts
        /// without it picks a new one, ``DaemonIncarnation/random()``). `nil`: a version 1 HELLO.
        public var incarnation: DaemonIncarnation?
        /// Heartbeat period; `nil` uses the node's `heartbeat_interval_ms`. The first heartbeat
        /// comes after a random 50–100 % of the period, so a large fleet does not beat in step.
        public var heartbeatInterval: TimeAmount?
        /// Whether `suspend` and `terminate` are answered with TASK_STATUS. Off simulates a
        /// daemon that stops but never says so.
        public var acknowledgesTaskControl: Bool
        /// How far a task's checkpoint advances at each periodic report.
        public var checkpointStep: UInt64
        /// The outcome of applying a pushed configuration: `applied`, `failed`, or `applying`
        /// (stays applying: no second CONFIG_STATUS). Called on the event loop; keep it quick.
        public var configPolicy: @Sendable (ConfigPush) -> ConfigApplyState

        public init(
            daemonID: String, region: String = "", labels: [String: String] = [:], token: String = "",
            agentVersion: String = "hypha-fleet/1", incarnation: DaemonIncarnation? = nil, heartbeatInterval: TimeAmount? = nil,
            acknowledgesTaskControl: Bool = true,
            checkpointStep: UInt64 = 1, configPolicy: @escaping @Sendable (ConfigPush) -> ConfigApplyState = { _ in .applied }
        ) {
            self.daemonID = daemonID
            self.region = region
            self.labels = labels
            self.token = token
            self.agentVersion = agentVersion
            self.incarnation = incarnation
            self.heartbeatInterval = heartbeatInterval
            self.acknowledgesTaskControl = acknowledgesTaskControl
            self.checkpointStep = checkpointStep
            self.configPolicy = configPolicy
        }
    }

    public let configuration: Configuration
    /// The loop that runs this daemon's connection and timers.
    public let eventLoop: any EventLoop
    private let state = Mutex(State())
    private let closedPromise: EventLoopPromise<Void>

    /// Creates an unconnected daemon; call ``connect(to:timeout:)``.
    public init(configuration: Configuration, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        closedPromise = eventLoop.makePromise(of: Void.self)
    }

    // MARK: Observing

    /// What the daemon did, in order. Grows by a few events per assignment and push.
    public var events: [FleetEvent] { state.withLock { $0.events } }
    /// The tasks running now: task id → epoch.
    public var runningTasks: [String: UInt64] { state.withLock { $0.running.mapValues(\.assignment.epoch) } }
    /// Every TASK_ASSIGN received, in order.
    public var assignments: [ReceivedAssignment] { state.withLock { $0.assignments } }
    /// The last applied version of each configuration name.
    public var appliedConfigs: [String: AppliedConfig] { state.withLock { $0.applied } }
    /// The checkpoint a running task would report now; `nil` if it does not run.
    public func checkpoint(ofTask taskID: String) -> [String: String]? {
        state.withLock { s in s.running[taskID].map { checkpoint(of: $0) } }
    }
    /// HELLO_OK, once received.
    public var welcome: NativeWelcome? { state.withLock { $0.welcome } }
    /// HEARTBEATs sent and HEARTBEAT_ACKs received.
    public var heartbeatCounts: (sent: Int, acknowledged: Int) { state.withLock { ($0.heartbeatsSent, $0.heartbeatAcks) } }
    /// The last ERROR the node sent: (code, message).
    public var lastNodeError: (code: UInt16, message: String)? { state.withLock { $0.lastNodeError } }
    /// Whether the connection is open and HELLO_OK arrived.
    public var isConnected: Bool { state.withLock { $0.welcome != nil && !$0.closed && !$0.killed } }
    /// Whether ``kill()`` was called.
    public var isKilled: Bool { state.withLock { $0.killed } }

    /// Succeeds when the connection is closed (or the connect failed).
    var closeFuture: EventLoopFuture<Void> { closedPromise.futureResult }

    // MARK: Driving

    /// Connects, sends HELLO and waits for HELLO_OK.
    /// - Parameters:
    ///   - address: the node's native listener.
    ///   - timeout: how long to wait for HELLO_OK after starting to connect.
    /// - Returns: what HELLO_OK announced. Control frames the node sends right after it are
    ///   handled as they arrive.
    /// - Throws: ``FleetError`` `refused` (the node answered ERROR), `connectionClosed`,
    ///   `timeout`, `killed`; or the connect error.
    public func connect(to address: SocketAddress, timeout: TimeAmount = .seconds(10)) async throws -> NativeWelcome {
        try await connectFuture(to: address, timeout: timeout).get()
    }

    /// The HELLO of `configuration`: version 2 naming its incarnation when it has one.
    private static func hello(_ configuration: Configuration) -> NativeHello {
        var hello = NativeHello(
            version: configuration.incarnation == nil ? 1 : 2, daemonID: configuration.daemonID, region: configuration.region,
            labels: configuration.labels, token: configuration.token, agentVersion: configuration.agentVersion)
        hello.incarnation = configuration.incarnation
        return hello
    }

    /// ``connect(to:timeout:)`` as a future, completed on ``eventLoop``.
    func connectFuture(to address: SocketAddress, timeout: TimeAmount) -> EventLoopFuture<NativeWelcome> {
        let promise = eventLoop.makePromise(of: NativeWelcome.self)
        let starting = state.withLock { s -> Bool in
            guard !s.killed, !s.connecting else { return false }
            s.connecting = true
            return true
        }
        guard starting else {
            promise.fail(FleetError(.killed, "the daemon was killed or has connected before"))
            return promise.futureResult
        }
        let deadline = eventLoop.scheduleTask(in: timeout) { [self] in
            promise.fail(FleetError(.timeout, "no HELLO_OK within \(timeout)"))
            state.withLock { $0.channel }?.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        let hello = Self.hello(configuration)
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 256, initial: 1024, maximum: 1 << 20))
            .connectTimeout(timeout)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        // Node frames may be up to 16 MiB (docs/protocol.md, section 3).
                        ByteToMessageHandler(NativeFrameDecoder(maxFrameBytes: 16 << 20)),
                        SimulatedDaemonHandler(daemon: self, hello: hello, welcomed: promise),
                    ])
                }
            }
            .connect(to: address)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    let killed = state.withLock { s in
                        s.channel = channel
                        return s.killed
                    }
                    if killed { channel.close(promise: nil) }
                case .failure(let error):
                    promise.fail(error)
                    closedPromise.succeed()
                }
            }
        return promise.futureResult
    }

    /// Sends one BATCH of task data with the producer id of the task's current assignment and
    /// waits for the node's ACK or NACK. Each call uses the next producer sequence of that
    /// assignment (from 1), and advances the task's checkpoint by the number of records.
    /// - Parameters:
    ///   - taskID: a task this daemon runs now.
    ///   - records: 1...65535 records, encoded as in the WAL.
    /// - Returns: the node's answer: ``BatchAnswer/isAcknowledged`` for an ACK; a fenced
    ///   batch gets a NACK with reason 5 for every record.
    /// - Throws: ``FleetError`` `taskNotRunning`, `notConnected`, `killed`, `invalidArgument`
    ///   (no records, too many, frame above the node's `max_frame_size`), `connectionClosed`.
    public func sendTaskData(taskID: String, records: [Record]) async throws -> BatchAnswer {
        try await send(records) { (s: inout State) throws(FleetError) -> (UInt64, UInt64) in
            guard var task = s.running[taskID] else { throw FleetError(.taskNotRunning, "task \(taskID) is not running") }
            defer {
                task.nextSequence += 1
                task.offset += UInt64(records.count)
                s.running[taskID] = task
            }
            return (task.assignment.producerID, task.nextSequence)
        }
    }

    /// Sends one BATCH with any producer id and sequence, e.g. a stale task producer id after
    /// the lease moved (what a partitioned daemon would do), and waits for the ACK or NACK.
    /// - Throws: as ``sendTaskData(taskID:records:)``, without `taskNotRunning`.
    public func sendBatch(producerID: UInt64, sequence: UInt64, records: [Record]) async throws -> BatchAnswer {
        try await send(records) { (_: inout State) throws(FleetError) -> (UInt64, UInt64) in (producerID, sequence) }
    }

    /// Sends `records` in one BATCH under the (producer id, sequence) that `identify` picks
    /// while holding the state lock, and completes when its answer arrives.
    private func send(
        _ records: [Record], identify: @escaping @Sendable (inout State) throws(FleetError) -> (UInt64, UInt64)
    ) async throws -> BatchAnswer {
        guard (1 ... 65_535).contains(records.count) else {
            throw FleetError(.invalidArgument, "a BATCH carries 1...65535 records, not \(records.count)")
        }
        return try await eventLoop.flatSubmit { [self] () -> EventLoopFuture<BatchAnswer> in
            let promise = eventLoop.makePromise(of: BatchAnswer.self)
            let result = state.withLock { s -> Result<(any Channel, ByteBuffer), FleetError> in
                guard !s.killed else { return .failure(FleetError(.killed, "the daemon was killed")) }
                guard let channel = s.channel, let welcome = s.welcome, !s.closed else {
                    return .failure(FleetError(.notConnected, "no open connection"))
                }
                let producerID: UInt64, sequence: UInt64
                do throws(FleetError) { (producerID, sequence) = try identify(&s) } catch { return .failure(error) }
                let frame = NodeFrames.batch(producerID: producerID, sequence: sequence, records: records, allocator: channel.allocator)
                guard frame.readableBytes - 4 <= welcome.maxFrameSize else {
                    return .failure(FleetError(.invalidArgument, "BATCH of \(frame.readableBytes - 4) bytes exceeds max_frame_size \(welcome.maxFrameSize)"))
                }
                s.recordsSent += UInt64(records.count)
                s.pending.append(PendingBatch(producerID: producerID, sequence: sequence, promise: promise))
                return .success((channel, frame))
            }
            switch result {
            case .success(let (channel, frame)): channel.writeAndFlush(frame, promise: nil)
            case .failure(let error): promise.fail(error)
            }
            return promise.futureResult
        }.get()
    }

    /// Closes the connection abruptly (no goodbye) and stops the timers. Every running task
    /// stops (event `stopped(…, killed)`); from then on the daemon runs nothing and ignores
    /// whatever still arrives. Idempotent; callable from any thread.
    public func kill() {
        let (channel, timer) = state.withLock { s -> ((any Channel)?, RepeatedTask?) in
            guard !s.killed else { return (nil, nil) }
            s.killed = true
            s.stopAll(.killed, daemonID: configuration.daemonID)
            defer { s.heartbeatTimer = nil }
            return (s.channel, s.heartbeatTimer)
        }
        timer?.cancel()
        channel?.close(promise: nil)
    }

    /// Stops sending TASK_STATUS reports and HEARTBEATs while the connection stays open: a
    /// simulated partition, after which the node's leases expire. Control frames that still
    /// arrive are handled and answered.
    public func pauseHeartbeats() { state.withLock { $0.paused = true } }

    /// Sends reports and heartbeats again from the next period on.
    public func resumeHeartbeats() { state.withLock { $0.paused = false } }

    // MARK: Event loop side (called by SimulatedDaemonHandler)

    /// HELLO_OK arrived: start the heartbeat timer.
    func welcomed(_ welcome: NativeWelcome, channel: any Channel) {
        let interval = configuration.heartbeatInterval ?? .milliseconds(Int64(max(1, welcome.heartbeatIntervalMilliseconds)))
        let nanos = max(1_000_000, interval.nanoseconds)
        let first = TimeAmount.nanoseconds(Int64.random(in: nanos / 2 ... nanos))
        let killed = state.withLock { s in
            s.welcome = welcome
            s.channel = channel
            return s.killed
        }
        guard !killed else { return }
        let timer = channel.eventLoop.scheduleRepeatedTask(initialDelay: first, delay: .nanoseconds(nanos)) { [self] _ in tick() }
        let keep = state.withLock { s in
            guard !s.killed, !s.closed else { return false }
            s.heartbeatTimer = timer
            return true
        }
        if !keep { timer.cancel() }
    }

    /// One heartbeat period: a TASK_STATUS `running` per task, then a HEARTBEAT, one flush.
    private func tick() {
        let out = state.withLock { s -> (any Channel, [ByteBuffer])? in
            guard !s.killed, !s.closed, !s.paused, let channel = s.channel else { return nil }
            var frames: [ByteBuffer] = []
            frames.reserveCapacity(s.running.count + 1)
            for id in s.running.keys.sorted() {
                s.running[id]!.offset += configuration.checkpointStep
                let task = s.running[id]!
                let status = TaskStatus(taskID: id, epoch: task.assignment.epoch, state: .running, checkpoint: checkpoint(of: task))
                frames.append(DaemonControlReport.task(status).frame(allocator: channel.allocator))
            }
            s.heartbeatsSent += 1
            let heartbeat = NativeHeartbeat(
                sentAtMilliseconds: UInt64(WallClock.nanoseconds() / 1_000_000), recordsSent: s.recordsSent,
                extra: ["tasks": "\(s.running.count)"])
            frames.append(heartbeat.frame(allocator: channel.allocator))
            return (channel, frames)
        }
        guard let (channel, frames) = out else { return }
        for frame in frames { channel.write(frame, promise: nil) }
        channel.flush()
    }

    /// A frame after HELLO_OK.
    func received(type: UInt8, body: inout ByteBuffer, channel: any Channel) throws(FleetError) {
        guard !state.withLock({ $0.killed }) else { return }
        let frame: Inbound
        do throws(NativeMalformed) {
            frame = try Self.decode(type: type, body: &body)
        } catch {
            throw FleetError(.protocolViolation, "undecodable frame 0x\(String(type, radix: 16)): \(error.what)")
        }
        switch frame {
        case .answer(let outcome):
            let pending = state.withLock { $0.pending.popFirst() }
            guard let pending else { throw FleetError(.protocolViolation, "an ACK or NACK for no outstanding BATCH") }
            guard pending.producerID == outcome.producerID, pending.sequence == outcome.producerSequence else {
                let error = FleetError(
                    .protocolViolation,
                    "the answer for (\(outcome.producerID), \(outcome.producerSequence)) does not match the oldest outstanding BATCH")
                pending.promise.fail(error)
                throw error
            }
            pending.promise.succeed(outcome)
        case .heartbeatAck:
            state.withLock { $0.heartbeatAcks += 1 }
        case .error(let code, let message):
            state.withLock { $0.lastNodeError = (code, message) }
        case .control(let message):
            handle(message, channel: channel)
        case .unexpected:
            throw FleetError(.protocolViolation, "unexpected frame type 0x\(String(type, radix: 16)) from the node")
        }
    }

    private enum Inbound {
        case answer(BatchAnswer)
        case heartbeatAck
        case error(UInt16, String)
        case control(NodeControlMessage)
        case unexpected
    }

    private static func decode(type: UInt8, body: inout ByteBuffer) throws(NativeMalformed) -> Inbound {
        switch NativeFrameType(rawValue: type) {
        case .ack?: return .answer(try NodeFrames.ack(&body))
        case .nack?: return .answer(try NodeFrames.nack(&body))
        case .heartbeatAck?:
            _ = try NodeFrames.heartbeatAck(&body)
            return .heartbeatAck
        case .error?:
            let (code, message) = try NodeFrames.error(&body)
            return .error(code, message)
        default:
            // CONFIG_PUSH, TASK_ASSIGN, TASK_CONTROL: Wire's decoder; `nil` for anything else.
            return try NodeControlMessage.decode(type: type, body: &body).map(Inbound.control) ?? .unexpected
        }
    }

    private func handle(_ message: NodeControlMessage, channel: any Channel) {
        let id = configuration.daemonID
        switch message {
        case .assign(let a):
            let report = state.withLock { s -> TaskStatus? in
                if let current = s.running[a.taskID], current.assignment.epoch > a.epoch { return nil }  // stale
                let now = WallClock.nanoseconds()
                let task = RunningTask(assignment: a, offset: Self.resumeOffset(a.checkpoint))
                s.running[a.taskID] = task
                s.assignments.append(ReceivedAssignment(a, receivedAtNanoseconds: now))
                s.events.append(FleetEvent(daemonID: id, wallNanoseconds: now, kind: .assigned(task: a.taskID, epoch: a.epoch, checkpoint: a.checkpoint)))
                return TaskStatus(taskID: a.taskID, epoch: a.epoch, state: .running, checkpoint: checkpoint(of: task))
            }
            if let report { channel.writeAndFlush(DaemonControlReport.task(report).frame(allocator: channel.allocator), promise: nil) }
        case .control(let c):
            let report = state.withLock { s -> TaskStatus? in
                let now = WallClock.nanoseconds()
                let held = s.running[c.taskID]
                if let held, held.assignment.epoch > c.epoch { return nil }  // about an older lease: keep running
                if held != nil { s.running[c.taskID] = nil }
                let epoch = held?.assignment.epoch ?? c.epoch
                switch c.action {
                case .revoke:
                    if held != nil { s.events.append(FleetEvent(daemonID: id, wallNanoseconds: now, kind: .revoked(task: c.taskID, epoch: epoch))) }
                    return nil
                case .suspend, .terminate:
                    let why: FleetEvent.StopReason = c.action == .suspend ? .suspended : .terminated
                    if held != nil { s.events.append(FleetEvent(daemonID: id, wallNanoseconds: now, kind: .stopped(task: c.taskID, epoch: epoch, why: why))) }
                    guard configuration.acknowledgesTaskControl else { return nil }
                    // Answered even when the task is not held (any more): the stop is idempotent.
                    return TaskStatus(
                        taskID: c.taskID, epoch: c.epoch, state: c.action == .suspend ? .suspended : .terminated,
                        checkpoint: held.map { checkpoint(of: $0) } ?? [:])
                }
            }
            if let report { channel.writeAndFlush(DaemonControlReport.task(report).frame(allocator: channel.allocator), promise: nil) }
        case .config(let p):
            let outcome = configuration.configPolicy(p)
            var reports = [ConfigStatus(name: p.name, version: p.version, hash: p.hash, state: .applying)]
            if outcome != .applying {
                reports.append(ConfigStatus(
                    name: p.name, version: p.version, hash: p.hash, state: outcome,
                    message: outcome == .failed ? "rejected by the simulated daemon's policy" : ""))
            }
            state.withLock { s in
                let now = WallClock.nanoseconds()
                for r in reports {
                    s.events.append(FleetEvent(daemonID: id, wallNanoseconds: now, kind: .config(name: r.name, version: r.version, hash: r.hash, state: r.state)))
                }
                if outcome == .applied {
                    s.applied[p.name] = AppliedConfig(name: p.name, version: p.version, hash: p.hash, format: p.format, contentBytes: p.content.count)
                }
            }
            for r in reports { channel.write(DaemonControlReport.config(r).frame(allocator: channel.allocator), promise: nil) }
            channel.flush()
        }
    }

    /// The connection ended: fail outstanding batches, stop the timer and every task.
    func connectionClosed() {
        let (timer, pending) = state.withLock { s -> (RepeatedTask?, CircularBuffer<PendingBatch>) in
            s.closed = true
            if !s.killed { s.stopAll(.disconnected, daemonID: configuration.daemonID) }
            defer {
                s.heartbeatTimer = nil
                s.pending.removeAll()
            }
            return (s.heartbeatTimer, s.pending)
        }
        timer?.cancel()
        let reason = state.withLock { $0.lastNodeError }.map { "the node sent ERROR \($0.code): \($0.message)" } ?? "the connection closed"
        for p in pending { p.promise.fail(FleetError(.connectionClosed, reason)) }
        closedPromise.succeed()
    }

    // MARK: Checkpoints

    private func checkpoint(of task: RunningTask) -> [String: String] {
        let a = task.assignment
        guard a.kind == "tail" else { return ["offset": "\(task.offset)"] }
        // A fixed device and an inode derived from the path, so it is stable across epochs.
        let path = a.parameters["path"] ?? a.taskID
        let inode = SourceHash.hash(path) % 10_000_000
        return ["2049:\(inode)": "\(task.offset)"]
    }

    private static func resumeOffset(_ checkpoint: [String: String]) -> UInt64 {
        checkpoint.values.compactMap { UInt64($0) }.max() ?? 0
    }
}

private struct RunningTask {
    var assignment: TaskAssignment
    var offset: UInt64
    var nextSequence: UInt64 = 1
}

private struct PendingBatch {
    let producerID: UInt64
    let sequence: UInt64
    let promise: EventLoopPromise<BatchAnswer>
}

private struct State {
    var channel: (any Channel)?
    var welcome: NativeWelcome?
    var heartbeatTimer: RepeatedTask?
    var connecting = false
    var killed = false
    var closed = false
    var paused = false
    var running: [String: RunningTask] = [:]
    var assignments: [ReceivedAssignment] = []
    var events: [FleetEvent] = []
    var applied: [String: AppliedConfig] = [:]
    var pending = CircularBuffer<PendingBatch>(initialCapacity: 4)
    var heartbeatsSent = 0
    var heartbeatAcks = 0
    var recordsSent: UInt64 = 0
    var lastNodeError: (code: UInt16, message: String)?

    mutating func stopAll(_ why: FleetEvent.StopReason, daemonID: String) {
        let now = WallClock.nanoseconds()
        for (id, task) in running.sorted(by: { $0.key < $1.key }) {
            events.append(FleetEvent(daemonID: daemonID, wallNanoseconds: now, kind: .stopped(task: id, epoch: task.assignment.epoch, why: why)))
        }
        running = [:]
    }
}

/// Reads the node's frames for one ``SimulatedDaemon``: sends HELLO when connected, completes
/// the connect promise at HELLO_OK (or fails it at ERROR or close), then hands every frame to
/// the daemon. An undecodable or unexpected frame gets ERROR 2 and a close, as
/// docs/protocol.md, section 12 asks of clients.
///
/// All methods run on the channel's event loop.
final class SimulatedDaemonHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let daemon: SimulatedDaemon
    private let hello: NativeHello
    private var welcomed: EventLoopPromise<NativeWelcome>?

    init(daemon: SimulatedDaemon, hello: NativeHello, welcomed: EventLoopPromise<NativeWelcome>) {
        self.daemon = daemon
        self.hello = hello
        self.welcomed = welcomed
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(hello.frame(allocator: context.channel.allocator)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        guard let type = frame.readInteger(as: UInt8.self) else { return }
        if let promise = welcomed {
            do throws(NativeMalformed) {
                switch NativeFrameType(rawValue: type) {
                case .helloOK?:
                    let welcome = try NodeFrames.welcome(&frame)
                    welcomed = nil
                    daemon.welcomed(welcome, channel: context.channel)
                    promise.succeed(welcome)
                case .error?:
                    let (code, message) = try NodeFrames.error(&frame)
                    welcomed = nil
                    promise.fail(FleetError(.refused, message, nodeErrorCode: code))
                    context.close(promise: nil)
                default:
                    violation(FleetError(.protocolViolation, "expected HELLO_OK, got frame type 0x\(String(type, radix: 16))"), context: context)
                }
            } catch {
                violation(FleetError(.protocolViolation, "undecodable HELLO_OK: \(error.what)"), context: context)
            }
            return
        }
        do throws(FleetError) {
            try daemon.received(type: type, body: &frame, channel: context.channel)
        } catch {
            violation(error, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let promise = welcomed {
            welcomed = nil
            let reason = daemon.lastNodeError.map { "ERROR \($0.code): \($0.message)" } ?? "the node closed the connection before HELLO_OK"
            promise.fail(FleetError(.connectionClosed, reason))
        }
        daemon.connectionClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NativeFrameDecoder.FrameError {
            violation(FleetError(.protocolViolation, "frame length outside 1...16 MiB"), context: context)
        } else {
            context.close(promise: nil)
        }
    }

    private func violation(_ error: FleetError, context: ChannelHandlerContext) {
        if let promise = welcomed {
            welcomed = nil
            promise.fail(error)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(NativeFrames.error(.protocolViolation, error.message, allocator: channel.allocator)))
            .whenComplete { _ in channel.close(promise: nil) }
    }
}

@available(*, unavailable)
extension SimulatedDaemonHandler: Sendable {}
