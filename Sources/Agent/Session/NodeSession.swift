import Logging
import NIOCore
import Platform
import WAL
import Wire

/// One connection to a node: says HELLO, then sends the spool's batches in order and routes
/// what the node sends back (answers to the spool, control frames to the agent's core).
///
/// At most ``AgentConfiguration/window`` batches are unanswered at once. Batches go as
/// BATCH_COMPRESSED with the bytes the spool stores when the node accepts that codec (no
/// recompression), else as a plain BATCH. Answers come in the order the batches went; each one
/// moves the spool's acknowledged watermark, whatever it says: an ACK (stored, or a duplicate
/// stored before), a NACK of records the node refuses (they would be refused again: counted and
/// logged), a fenced NACK (the task moved: its next holder reads from the acknowledged
/// checkpoint). An ERROR from the node, or silence past the timeout, closes the connection; the
/// next one sends again from the watermark and the node's de-duplication keeps out what it has.
///
/// Every method runs on the channel's event loop.
final class NodeSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let core: AgentCore
    private let hello: NativeHello
    private let window: Int
    private let silenceLimit: Int64
    private let logger: Logger
    /// Completed at HELLO_OK, or failed; nil once completed.
    private var welcomed: EventLoopPromise<NativeWelcome>?
    private var welcome: NativeWelcome?
    private var compression: WALCodec?
    private var cursor: ShardCursor?
    private var inFlight: [(producerID: UInt64, sequence: UInt64, end: UInt64, records: UInt32)] = []
    private var inFlightHead = 0
    /// Batches on the wire, not yet answered (skipped ones included).
    var unanswered: Int { inFlight.count - inFlightHead }
    private var lastHeard = MonotonicClock.nanoseconds()
    private var context: ChannelHandlerContext?

    init(core: AgentCore, hello: NativeHello, window: Int, silenceLimit: Duration, welcomed: EventLoopPromise<NativeWelcome>?, logger: Logger) {
        self.core = core
        self.hello = hello
        self.window = window
        self.silenceLimit = silenceLimit.clampedNanoseconds
        self.welcomed = welcomed
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(hello.frame(allocator: context.channel.allocator)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        lastHeard = MonotonicClock.nanoseconds()
        guard let type = frame.readInteger(as: UInt8.self) else { return }
        do throws(NativeMalformed) {
            switch NativeFrameType(rawValue: type) {
            case .helloOK? where welcome == nil:
                let w = try NodeFrames.welcome(&frame)
                welcome = w
                compression = w.compression
                cursor = core.spool.cursor()
                core.sessionOpened(w, session: NIOLoopBound(self, eventLoop: context.eventLoop))
                welcomed?.succeed(w)
                welcomed = nil
                pump()
            case .ack? where welcome != nil:
                answered(try NodeFrames.ack(&frame))
            case .nack? where welcome != nil:
                answered(try NodeFrames.nack(&frame))
            case .heartbeatAck? where welcome != nil:
                _ = try NodeFrames.heartbeatAck(&frame)
                core.heartbeatAcknowledged()
            case .error?:
                let (code, message) = try NodeFrames.error(&frame)
                logger.warning("node: ERROR; closing the connection", metadata: ["node.error.code": "\(code)", "node.error": "\(message)"])
                fail(AgentError("the node refused the session: ERROR \(code): \(message)", nodeErrorCode: code))
                context.close(promise: nil)
            default:
                guard welcome != nil, let message = try NodeControlMessage.decode(type: type, body: &frame) else {
                    throw NativeMalformed(what: "unexpected frame type 0x\(String(type, radix: 16))")
                }
                core.received(message)
            }
        } catch {
            violation("\(error.what)", context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(AgentError("the node closed the connection before HELLO_OK"))
        if welcome != nil { core.sessionClosed() }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("node: connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Sends what the spool has ready, up to the window. Called when the spool has more
    /// durable batches, after answers, and when the socket drains.
    func pump() {
        guard let context, let cursor, let welcome, context.channel.isWritable else { return }
        let limit = core.spool.sendableSequence
        var wrote = false
        while inFlight.count - inFlightHead < window {
            let batch: ReadBatch?
            do { batch = try cursor.next(upTo: limit) } catch {
                logger.error("spool: cannot read a batch to send", metadata: ["error": "\(error)"])
                break
            }
            guard let batch else { break }
            guard let frame = frame(for: batch, cursor: cursor, welcome: welcome, allocator: context.channel.allocator) else {
                // Unreadable: nothing to send; it counts as answered once those before it are.
                inFlight.append((0, 0, batch.header.endSequence, 0))
                settleSkipped()
                continue
            }
            inFlight.append((batch.header.producerID, batch.header.producerSequence, batch.header.endSequence, batch.header.recordCount))
            context.write(wrapOutboundOut(frame), promise: nil)
            wrote = true
        }
        if wrote { context.flush() }
    }

    /// Closes the connection when the node has been silent too long. Called by the core's tick.
    func checkSilence() {
        guard let context, MonotonicClock.nanoseconds() - lastHeard > silenceLimit else { return }
        logger.warning("node: no frame within the timeout; reconnecting")
        context.close(promise: nil)
    }

    /// Writes control frames (reports, heartbeats).
    func send(_ frames: [ByteBuffer]) {
        guard let context, !frames.isEmpty else { return }
        for frame in frames { context.write(wrapOutboundOut(frame), promise: nil) }
        context.flush()
    }

    /// The frame that carries `batch`: its stored bytes in a BATCH_COMPRESSED when the node
    /// takes that codec, else a plain BATCH of the decompressed records. A batch the spool
    /// cannot read back (damaged) is skipped and acknowledged, with an error in the log.
    private func frame(for batch: ReadBatch, cursor: ShardCursor, welcome: NativeWelcome, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let h = batch.header
        let header = NativeBatchHeader(producerID: h.producerID, producerSequence: h.producerSequence, recordCount: h.recordCount)
        if h.codec != .none, h.codec == compression {
            return NodeFrames.compressedBatch(
                header, codec: h.codec, uncompressedLength: Int(h.uncompressedLength), compressed: cursor.storedPayload(of: batch),
                allocator: allocator)
        }
        do {
            return try NodeFrames.batch(header, payload: try cursor.payload(of: batch), allocator: allocator)
        } catch {
            logger.error("spool: a batch cannot be read back; skipped", metadata: [
                "producer.id": "\(h.producerID)", "producer.sequence": "\(h.producerSequence)", "error": "\(error)",
            ])
            return nil
        }
    }

    private func answered(_ answer: BatchAnswer) {
        guard inFlightHead < inFlight.count else {
            violationOnLoop("an answer for producer \(answer.producerID) sequence \(answer.producerSequence), with no batch unanswered")
            return
        }
        let sent = inFlight[inFlightHead]
        guard sent.producerID == answer.producerID, sent.sequence == answer.producerSequence else {
            violationOnLoop("an answer for producer \(answer.producerID) sequence \(answer.producerSequence); expected \(sent.producerID) sequence \(sent.sequence)")
            return
        }
        popAnswered()
        core.answered(answer, end: sent.end, records: sent.records)
        settleSkipped()
        pump()
    }

    /// Skipped batches at the head of the window are settled: acknowledged in the spool.
    private func settleSkipped() {
        while inFlightHead < inFlight.count, inFlight[inFlightHead].producerID == 0 {
            core.spool.acknowledge(through: inFlight[inFlightHead].end)
            popAnswered()
        }
    }

    private func popAnswered() {
        inFlightHead += 1
        if inFlightHead == inFlight.count {
            inFlight.removeAll(keepingCapacity: true)
            inFlightHead = 0
        } else if inFlightHead > 256 {
            inFlight.removeFirst(inFlightHead)
            inFlightHead = 0
        }
    }

    private func fail(_ error: AgentError) {
        welcomed?.fail(error)
        welcomed = nil
    }

    private func violationOnLoop(_ what: String) {
        guard let context else { return }
        violation(what, context: context)
    }

    private func violation(_ what: String, context: ChannelHandlerContext) {
        logger.error("node: protocol violation; closing", metadata: ["error": "\(what)"])
        fail(AgentError("protocol violation: \(what)"))
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(NativeFrames.error(.protocolViolation, what, allocator: channel.allocator)))
            .whenComplete { _ in channel.close(promise: nil) }
    }
}

@available(*, unavailable)
extension NodeSession: Sendable {}
