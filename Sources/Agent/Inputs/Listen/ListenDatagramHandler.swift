import Ingest
import Logging
import NIOCore
import Platform

/// Serves a ``PortListener``'s UDP socket (`syslog-udp`): one syslog message per datagram,
/// decoded by the node's `SyslogDecoder` into an ``EncodingSink`` and pushed to the
/// ``ListenQueue``. A datagram arriving while the queue is full is dropped and counted (UDP has
/// no way to push back); one longer than the line limit is rejected.
///
/// All methods run on the channel's event loop.
final class ListenDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let queue: ListenQueue
    private let maxLineBytes: Int
    private let host: [UInt8]
    private let logger: Logger
    private var decoder = SyslogDecoder()
    private var sink = EncodingSink()
    private var lastAddress: SocketAddress?

    init(queue: ListenQueue, maxLineBytes: Int, host: [UInt8], logger: Logger) {
        self.queue = queue
        self.maxLineBytes = maxLineBytes
        self.host = host
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard !queue.isFull else {
            queue.countDroppedDatagram()
            return
        }
        if envelope.remoteAddress != lastAddress {
            lastAddress = envelope.remoteAddress
            sink.peer = peerName(envelope.remoteAddress, host: host)
        }
        let receivedAt = WallClock.nanoseconds()
        unsafe envelope.data.withUnsafeReadableBytes { raw in
            let view = unsafe ByteView(raw)
            if view.count > maxLineBytes {
                sink.reject("datagram too long", sample: view[0 ..< 200])
            } else {
                decoder.decode(view, receivedAt: receivedAt, into: &sink)
            }
        }
        if sink.rejected > 0 {
            logger.debug("listen input rejected", metadata: ["agent.listen.peer": "\(envelope.remoteAddress)", "agent.listen.reason": "\(sink.lastReject)"])
        }
        _ = queue.push(&sink)
    }
}

@available(*, unavailable)
extension ListenDatagramHandler: Sendable {}
