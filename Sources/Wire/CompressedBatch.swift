public import NIOCore
public import Platform
public import WAL

/// The fields BATCH and BATCH_COMPRESSED start with (docs/protocol.md, sections 5.3 and 5.10).
public struct NativeBatchHeader: Sendable, Equatable {
    /// Never 0; the top bit marks a task's producer id.
    public var producerID: UInt64
    /// At least 1.
    public var producerSequence: UInt64
    /// 1...65535.
    public var recordCount: UInt32

    public init(producerID: UInt64, producerSequence: UInt64, recordCount: UInt32) {
        self.producerID = producerID
        self.producerSequence = producerSequence
        self.recordCount = recordCount
    }

    /// The most records one batch may carry.
    public static let maxRecords: UInt32 = 65_535

    /// Reads the 20 bytes and checks their ranges.
    /// - Throws: ``NativeMalformed`` when the body is shorter, `producer_id` or
    ///   `producer_sequence` is 0, or `record_count` is outside 1...65535.
    public static func decode(_ body: inout ByteBuffer) throws(NativeMalformed) -> NativeBatchHeader {
        let header = NativeBatchHeader(
            producerID: try body.readNativeInteger(UInt64.self, "producer_id"),
            producerSequence: try body.readNativeInteger(UInt64.self, "producer_sequence"),
            recordCount: try body.readNativeInteger(UInt32.self, "record_count"))
        guard header.producerID != 0 else { throw NativeMalformed(what: "producer_id must not be 0") }
        guard header.producerSequence != 0 else { throw NativeMalformed(what: "producer_sequence must be at least 1") }
        guard (1 ... maxRecords).contains(header.recordCount) else {
            throw NativeMalformed(what: "record_count \(header.recordCount) is outside 1...65535")
        }
        return header
    }

    func write(to buffer: inout ByteBuffer) {
        buffer.writeInteger(producerID, endianness: .big)
        buffer.writeInteger(producerSequence, endianness: .big)
        buffer.writeInteger(recordCount, endianness: .big)
    }
}

/// BATCH_COMPRESSED (0x08, daemon → node, protocol version 2; docs/protocol.md, section 5.10):
/// a batch whose records travel compressed.
///
/// After the ``NativeBatchHeader`` come `u8 codec` (1 lz4 block format, 2 zstd frame format:
/// what ``CodecContext`` produces), `u32 uncompressed_length`, and `data`, the rest of the
/// frame. Decompressed, `data` is exactly `uncompressed_length` bytes holding exactly
/// `record_count` records in the WAL payload encoding: per record a LEB128 body length, then
/// the body (docs/wal-format.md, section 8), so a daemon can send what its spool stores
/// without recompressing it.
///
/// The node side: ``decode(_:)`` reads the fields and leaves `data` in the buffer,
/// ``decompress(_:context:)`` expands it, ``forEachRecord(in:_:)`` walks the records. The
/// daemon side: ``NodeFrames/compressedBatch(_:payload:codec:context:allocator:)`` and
/// ``NodeFrames/compressedBatch(_:codec:uncompressedLength:compressed:allocator:)``.
public struct NativeCompressedBatch: Sendable, Equatable {
    public var header: NativeBatchHeader
    /// ``WALCodec/lz4`` or ``WALCodec/zstd``.
    public var codec: WALCodec
    /// The byte length of the decompressed payload.
    public var uncompressedLength: UInt32

    public init(header: NativeBatchHeader, codec: WALCodec, uncompressedLength: UInt32) {
        self.header = header
        self.codec = codec
        self.uncompressedLength = uncompressedLength
    }

    /// Bytes of the fixed fields before `data`.
    public static let fixedSize = 25

    /// Reads the fixed fields of a BATCH_COMPRESSED body and checks their ranges; `body` is
    /// left holding `data`.
    /// - Throws: ``NativeMalformed`` as ``NativeBatchHeader/decode(_:)``, and when `codec` is
    ///   not 1 (lz4) or 2 (zstd).
    public static func decode(_ body: inout ByteBuffer) throws(NativeMalformed) -> NativeCompressedBatch {
        let header = try NativeBatchHeader.decode(&body)
        let rawCodec = try body.readNativeInteger(UInt8.self, "codec")
        let length = try body.readNativeInteger(UInt32.self, "uncompressed_length")
        guard let codec = WALCodec(rawValue: rawCodec), codec != .none else {
            throw NativeMalformed(what: "codec \(rawCodec) is not 1 (lz4) or 2 (zstd)")
        }
        return NativeCompressedBatch(header: header, codec: codec, uncompressedLength: length)
    }

