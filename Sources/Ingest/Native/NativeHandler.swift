import NIOCore
import Platform
import WAL
import Wire

/// Serves one native-protocol connection: HELLO (with token check), BATCHes acknowledged only
/// once durable and in arrival order, HEARTBEATs, and ERROR-then-close on violations.
///
/// All methods run on the channel's event loop; WAL completions hop back to it.
final class NativeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let ingest: IngestContext
    private let batcher: LoopBatcher
    private var context: ChannelHandlerContext?
    private var hello: NativeHello?
    private var session: DaemonSession?
    private var shard = 0
    private var daemonHash: UInt64 = 0
    private var peer = ""
    private var peerBytes: [UInt8] = []
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
        guard let type = frame.readInteger(as: UInt8.self) else { return }
        do throws(NativeMalformed) {
            switch (NativeFrameType(rawValue: type), hello) {
            case (.hello?, nil): try handleHello(&frame, context: context)
            case (.hello?, _?): fail(.protocolViolation, "HELLO sent twice", context: context)
            case (_, nil): fail(.protocolViolation, "the first frame must be HELLO (type 0x01), got 0x\(String(type, radix: 16))", context: context)
            case (.batch?, _?): try handleBatch(&frame, context: context)
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
        if let version = frame.getInteger(at: frame.readerIndex, endianness: .big, as: UInt16.self), version != 1 {
            return fail(.unsupportedVersion, "protocol version \(version) is not supported (this server speaks 1)", context: context)
        }
        let h = try NativeHello.decode(&frame)
        guard ingest.tokens.isEmpty || ingest.tokens.contains(h.token) else {
            return fail(.unauthorized, h.token.isEmpty ? "a token is required" : "token refused", context: context)
        }
        hello = h
        daemonHash = SourceHash.hash(h.daemonID)
        shard = SourceHash.shard(for: daemonHash, shardCount: ingest.writers.count)
        ingest.observer?.daemonConnected(hello: h, peer: peer)
        context.writeAndFlush(wrapOutboundOut(NativeFrames.helloOK(
            maxFrame: ingest.limits.maxFrameBytes, heartbeatMilliseconds: ingest.heartbeatMilliseconds, nodeID: ingest.nodeID,
            allocator: context.channel.allocator)), promise: nil)
        if let control = ingest.control {
            // After HELLO_OK, so the daemon's tasks and configuration follow it on the wire.
            let session = DaemonSession(hello: h, channel: context.channel)
            self.session = session
            control.sessionOpened(session)
        }
    }

    private func handleBatch(_ frame: inout ByteBuffer, context: ChannelHandlerContext) throws(NativeMalformed) {
        let producerID = try frame.readNativeInteger(UInt64.self, "producer_id")
        let sequence = try frame.readNativeInteger(UInt64.self, "producer_sequence")
        let count = try frame.readNativeInteger(UInt32.self, "record_count")
        guard producerID != 0 else { throw NativeMalformed(what: "producer_id must not be 0") }
        guard sequence != 0 else { throw NativeMalformed(what: "producer_sequence must be at least 1") }
        guard count >= 1, count <= 65_535 else { throw NativeMalformed(what: "record_count \(count) is outside 1...65535") }
        if producerID & TaskProducerID.taskBit != 0, let hello {
            let verdict = ingest.control?.admitsTaskData(daemonID: hello.daemonID, producerID: producerID) ?? .refused("this node assigns no tasks")
            if case .refused(let why) = verdict {
                // Fenced: the whole batch is refused, and nothing of it is written.
                let rejected = (0 ..< count).map { ($0, NativeRejectCode.fenced, why) }
                respond(NativeFrames.nack(producerID: producerID, sequence: sequence, accepted: 0, rejected: rejected, allocator: context.channel.allocator))
                return
            }
        }
        var payload: [UInt8] = []
        payload.reserveCapacity(frame.readableBytes + Int(count) * 2)
        var rejected: [(UInt32, NativeRejectCode, String)] = []
        var accepted = 0
        var minTs = Int64.max, maxTs = Int64.min
        for index in 0 ..< count {
            guard let length = frame.readInteger(endianness: .big, as: UInt32.self), Int(length) <= frame.readableBytes else {
                throw NativeMalformed(what: "record \(index) runs past the end of the frame")
            }
            let problem = unsafe frame.withUnsafeReadableBytes { raw -> (NativeRejectCode, StaticString)? in
                let body = unsafe ByteView(raw)[0 ..< Int(length)]
                let problem = Int(length) > Self.maxRecordBytes ? (.tooLarge, "record exceeds 1 MiB") : RecordValidator.check(body)
                if let problem {
                    batcher.withSink { sink in
                        sink.listener = .native
                        sink.peer = peerBytes
                        sink.reject(problem.1, sample: body)
                    }
                    return problem
                }
                payload.appendLengthPrefixed(body)
                let ts = body.loadLittleEndian(Int64.self, at: 1)
                minTs = min(minTs, ts)
                maxTs = max(maxTs, ts)
                return nil
            }
            frame.moveReaderIndex(forwardBy: Int(length))
            if let (code, reason) = problem {
                rejected.append((index, code, reason.description))
            } else {
                accepted += 1
            }
        }
        guard frame.readableBytes == 0 else { throw NativeMalformed(what: "BATCH has \(frame.readableBytes) trailing bytes") }

        let slot = nextSlot
        nextSlot += 1
        let allocator = context.channel.allocator
        guard accepted > 0 else {
            complete(slot, NativeFrames.nack(producerID: producerID, sequence: sequence, accepted: 0, rejected: rejected, allocator: allocator))
            return
        }
        let payloadBytes = payload.count
        batcher.withSink { sink in
            sink.listener = .native
            sink.countRecords(accepted, bytes: payloadBytes)
        }
        let draft = BatchDraft(
            payload: payload, recordCount: accepted, minTimestamp: minTs, maxTimestamp: maxTs,
            producerID: Self.producerKey(daemonHash: daemonHash, producerID: producerID), producerSequence: sequence,
            codec: ingest.limits.codec)
        ingest.gate.reserve(bytes: payload.count, shard: shard)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let shard = self.shard
        let acceptedCount = UInt32(accepted)
        let rejections = rejected
        ingest.writers[shard].submit(draft) { result in
            loop.execute {
                let frame: ByteBuffer
                switch result {
                case .written(_, let first, _):
                    frame = rejections.isEmpty
                        ? NativeFrames.ack(producerID: producerID, sequence: sequence, accepted: acceptedCount, duplicate: false, shard: shard, firstSequence: first, allocator: allocator)
                        : NativeFrames.nack(producerID: producerID, sequence: sequence, accepted: acceptedCount, rejected: rejections, allocator: allocator)
                case .duplicate:
                    frame = NativeFrames.ack(producerID: producerID, sequence: sequence, accepted: acceptedCount, duplicate: true, shard: shard, firstSequence: 0, allocator: allocator)
                case .failed(let message):
                    // ERROR 8, then the connection closes (docs/protocol.md 5.8): the daemon
                    // keeps every unanswered batch and resends it once the node writes again.
                    bound.value.failAfterEarlierAnswers(slot, NativeFrames.error(.internalError, "write failed: \(message)", allocator: allocator))
                    return
                }
                bound.value.complete(slot, frame)
            }
        }
    }

    /// The largest record a BATCH may carry (docs/protocol.md, reason 4).
    static let maxRecordBytes = 1 << 20

    /// The WAL's producer id for (daemon id, client producer id): deduplication is per daemon.
    static func producerKey(daemonHash: UInt64, producerID: UInt64) -> UInt64 {
        let key = daemonHash ^ (producerID &* 0x9E37_79B9_7F4A_7C15)
        return key == 0 ? 1 : key
    }

    private func complete(_ slot: Int, _ frame: ByteBuffer) {
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
    private func failAfterEarlierAnswers(_ slot: Int, _ error: ByteBuffer) {
        closing = true
        closeAfter = min(closeAfter ?? .max, slot)
        complete(slot, error)
    }

    private func closeIfDrained() {
        guard draining, nextToSend == nextSlot, let context else { return }
        fail(.shuttingDown, "server shutting down", context: context)
    }

    private func respond(_ frame: ByteBuffer) {
        let slot = nextSlot
        nextSlot += 1
        complete(slot, frame)
    }

    private func fail(_ code: NativeErrorCode, _ message: String, context: ChannelHandlerContext) {
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
