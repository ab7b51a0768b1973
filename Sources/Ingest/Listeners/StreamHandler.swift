import NIOCore

/// A decoder for a byte stream of frames (lines, or octet-counted syslog messages).
protocol StreamDecoding {
    init(limits: IngestLimits)
    /// Decodes every complete frame at the front of `buffer` into `sink`.
    /// - Returns: the bytes consumed; the rest is kept and offered again with more data.
    mutating func decode(_ buffer: ByteView, into sink: LoopBatcher) -> Int
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

    init(ingest: IngestContext, batcher: LoopBatcher, listener: ListenerKind) {
        self.ingest = ingest
        self.batcher = batcher
        self.listener = listener
        decoder = Decoder(limits: ingest.limits)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        peer = Array((context.channel.remoteAddress?.ipAddress ?? "unknown").utf8)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        if var carried = pending {
            carried.writeBuffer(&buffer)
            buffer = carried
            pending = nil
        }
        batcher.listener = listener
        batcher.peer = peer
        batcher.receivedAt = WallClock.nanoseconds()
        batcher.now = NIODeadline.now().uptimeNanoseconds
        let consumed = unsafe buffer.withUnsafeReadableBytes { raw in
            decoder.decode(unsafe ByteView(raw), into: batcher)
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            pending = buffer
        }
        if ingest.gate.isOverLimit {
            let channel = context.channel
            channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            ingest.gate.pause { channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in } }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A last line without its newline still counts when the sender closes cleanly.
        if var rest = pending, rest.readableBytes > 0 {
            rest.writeInteger(UInt8(ascii: "\n"))
            pending = nil
            batcher.listener = listener
            batcher.peer = peer
            _ = unsafe rest.withUnsafeReadableBytes { raw in decoder.decode(unsafe ByteView(raw), into: batcher) }
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent || event is IngestShutdown {
            context.close(promise: nil)
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
