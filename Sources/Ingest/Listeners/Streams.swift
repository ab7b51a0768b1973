public import Platform
import WAL
import Wire
import NIOCore

/// Runs a framer over `buffer`, handing each complete frame to `decodeFrame` and reporting each
/// rejected one to the sink (with at most 200 bytes of it): the loop of ``FrameStep``, shared by
/// the node's stream listeners and the agent's `listen` task so that both frame alike.
///
/// - Returns: the bytes consumed; the caller keeps the rest and calls again with more bytes
///   behind it.
/// - Complexity: O(bytes scanned); allocates nothing itself.
@inlinable @inline(__always)
public func decodeFrames<Sink: RecordSink>(
    in buffer: ByteView, into sink: inout Sink, next: (ByteView) -> FrameStep, decodeFrame: (ByteView, inout Sink) -> Void
) -> Int {
    var offset = 0
    while offset < buffer.count {
        let view = buffer.suffix(from: offset)
        switch next(view) {
        case .frame(let range, let consumed):
            decodeFrame(view[range], &sink)
            offset += consumed
        case .needMore(let consumed):
            return offset + consumed
        case .rejected(let reason, let consumed):
            sink.reject(reason, sample: view[0 ..< min(max(consumed, 1), 200, view.count)])
            guard consumed > 0 else { return offset }
            offset += consumed
        }
    }
    return offset
}

/// Syslog over TCP: RFC 6587 octet counting or newline framing, told apart per frame.
struct SyslogStream: StreamDecoding {
    var framer: SyslogFramer
    var decoder = SyslogDecoder()

    init(limits: IngestLimits) { framer = SyslogFramer(maxFrameLength: min(limits.maxFrameBytes, max(limits.maxLineBytes, 1))) }

    mutating func decode(_ buffer: ByteView, into sink: inout BatchingSink) -> Int {
        decodeFrames(in: buffer, into: &sink, next: { framer.next($0) }) { decoder.decode($0, receivedAt: $1.receivedAt, into: &$1) }
    }
}

/// A decoder of one complete line of a newline-delimited protocol.
protocol LineDecoding {
    init()
    mutating func decode(line: ByteView, receivedAt: Int64, into sink: inout BatchingSink)
}

extension JSONLinesDecoder: LineDecoding {
    mutating func decode(line: ByteView, receivedAt: Int64, into sink: inout BatchingSink) {
        decode(line, receivedAt: receivedAt, into: &sink)
    }
}

/// InfluxDB line protocol over TCP carries nanosecond timestamps, as Influx's own listener.
extension InfluxLineDecoder: LineDecoding {
    mutating func decode(line: ByteView, receivedAt: Int64, into sink: inout BatchingSink) {
        _ = decode(line, precision: .ns, receivedAt: receivedAt, into: &sink)
    }
}

extension GraphiteDecoder: LineDecoding {
    mutating func decode(line: ByteView, receivedAt: Int64, into sink: inout BatchingSink) {
        decode(line, receivedAt: receivedAt, into: &sink)
    }
}

/// A newline-delimited protocol over TCP: JSON lines, Influx, Graphite.
struct LineStream<Decoder: LineDecoding>: StreamDecoding {
    var framer: LineFramer
    var decoder = Decoder()

    init(limits: IngestLimits) { framer = LineFramer(maxLineLength: limits.maxLineBytes) }

    mutating func decode(_ buffer: ByteView, into sink: inout BatchingSink) -> Int {
        decodeFrames(in: buffer, into: &sink, next: { framer.next($0) }) { decoder.decode(line: $0, receivedAt: $1.receivedAt, into: &$1) }
    }
}

/// Syslog over UDP: one message per datagram. Datagrams arriving while the WAL is behind are
/// dropped and counted (UDP has no way to push back).
final class SyslogDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let ingest: IngestContext
    private let batcher: LoopBatcher
    private var decoder = SyslogDecoder()
    private var lastAddress: SocketAddress?
    private var peer: [UInt8] = []

    init(ingest: IngestContext, batcher: LoopBatcher) {
        self.ingest = ingest
        self.batcher = batcher
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if envelope.remoteAddress != lastAddress {
            lastAddress = envelope.remoteAddress
            peer = Array((envelope.remoteAddress.ipAddress ?? "unknown").utf8)
        }
        let overLimit = ingest.gate.isOverLimit
        let maxLine = ingest.limits.maxLineBytes
        batcher.withSink { sink in
            sink.listener = .syslogUDP
            if overLimit {
                sink.countDropped()
                return
            }
            sink.peer = peer
            sink.receivedAt = WallClock.nanoseconds()
            sink.now = NIODeadline.now().uptimeNanoseconds
            unsafe envelope.data.withUnsafeReadableBytes { raw in
                let view = unsafe ByteView(raw)
                if view.count > maxLine {
                    sink.reject("datagram too long", sample: view[0 ..< 200])
                } else {
                    decoder.decode(view, receivedAt: sink.receivedAt, into: &sink)
                }
            }
        }
    }
}

@available(*, unavailable)
extension SyslogDatagramHandler: Sendable {}
