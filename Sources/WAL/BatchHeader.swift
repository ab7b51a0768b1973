import Platform
import CShims

/// The decoded 72-byte batch header v2 (docs/wal-format.md has the byte layout).
public struct BatchHeader: Sendable, Equatable {
    /// Size of the header on disk.
    public static let size = Int(HY_BATCH_HEADER_SIZE)
    /// The largest payload a batch may carry (64 MiB).
    public static let maxPayload = Int(HY_BATCH_MAX_PAYLOAD)

    public var codec: WALCodec
    public var shard: UInt32
    public var recordCount: UInt32
    /// Sequence of the first record; the batch holds `baseSequence ..< baseSequence + recordCount`.
    public var baseSequence: UInt64
    /// Smallest and largest record timestamp, nanoseconds since the Unix epoch.
    public var minTimestamp: Int64
    public var maxTimestamp: Int64
    /// Producer identity and its strictly increasing sequence (0 when not idempotent).
    public var producerID: UInt64
    public var producerSequence: UInt64
    public var uncompressedLength: UInt32
    public var storedLength: UInt32
    public var payloadCRC: UInt32
    public var headerCRC: UInt32

    public init(
        codec: WALCodec = .none, shard: UInt32 = 0, recordCount: UInt32 = 0, baseSequence: UInt64 = 0,
        minTimestamp: Int64 = 0, maxTimestamp: Int64 = 0, producerID: UInt64 = 0, producerSequence: UInt64 = 0,
        uncompressedLength: UInt32 = 0, storedLength: UInt32 = 0, payloadCRC: UInt32 = 0, headerCRC: UInt32 = 0
    ) {
        self.codec = codec
        self.shard = shard
        self.recordCount = recordCount
        self.baseSequence = baseSequence
        self.minTimestamp = minTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerID = producerID
        self.producerSequence = producerSequence
        self.uncompressedLength = uncompressedLength
        self.storedLength = storedLength
        self.payloadCRC = payloadCRC
        self.headerCRC = headerCRC
    }

    init(_ raw: hy_batch_header) {
        self.init(
            codec: WALCodec(rawValue: raw.codec) ?? .none, shard: raw.shard, recordCount: raw.record_count,
            baseSequence: raw.base_sequence, minTimestamp: raw.min_timestamp, maxTimestamp: raw.max_timestamp,
            producerID: raw.producer_id, producerSequence: raw.producer_sequence,
            uncompressedLength: raw.uncompressed_length, storedLength: raw.stored_length,
            payloadCRC: raw.payload_crc, headerCRC: raw.header_crc)
    }

    var raw: hy_batch_header {
        hy_batch_header(
            magic: HY_BATCH_MAGIC, version: UInt16(HY_BATCH_VERSION), codec: codec.rawValue, flags: 0,
            shard: shard, record_count: recordCount, base_sequence: baseSequence,
            min_timestamp: minTimestamp, max_timestamp: maxTimestamp, producer_id: producerID,
            producer_sequence: producerSequence, uncompressed_length: uncompressedLength,
            stored_length: storedLength, payload_crc: payloadCRC, header_crc: headerCRC)
    }

    /// One past the last sequence in the batch.
    public var endSequence: UInt64 { baseSequence + UInt64(recordCount) }

    /// Bytes the batch occupies on disk, header included.
    public var totalSize: Int { Self.size + Int(storedLength) }

    /// The 72 on-disk bytes; the header CRC is computed, not taken from `headerCRC`.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.size)
        var header = raw
        unsafe bytes.withUnsafeMutableBytes { unsafe hy_batch_header_encode(&header, $0.baseAddress) }
        return bytes
    }

    /// Decodes and checks 72 bytes (magic, header CRC, version, codec, lengths); the payload
    /// is not looked at.
    public static func decode(_ bytes: [UInt8]) -> Result<BatchHeader, BatchDamage> {
        var out = hy_batch_header()
        let status = unsafe bytes.withUnsafeBytes { unsafe hy_batch_check($0.baseAddress, $0.count, 0, &out) }
        switch BatchCheck(status: status, header: out) {
        case .valid(let header), .truncated(let header?): return .success(header)
        case .end: return .failure(.badMagic)
        case .damaged(let damage): return .failure(damage)
        case .truncated(nil): return .failure(.truncated)
        }
    }
}

/// Why a batch could not be read.
public enum BatchDamage: String, Error, Sendable, Equatable {
    case badMagic = "bad magic"
    case badHeaderCRC = "header checksum mismatch"
    case badVersion = "unsupported version, codec or length"
    case truncated = "truncated"
    case badPayloadCRC = "payload checksum mismatch"
    case badPayload = "payload does not decode"
}

/// The outcome of checking the bytes at one offset.
enum BatchCheck {
    case valid(BatchHeader)
    case end
    case truncated(BatchHeader?)
    case damaged(BatchDamage)

    init(status: Int32, header: hy_batch_header) {
        switch Int(status) {
        case Int(HY_BATCH_VALID): self = .valid(BatchHeader(header))
        case Int(HY_BATCH_END): self = .end
        case Int(HY_BATCH_BAD_MAGIC): self = .damaged(.badMagic)
        case Int(HY_BATCH_BAD_HEADER_CRC): self = .damaged(.badHeaderCRC)
        case Int(HY_BATCH_BAD_VERSION): self = .damaged(.badVersion)
        case Int(HY_BATCH_TRUNCATED): self = .truncated(header.magic == HY_BATCH_MAGIC ? BatchHeader(header) : nil)
        default: self = .damaged(.badPayloadCRC)
        }
    }
}
