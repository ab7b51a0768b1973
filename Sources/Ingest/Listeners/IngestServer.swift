import Platform
import WAL
public import Wire
public import Logging
public import NIOCore
public import NIOPosix
import Synchronization

/// Where each listener binds; `nil` disables a listener, port 0 picks a free port.
public struct ListenerPorts: Sendable, Equatable {
    public var native: Int? = 7400
    public var syslog: Int? = 5514
    public var json: Int? = 7402
    public var influx: Int? = 8089
    public var graphite: Int? = 2003

    public init() {}
}

/// The listening end of the record path: TCP/UDP listeners on SwiftNIO (one event loop per
/// core) and a batcher per loop, feeding the ``ShardWriters``.
///
/// Lifecycle: `start()` binds every listener; `shutdown()` drains: stops accepting, reads what
/// senders already sent, seals every batcher, lets the writers write and sync everything,
/// sends the last native acks and closes connections. The WAL itself stays open (its owner
/// closes it). Thread-safe.
public final class IngestServer: Sendable {
    public let context: IngestContext
    public let group: MultiThreadedEventLoopGroup
    private let shardWriters: ShardWriters
    private let bindHost: String
    private let ports: ListenerPorts
    private let logger: Logger
    private let batchers: [ObjectIdentifier: NIOLoopBoundBox<LoopBatcher>]
    private let loops: [any EventLoop]
    private let servers = Mutex<[(String, any Channel)]>([])
    /// Open connections, and whether each speaks the native protocol.
    private let children = Mutex<[ObjectIdentifier: (any Channel, Bool)]>([:])
    private let connections = Atomic<Int>(0)
    private let timers = Mutex<[RepeatedTask]>([])
    private let startSequences: [UInt64]

