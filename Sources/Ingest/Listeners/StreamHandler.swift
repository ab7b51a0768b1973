import Platform
import WAL
import Wire
import NIOCore

/// A decoder for a byte stream of frames (lines, or octet-counted syslog messages).
protocol StreamDecoding: SendableMetatype {
    init(limits: IngestLimits)
    /// Decodes every complete frame at the front of `buffer` into `sink`.
    /// - Returns: the bytes consumed; the rest is kept and offered again with more data.
    mutating func decode(_ buffer: ByteView, into sink: inout BatchingSink) -> Int
}

/// Serves one connection of a stream protocol (syslog/TCP, JSON lines, Influx, Graphite):
/// decodes each read straight from NIO's buffer into the loop's batcher, keeping only an
/// incomplete last frame between reads (never more than one frame's limit).
///
/// All methods run on the channel's event loop.
final class StreamHandler<Decoder: StreamDecoding>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let ingest: IngestContext
    private let batcher: LoopBatcher
    private let listener: ListenerKind
    private var decoder: Decoder
    private var pending: ByteBuffer?
    private var peer: [UInt8] = []
    private var draining = false
    private var lastRead = NIODeadline.now()
    private var drainCheck: Scheduled<Void>?
    /// While draining, a connection quiet this long is closed (the sender has nothing more).
    static var drainQuiet: TimeAmount { .milliseconds(200) }
    /// ... and every connection is closed this long after the drain began.
    static var drainLimit: TimeAmount { .seconds(5) }

    init(ingest: IngestContext, batcher: LoopBatcher, listener: ListenerKind) {
        self.ingest = ingest
        self.batcher = batcher
        self.listener = listener
        decoder = Decoder(limits: ingest.limits)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        peer = Array((context.channel.remoteAddress?.ipAddress ?? "unknown").utf8)
        batcher.withSink { sink in
            sink.listener = listener
            sink.countConnection()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = NIODeadline.now()
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
    }

    /// Decodes the frames at the front of `buffer` into the loop's sink, stamped with this read's
    /// time.
    /// - Returns: the bytes consumed.
    private func decode(_ buffer: ByteBuffer) -> Int {
        batcher.withSink { sink in
            sink.listener = listener
            sink.peer = peer
            sink.receivedAt = WallClock.nanoseconds()
            sink.now = NIODeadline.now().uptimeNanoseconds
            return unsafe buffer.withUnsafeReadableBytes { raw in decoder.decode(unsafe ByteView(raw), into: &sink) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        drainCheck?.cancel()
        // A last line without its newline still counts when the sender closes cleanly.
        if var rest = pending, rest.readableBytes > 0 {
            rest.writeInteger(UInt8(ascii: "\n"))
            pending = nil
            _ = decode(rest)
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil)
        } else if event is IngestShutdown, !draining {
            // Read what the sender already sent: close once the connection goes quiet.
            draining = true
            let started = NIODeadline.now()
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let channel = context.channel
            @Sendable func check() {
                let now = NIODeadline.now()
                if now - bound.value.lastRead >= Self.drainQuiet || now - started >= Self.drainLimit {
                    channel.close(promise: nil)
                } else {
                    bound.value.drainCheck = channel.eventLoop.scheduleTask(in: .milliseconds(50)) { check() }
                }
            }
            check()
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension StreamHandler: Sendable {}