    /// Decompresses `data` (the readable bytes of `data`) with `context`.
    ///
    /// The caller bounds ``uncompressedLength`` first: it is the size of the one array this
    /// allocates.
    /// - Returns: exactly ``uncompressedLength`` bytes.
    /// - Throws: ``NativeMalformed`` when `data` is not valid in ``codec``'s format or does not
    ///   expand to exactly ``uncompressedLength`` bytes.
    public func decompress(_ data: ByteBuffer, context: CodecContext) throws(NativeMalformed) -> [UInt8] {
        do {
            return try context.decompress(data.readableBytesSpan, codec: codec, originalLength: Int(uncompressedLength))
        } catch {
            throw NativeMalformed(what: "data does not decompress (\(codec)) to exactly uncompressed_length \(uncompressedLength) bytes")
        }
    }

    /// Calls `body` with the index and body of each record of a decompressed payload, in order.
    ///
    /// The walk checks only the framing: exactly ``NativeBatchHeader/recordCount`` LEB128
    /// lengths, each within the payload, and no byte after the last record. The record bodies
    /// are the caller's to check (``RecordValidator``); an empty one is passed on like any other.
    /// - Throws: ``NativeMalformed`` when a length is malformed or runs past the payload
    ///   (fewer records than announced) or bytes are left over (more records, or garbage);
    ///   `body` may have been called for the records before the fault.
    public func forEachRecord(in payload: [UInt8], _ body: (UInt32, ByteView) -> Void) throws(NativeMalformed) {
        let count = header.recordCount
        let fault: String? = ByteView.with(payload) { all in
            var reader = ByteReader(all)
            for index in 0 ..< count {
                guard let record = reader.lengthPrefixed() else {
                    return "record \(index) of \(count) runs past the \(payload.count)-byte payload"
                }
                body(index, record)
            }
            return reader.isAtEnd ? nil : "\(reader.remaining) bytes follow the last of \(count) records"
        }
        if let fault { throw NativeMalformed(what: fault) }
    }
}

extension NodeFrames {
    /// A BATCH_COMPRESSED frame that compresses `payload` with `context`.
    /// - Parameters:
    ///   - header: producer id, producer sequence and the number of records in `payload`.
    ///   - payload: records in the WAL payload encoding (``RecordEncoder``), at most the node's
    ///     `max_batch_bytes`.
    ///   - codec: ``WALCodec/lz4`` or ``WALCodec/zstd``, as HELLO_OK named
    ///     (``NativeWelcome/compression``).
    /// - Throws: ``WALError`` when the codec fails.
    /// - Precondition: `codec` is not ``WALCodec/none``; `payload` is at most 4 GiB.
    public static func compressedBatch(
        _ header: NativeBatchHeader, payload: [UInt8], codec: WALCodec, context: CodecContext, allocator: ByteBufferAllocator
    ) throws(WALError) -> ByteBuffer {
        let compressed = try context.compress(payload, codec: codec)
        return compressedBatch(header, codec: codec, uncompressedLength: payload.count, compressed: compressed, allocator: allocator)
    }

    /// A BATCH_COMPRESSED frame around bytes compressed earlier, e.g. a batch as an agent's
    /// spool stores it: no recompression.
    /// - Parameters:
    ///   - codec: the codec `compressed` is in: ``WALCodec/lz4`` (block format) or
    ///     ``WALCodec/zstd`` (frame format).
    ///   - uncompressedLength: what `compressed` expands to: records in the WAL payload
    ///     encoding, exactly `header.recordCount` of them.
    /// - Precondition: `codec` is not ``WALCodec/none``; `uncompressedLength` fits a `u32`.
    public static func compressedBatch(
        _ header: NativeBatchHeader, codec: WALCodec, uncompressedLength: Int, compressed: some Collection<UInt8>,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        precondition(codec != .none, "BATCH_COMPRESSED needs lz4 or zstd")
        precondition(uncompressedLength >= 0 && uncompressedLength <= Int(UInt32.max), "uncompressed_length must fit a u32")
        return NativeFrames.frame(.batchCompressed, allocator: allocator) { buffer in
            buffer.reserveCapacity(minimumWritableBytes: NativeCompressedBatch.fixedSize + compressed.count)
            header.write(to: &buffer)
            buffer.writeInteger(codec.rawValue)
            buffer.writeInteger(UInt32(uncompressedLength), endianness: .big)
            buffer.writeBytes(compressed)
        }
    }
}
