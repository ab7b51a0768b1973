import Ingest
import Platform

/// A decoder for the byte stream of one TCP connection of a `listen` task: the node's framer
/// and decoder for the protocol, run by Ingest's `decodeFrames`, as the node's own stream
/// listeners run them.
protocol ListenStreamDecoding: SendableMetatype {
    init(maxLineBytes: Int)
    /// Decodes every complete frame at the front of `buffer` into `sink`.
    /// - Returns: the bytes consumed; the rest is offered again with more data behind it.
    mutating func decode(_ buffer: ByteView, receivedAt: Int64, into sink: inout EncodingSink) -> Int
}

/// Syslog over TCP: RFC 6587 octet counting or newline framing, told apart per frame.
struct SyslogStreamDecoding: ListenStreamDecoding {
    var framer: SyslogFramer
    var decoder = SyslogDecoder()

    init(maxLineBytes: Int) { framer = SyslogFramer(maxFrameLength: maxLineBytes) }

    mutating func decode(_ buffer: ByteView, receivedAt: Int64, into sink: inout EncodingSink) -> Int {
        decodeFrames(in: buffer, into: &sink, next: { framer.next($0) }) { decoder.decode($0, receivedAt: receivedAt, into: &$1) }
    }
}

/// JSON lines over TCP: one object per LF-terminated line.
struct JSONLinesStreamDecoding: ListenStreamDecoding {
    var framer: LineFramer
    var decoder = JSONLinesDecoder()

    init(maxLineBytes: Int) { framer = LineFramer(maxLineLength: maxLineBytes) }

    mutating func decode(_ buffer: ByteView, receivedAt: Int64, into sink: inout EncodingSink) -> Int {
        decodeFrames(in: buffer, into: &sink, next: { framer.next($0) }) { decoder.decode($0, receivedAt: receivedAt, into: &$1) }
    }
}
