import NIOCore
import Platform
import WAL
import Wire

/// Serves one native-protocol connection, version 1 or 2: HELLO (with token check and, in
/// version 2, the choice of a codec), BATCHes and BATCH_COMPRESSEDs acknowledged only once
/// durable and in arrival order (NativeHandler+Batches.swift), HEARTBEATs, and ERROR-then-close
/// on violations.
///
/// All methods run on the channel's event loop; WAL completions hop back to it.
final class NativeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let ingest: IngestContext
    let batcher: LoopBatcher
    private var context: ChannelHandlerContext?
    private(set) var hello: NativeHello?
    private var session: DaemonSession?
    private(set) var shard = 0
    private(set) var daemonHash: UInt64 = 0
    /// The HELLO's incarnation, 0 when it named none: part of the de-duplication key.
    private(set) var incarnation: UInt64 = 0
    /// The codec HELLO_OK accepted for BATCH_COMPRESSED; `nil`: plain BATCHes only.
    private(set) var codec: WALCodec?
    private var peer = ""
    private(set) var peerBytes: [UInt8] = []
    private var draining = false
    private var closing = false
    // Responses go out in the order their batches arrived.
    private var nextSlot = 0
    private var nextToSend = 0
    private var ready: [Int: ByteBuffer] = [:]
    /// The slot of an ERROR answer after which the connection closes.
    private var closeAfter: Int?

    init(ingest: IngestContext, batcher: LoopBatcher) {
        self.ingest = ingest
        self.batcher = batcher
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        peer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        peerBytes = Array(peer.utf8)
        batcher.withSink { sink in
            sink.listener = .native
            sink.countConnection()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let hello { ingest.observer?.daemonDisconnected(id: hello.daemonID) }
        if let session { ingest.control?.sessionClosed(session) }
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var frame = unwrapInboundIn(data)
        let wireBytes = 4 + frame.readableBytes
        guard let type = frame.readInteger(as: UInt8.self) else { return }
        do throws(NativeMalformed) {
            switch (NativeFrameType(rawValue: type), hello) {
            case (.hello?, nil): try handleHello(&frame, context: context)
            case (.hello?, _?): fail(.protocolViolation, "HELLO sent twice", context: context)
            case (_, nil): fail(.protocolViolation, "the first frame must be HELLO (type 0x01), got 0x\(String(type, radix: 16))", context: context)
            case (.batch?, _?): try handleBatch(&frame, wireBytes: wireBytes, context: context)
            case (.batchCompressed?, _?): try handleCompressedBatch(&frame, wireBytes: wireBytes, context: context)
            case (.heartbeat?, let h?):
                let hb = try NativeHeartbeat.decode(&frame)
                ingest.observer?.daemonHeartbeat(id: h.daemonID, heartbeat: hb)
                if let session { ingest.control?.sessionHeartbeat(session) }
                respond(NativeFrames.heartbeatAck(echo: hb.sentAtMilliseconds, now: UInt64(WallClock.nanoseconds() / 1_000_000), allocator: context.channel.allocator))
            case (.configStatus?, _?), (.taskStatus?, _?):
                if let report = try DaemonControlReport.decode(type: type, body: &frame), let session {
                    ingest.control?.session(session, reported: report)
                }
            case (.error?, _?):
                context.close(promise: nil)
            default:
                fail(.protocolViolation, "unexpected frame type 0x\(String(type, radix: 16))", context: context)
            }
        } catch {
            fail(.malformedFrame, error.what, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case NativeFrameDecoder.FrameError.tooLarge(let n):
            fail(.frameTooLarge, "frame of \(n) bytes exceeds the limit of \(ingest.limits.maxFrameBytes)", context: context)
        case NativeFrameDecoder.FrameError.empty:
            fail(.malformedFrame, "frame length 0", context: context)
        default:
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            fail(.idleTimeout, "no frame for \(ingest.limits.idleTimeoutSeconds) s", context: context)
        } else if event is IngestShutdown {
            // Stop reading; the acks still owed go out, then ERROR 6 and close.
            draining = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            closeIfDrained()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    // MARK: Frames

    private func handleHello(_ frame: inout ByteBuffer, context: ChannelHandlerContext) throws(NativeMalformed) {
        let supported = NativeHello.supportedVersions
        if let version = frame.getInteger(at: frame.readerIndex, endianness: .big, as: UInt16.self), !supported.contains(version) {
            let list = supported.map { "\($0)" }.joined(separator: ", ")
            return fail(.unsupportedVersion, "unsupported protocol version \(version); supported: \(list)", context: context)
        }
        let h = try NativeHello.decode(&frame)
        guard ingest.tokens.isEmpty || ingest.tokens.contains(h.token) else {
            return fail(.unauthorized, h.token.isEmpty ? "a token is required" : "token refused", context: context)
        }
        hello = h
        daemonHash = SourceHash.hash(h.daemonID)
        shard = SourceHash.shard(for: daemonHash, shardCount: ingest.writers.count)
        incarnation = h.incarnation?.value ?? 0
        ingest.observer?.daemonConnected(hello: h, peer: peer)
        var welcome = NativeWelcome(
            version: h.version, maxFrameSize: ingest.limits.maxFrameBytes, heartbeatIntervalMilliseconds: ingest.heartbeatMilliseconds,
            nodeID: ingest.nodeID)
        if h.version >= 2 {
            // The node decompresses every codec the HELLO can name: the client's first choice.
            codec = h.compression.first
            welcome.compression = codec
            welcome.maxBatchBytes = ingest.limits.maxBatchBytes
        }
        context.writeAndFlush(wrapOutboundOut(welcome.frame(allocator: context.channel.allocator)), promise: nil)
        if let control = ingest.control {
            // After HELLO_OK, so the daemon's tasks and configuration follow it on the wire.
            let session = DaemonSession(hello: h, channel: context.channel)
            self.session = session
            control.sessionOpened(session)
        }
    }

    /// Takes the next place in the order of answers.
    func takeSlot() -> Int {
        defer { nextSlot += 1 }
        return nextSlot
    }

    /// Answers `slot` with `frame` once every earlier slot is answered.
    func complete(_ slot: Int, _ frame: ByteBuffer) {
        ready[slot] = frame
        guard let context else { return }
        var wrote = false
        while let next = ready.removeValue(forKey: nextToSend) {
            context.write(wrapOutboundOut(next), promise: nil)
            nextToSend += 1
            wrote = true
            if let last = closeAfter, nextToSend > last {
                let channel = context.channel
                context.flush()
                channel.close(promise: nil)
                return
            }
        }
        if wrote { context.flush() }
        closeIfDrained()
    }

    /// Answers `slot` with an ERROR once every batch before it has its answer, then closes;
    /// frames that arrive from now on are not read.
    func failAfterEarlierAnswers(_ slot: Int, _ error: ByteBuffer) {
        closing = true
        closeAfter = min(closeAfter ?? .max, slot)
        complete(slot, error)
    }

    private func closeIfDrained() {
        guard draining, nextToSend == nextSlot, let context else { return }
        fail(.shuttingDown, "server shutting down", context: context)
    }

    /// Answers at once, in order behind the answers still owed.
    func respond(_ frame: ByteBuffer) { complete(takeSlot(), frame) }

    func fail(_ code: NativeErrorCode, _ message: String, context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(NativeFrames.error(code, message, allocator: channel.allocator))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension NativeHandler: Sendable {}
