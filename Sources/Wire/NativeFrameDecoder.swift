public import NIOCore

/// Splits the native byte stream into frames: `u32 length` (big-endian) then `length` bytes
/// (type + body). A frame longer than the limit is an error, so a peer cannot make the other
/// side buffer more than one frame. Used by the node (limit: `max_frame_size`) and by the
/// simulated daemons of `Fleet` (limit: 16 MiB, docs/protocol.md, section 3).
public struct NativeFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer
    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    /// A frame length of 0, or above the limit.
    public enum FrameError: Error {
        case empty
        case tooLarge(Int)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt32.self) else { return .needMoreData }
        guard length >= 1 else { throw FrameError.empty }
        guard Int(length) <= maxFrameBytes else { throw FrameError.tooLarge(Int(length)) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
