public import Ingest
public import Logging
public import NIOCore
public import NIOPosix
import Platform

/// Listens on a port of the agent's host for syslog (TCP or UDP) or JSON lines, decoding with
/// the node's own framers and decoders: the `listen` task's reader.
///
/// The first poll binds ``ListenOptions/address`` and ``ListenOptions/port`` on `group`. From
/// then on the event loops decode each read as it arrives into a bounded queue of encoded
/// records, and each poll moves the oldest of them into the sink, up to its budget. Decoding
/// is the node's, rule for rule: syslog frames by RFC 6587 (octet counting or LF), RFC 5424 and
/// RFC 3164 messages, JSON lines as logs or metric samples; malformed and overlong frames are
/// rejected and counted (``ListenStatistics/rejectedFrames``), never cut. A record that names
/// no host gets the peer's address, or ``ListenOptions/host`` when the peer is this host.
/// Records without a timestamp of their own get the time their bytes were read, not the
/// poll's `now`.
///
/// Bounds: the queue holds about ``ListenOptions/queueBytes`` of encoded records. When it is
/// full, TCP connections are no longer read (the kernel's buffers fill and TCP pushes back on
/// the senders) and UDP datagrams are dropped and counted
/// (``ListenStatistics/droppedDatagrams``); reading resumes once polls have taken it below
/// three quarters. A read already received is queued whole, so the queue may exceed the
/// bound by one read (at most 64 KiB of input) per connection. The number of connections is
/// not bounded: bind a public address only where the senders are trusted.
///
/// There is nothing to resume: ``ListenCheckpoint`` is empty, and records still queued when
/// the listener stops are lost.
///
/// ```swift
/// let listener = PortListener(options: try ListenOptions(parameters: assignment.parameters, host: hostname), logger: logger)
/// let progress = try listener.poll(into: &spoolSink, budget: ReadBudget(records: spool.freeRecords), now: .now())
/// ```
///
/// Thread: not thread-safe; one thread at a time (the agent's input worker). The first poll
/// and ``stop()`` block until the sockets are bound or closed, so neither may run on an event
/// loop of `group`.
public final class PortListener {
    /// What this listener binds and speaks.
    public let options: ListenOptions
    private let group: any EventLoopGroup
    private let logger: Logger
    private let queue: ListenQueue
    private var channel: (any Channel)?
    /// The records taken by the current poll (capacity kept between polls).
    private var taken: [UInt8] = []

    /// A listener for `options`, on the event loops of `group`. Nothing is bound before the
    /// first poll.
    public init(options: ListenOptions, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.options = options
        self.group = group
        self.logger = logger
        queue = ListenQueue(limit: options.queueBytes)
    }

    deinit {
        queue.close()
        channel?.close(promise: nil)
    }

    /// The port bound, once the first poll has bound it (useful with port 0).
    public var localPort: Int? { channel?.localAddress?.port }

    /// What has been received, refused and queued so far.
    public var statistics: ListenStatistics { queue.statistics }

    /// Binds the port if it is not yet bound, then emits queued records up to `budget`, oldest
    /// first.
    /// - Parameter now: unused: records are stamped when read (see the type's discussion).
    /// - Returns: the records emitted; ``ReadProgress/isMoreWaiting`` when records remain queued.
    /// - Throws: ``InputError/Code/bindFailed`` naming the address and port, with the error
    ///   underneath (address in use, not an address of this host, permission denied).
    public func poll(into sink: inout some RecordSink, budget: ReadBudget, now: ReadTime) throws(InputError) -> ReadProgress<ListenCheckpoint> {
        if channel == nil { channel = try bind() }
        let (count, isMoreWaiting) = queue.take(budget: budget, into: &taken)
        var meter = BudgetMeter(budget)
        ByteView.with(taken) { records in
            var offset = 0
            for _ in 0 ..< count {
                meter.spend(bytes: EncodingSink.replay(records, at: offset, into: &sink))
                offset += EncodingSink.recordLength(records, at: offset)
            }
        }
        return ReadProgress(meter, checkpoint: ListenCheckpoint(), isMoreWaiting: isMoreWaiting)
    }

    /// Closes the socket and every connection, and drops what is queued. A later poll binds
    /// again.
    public func stop() {
        queue.close()
        guard let channel else { return }
        self.channel = nil
        try? channel.close().wait()
        logger.info("stopped listening", metadata: ["agent.listen.protocol": "\(options.wireProtocol.rawValue)", "agent.listen.address": "\(options.address)", "agent.listen.port": "\(options.port)"])
    }

    private func bind() throws(InputError) -> any Channel {
        let bound: any Channel
        do {
            switch options.wireProtocol {
            case .syslogTCP: bound = try bindStream(SyslogStreamDecoding.self)
            case .jsonTCP: bound = try bindStream(JSONLinesStreamDecoding.self)
            case .syslogUDP: bound = try bindDatagrams()
            }
        } catch {
            throw InputError(
                .bindFailed, "cannot listen for \(options.wireProtocol.rawValue)", subject: "\(options.address) port \(options.port)", cause: error)
        }
        queue.reopen()
        logger.info("listening", metadata: ["agent.listen.protocol": "\(options.wireProtocol.rawValue)", "agent.listen.address": "\(bound.localAddress.map { "\($0)" } ?? options.address)"])
        return bound
    }

    private func bindStream<D: ListenStreamDecoding>(_: D.Type) throws -> any Channel {
        let queue = queue, maxLine = options.maxLineBytes, host = Array(options.host.utf8), logger = logger
        return try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // One read per wake-up: a paused connection then stops after at most one read.
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 2048, initial: 4096, maximum: 65_536))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ListenStreamHandler<D>(queue: queue, maxLineBytes: maxLine, host: host, logger: logger))
                }
            }
            .bind(host: options.address, port: options.port).wait()
    }

    private func bindDatagrams() throws -> any Channel {
        let queue = queue, maxLine = options.maxLineBytes, host = Array(options.host.utf8), logger = logger
        return try DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ListenDatagramHandler(queue: queue, maxLineBytes: maxLine, host: host, logger: logger))
                }
            }
            .bind(host: options.address, port: options.port).wait()
    }
}

@available(*, unavailable)
extension PortListener: Sendable {}
