import Logging
import NIOCore
import Platform

/// Serves one TCP connection of a ``PortListener``: decodes each read straight from NIO's
/// buffer into an ``EncodingSink``, hands the read's records to the ``ListenQueue`` in one
/// push, and keeps only an incomplete last frame between reads (never more than one frame).
///
/// Backpressure, as Ingest's `InFlightBackpressure`: after a push that leaves the queue full,
/// the `read()` calls coming down the pipeline are withheld, so the kernel's receive buffer
/// fills and TCP pushes back on the sender; the queue's resume action hops back to this
/// connection's event loop and issues the withheld read.
///
/// All methods run on the channel's event loop; only the resume action crosses threads, and it
/// hops back first.
final class ListenStreamHandler<Decoder: ListenStreamDecoding>: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer

    private let queue: ListenQueue
    private let host: [UInt8]
    private let logger: Logger
    private var decoder: Decoder
    private var sink = EncodingSink()
    private var pending: ByteBuffer?
    private var context: ChannelHandlerContext?
    private var paused = false
    private var readWithheld = false

    /// - Parameter host: the name given to records from a loopback peer that name no host.
    init(queue: ListenQueue, maxLineBytes: Int, host: [UInt8], logger: Logger) {
        self.queue = queue
        self.host = host
        self.logger = logger
        decoder = Decoder(maxLineBytes: maxLineBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        sink.peer = peerName(context.channel.remoteAddress, host: host)
    }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelActive(context: ChannelHandlerContext) {
        queue.track(context.channel)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var carried = pending {
            carried.writeBuffer(&buffer)
            buffer = carried
            pending = nil
        }
        let consumed = decode(buffer)
        buffer.moveReaderIndex(forwardBy: consumed)
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            pending = buffer
        }
        guard queue.push(&sink), !paused else { return }
        paused = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        queue.pause { loop.execute { bound.value.resume() } }
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readWithheld = true
        } else {
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A last line without its newline still counts when the sender closes cleanly.
        if var rest = pending, rest.readableBytes > 0 {
            rest.writeInteger(UInt8(ascii: "\n"))
            pending = nil
            _ = decode(rest)
            _ = queue.push(&sink)
        }
        queue.untrack(context.channel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("listen connection failed", metadata: ["agent.listen.peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")", "agent.listen.error": "\(error)"])
        context.close(promise: nil)
    }

    /// Decodes the frames at the front of `buffer`, stamped with this read's time.
    /// - Returns: the bytes consumed.
    private func decode(_ buffer: ByteBuffer) -> Int {
        let receivedAt = WallClock.nanoseconds()
        let consumed = unsafe buffer.withUnsafeReadableBytes { raw in decoder.decode(unsafe ByteView(raw), receivedAt: receivedAt, into: &sink) }
        if sink.rejected > 0 {
            logger.debug("listen input rejected", metadata: ["agent.listen.rejects": "\(sink.rejected)", "agent.listen.reason": "\(sink.lastReject)"])
        }
        return consumed
    }

    private func resume() {
        paused = false
        guard readWithheld, let context else { return }
        readWithheld = false
        context.read()
    }
}

@available(*, unavailable)
extension ListenStreamHandler: Sendable {}

/// The name a record naming no host gets: the peer's address, or `host` for a peer on this
/// host (a loopback address).
func peerName(_ address: SocketAddress?, host: [UInt8]) -> [UInt8] {
    guard let address, let ip = address.ipAddress else { return host }
    let isLoopback = switch address {
    case .v4: ip.hasPrefix("127.")
    case .v6: ip == "::1" || ip.hasPrefix("::ffff:127.")
    default: false
    }
    return isLoopback ? host : Array(ip.utf8)
}