    /// Creates the listeners' event loops and batchers around `writers`; nothing listens until
    /// ``start()``.
    public init(
        writers: ShardWriters, stats: IngestStats, limits: IngestLimits, bindHost: String, ports: ListenerPorts,
        tokens: Set<String>, nodeID: String, observer: (any DaemonObserver)?, control: (any DaemonControl)? = nil,
        heartbeatMilliseconds: UInt32 = 5000, threads: Int = System.coreCount, logger: Logger
    ) {
        shardWriters = writers
        startSequences = writers.writers.map { $0.shard.nextSequence }
        self.bindHost = bindHost
        self.ports = ports
        self.logger = logger
        context = IngestContext(
            writers: writers.writers, gate: writers.gate, stats: stats, limits: limits, tokens: tokens, nodeID: nodeID,
            observer: observer, control: control, heartbeatMilliseconds: heartbeatMilliseconds)
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        loops = Array(group.makeIterator())
        var batchers: [ObjectIdentifier: NIOLoopBoundBox<LoopBatcher>] = [:]
        let linger = TimeAmount.nanoseconds(Int64(max(1_000_000, limits.lingerNanoseconds)))
        for loop in loops {
            let sink = BatchingSink(
                writers: writers.writers, gate: writers.gate, stats: stats, limits: limits, pool: writers.pool, logger: logger)
            batchers[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(
                LoopBatcher(sink, loop: loop, linger: linger), eventLoop: loop)
        }
        self.batchers = batchers
    }

    /// Records accepted from listeners that could not be written (``ShardWriters/lostRecords``).
    public var lostRecords: Int { shardWriters.lostRecords }

    /// Records made durable since this server started (the durable-record counter).
    public var durableRecordsSinceStart: Int {
        zip(shardWriters.writers, startSequences).reduce(0) { $0 + Int($1.0.shard.durableSequence - $1.1) }
    }

    /// The batcher owned by `loop`.
    func batcher(on loop: any EventLoop) -> LoopBatcher { batchers[ObjectIdentifier(loop)]!.value }

    /// Binds every enabled listener and starts the timers.
    /// - Returns: the bound address of each listener, by name (`native`, `syslog`, …).
    @discardableResult
    public func start() async throws -> [String: SocketAddress] {
        var bound: [String: SocketAddress] = [:]
        if let port = ports.native {
            bound["native"] = try await bindTCP("native", port: port) { [self] channel in
                let batcher = batcher(on: channel.eventLoop)
                try channel.pipeline.syncOperations.addHandlers([
                    InFlightBackpressure(gate: context.gate),
                    IdleStateHandler(readTimeout: .seconds(Int64(context.limits.idleTimeoutSeconds))),
                    ByteToMessageHandler(NativeFrameDecoder(maxFrameBytes: context.limits.maxFrameBytes)),
                    NativeHandler(ingest: context, batcher: batcher),
                ])
            }
        }
        if let port = ports.syslog {
            bound["syslog"] = try await bindStream(SyslogStream.self, "syslog", port: port, listener: .syslogTCP)
            bound["syslog_udp"] = try await bindUDP(port: port)
        }
        if let port = ports.json { bound["json"] = try await bindStream(LineStream<JSONLinesDecoder>.self, "json", port: port, listener: .json) }
        if let port = ports.influx { bound["influx"] = try await bindStream(LineStream<InfluxLineDecoder>.self, "influx", port: port, listener: .influx) }
        if let port = ports.graphite { bound["graphite"] = try await bindStream(LineStream<GraphiteDecoder>.self, "graphite", port: port, listener: .graphite) }
        startTimers()
        return bound
    }

    /// Drains and stops: see the type's documentation. Every accepted record is durable when it
    /// returns (or its sender was told it failed).
    public func shutdown() async throws {
        for (_, channel) in servers.withLock({ s in defer { s = [] }; return s }) {
            try? await channel.close()
        }
        // Connections read what their senders already sent, then close (native ones once
        // their last acks are out); the batchers are sealed after that.
        let open = children.withLock { Array($0.values) }
        for (channel, _) in open { channel.pipeline.fireUserInboundEventTriggered(IngestShutdown()) }
        for (channel, isNative) in open where !isNative {
            _ = try? await channel.closeFuture.timeout(seconds: 6, on: channel.eventLoop).get()
        }
        for loop in loops {
            let bound = batchers[ObjectIdentifier(loop)]!
            try await loop.submit {
                bound.value.withSink { sink in
                    sink.sealAll()
                    sink.publish()
                }
            }.get()
        }
        for t in timers.withLock({ t in defer { t = [] }; return t }) { t.cancel() }
        // Everything sealed is written and synced; a shard stopped by a failed sync fails what
        // still waits.
        shardWriters.drain()
        // Give connections a moment to send their last acks and close, then close the rest.
        for (channel, _) in open { _ = try? await channel.closeFuture.timeout(seconds: 5, on: channel.eventLoop).get() }
        for (channel, _) in children.withLock({ Array($0.values) }) { try? await channel.close() }
        try await group.shutdownGracefully()
    }

    // MARK: Binding

    private func bindStream<D: StreamDecoding>(_: D.Type, _ name: String, port: Int, listener: ListenerKind) async throws -> SocketAddress {
        try await bindTCP(name, port: port) { [self] channel in
            let batcher = batcher(on: channel.eventLoop)
            try channel.pipeline.syncOperations.addHandlers([
                InFlightBackpressure(gate: context.gate),
                IdleStateHandler(readTimeout: .seconds(Int64(context.limits.idleTimeoutSeconds))),
                StreamHandler<D>(ingest: context, batcher: batcher, listener: listener),
            ])
        }
    }

    private func bindTCP(
        _ name: String, port: Int, _ initialize: @escaping @Sendable (any Channel) throws -> Void
    ) async throws -> SocketAddress {
        let limit = context.limits.maxConnections
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Small first reads: an idle daemon connection then holds a few KiB, not 64 (10,000
            // connections). A busy one grows to 256 KiB reads within a few reads.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 2048, initial: 4096, maximum: 262_144))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let open = connections.wrappingAdd(1, ordering: .relaxed).newValue
                    let id = ObjectIdentifier(channel)
                    channel.closeFuture.whenComplete { [self] _ in
                        connections.wrappingSubtract(1, ordering: .relaxed)
                        children.withLock { $0[id] = nil }
                    }
                    guard open <= limit else {
                        if name == "native" {
                            channel.writeAndFlush(NativeFrames.error(.tooManyConnections, "connection limit \(limit) reached", allocator: channel.allocator), promise: nil)
                        }
                        channel.close(promise: nil)
                        return
                    }
                    children.withLock { $0[id] = (channel, name == "native") }
                    try initialize(channel)
                }
            }
        let channel = try await bootstrap.bind(host: bindHost, port: port).get()
        servers.withLock { $0.append((name, channel)) }
        logger.info("listening", metadata: ["listener": "\(name)", "address": "\(channel.localAddress!)"])
        return channel.localAddress!
    }

    private func bindUDP(port: Int) async throws -> SocketAddress {
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SyslogDatagramHandler(ingest: context, batcher: batcher(on: channel.eventLoop)))
                }
            }
            .bind(host: bindHost, port: port).get()
        servers.withLock { $0.append(("syslog_udp", channel)) }
        logger.info("listening", metadata: ["listener": "syslog_udp", "address": "\(channel.localAddress!)"])
        return channel.localAddress!
    }

    private func startTimers() {
        var tasks: [RepeatedTask] = []
        for loop in loops {
            let bound = batchers[ObjectIdentifier(loop)]!
            tasks.append(loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in bound.value.withSink { $0.publish() } })
        }
        let writers = shardWriters
        let stats = context.stats
        tasks.append(loops[0].scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            stats.tick(shardTotals: writers.totals, now: WallClock.nanoseconds(), seconds: 1)
        })
        timers.withLock { $0 = tasks }
    }
}

extension EventLoopFuture where Value: Sendable {
    /// Fails after `seconds` unless it completed first.
    func timeout(seconds: Int64, on loop: any EventLoop) -> EventLoopFuture<Value> {
        let promise = loop.makePromise(of: Value.self)
        let task = loop.scheduleTask(in: .seconds(seconds)) { promise.fail(ChannelError.operationUnsupported) }
        whenComplete { result in
            task.cancel()
            promise.completeWith(result)
        }
        return promise.futureResult
    }
}
