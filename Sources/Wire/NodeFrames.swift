public import NIOCore
public import WAL

// The client side of the native protocol: the node → daemon frames a daemon reads (HELLO_OK,
// ACK, NACK, HEARTBEAT_ACK, ERROR; docs/protocol.md, sections 5.2–5.8) and the BATCH (from
// records, or from an encoded WAL payload) and BATCH_COMPRESSED it writes.
// The node writes those frames with ``NativeFrames``; control frames are decoded with
// ``NodeControlMessage/decode(type:body:)``; so every format exists once, for both sides.

/// Readers for the bodies of the node's answers (after the type byte); each rejects short
/// bodies and trailing bytes.
public enum NodeFrames {
    /// HELLO_OK of version 1 or 2 (version 2 ends with the `extensions` pairs).
    /// - Throws: ``NativeMalformed`` when the body does not decode exactly, the version is
    ///   not 1 or 2, or a known extension has a bad value.
    public static func welcome(_ body: inout ByteBuffer) throws(NativeMalformed) -> NativeWelcome {
        let version = try body.readNativeInteger(UInt16.self, "version")
        guard NativeHello.supportedVersions.contains(version) else {
            throw NativeMalformed(what: "HELLO_OK version \(version) has no known layout")
        }
        var w = NativeWelcome(
            version: version,
            maxFrameSize: Int(try body.readNativeInteger(UInt32.self, "max_frame_size")),
            heartbeatIntervalMilliseconds: try body.readNativeInteger(UInt32.self, "heartbeat_interval_ms"),
            nodeID: try body.readNativeString("node_id"))
        if version >= 2 { w.extensions = try body.readNativePairs("extensions") }
        try finish(body, "HELLO_OK")
        try w.checkExtensions()
        return w
    }

    public static func ack(_ body: inout ByteBuffer) throws(NativeMalformed) -> BatchAnswer {
        let producerID = try body.readNativeInteger(UInt64.self, "producer_id")
        let sequence = try body.readNativeInteger(UInt64.self, "producer_sequence")
        let accepted = try body.readNativeInteger(UInt32.self, "accepted")
        let status = try body.readNativeInteger(UInt8.self, "status")
        let shard = try body.readNativeInteger(UInt16.self, "shard")
        let first = try body.readNativeInteger(UInt64.self, "first_sequence")
        try finish(body, "ACK")
        let duplicate = status == 1
        return BatchAnswer(
            producerID: producerID, producerSequence: sequence, isAcknowledged: true, isDuplicate: duplicate, acceptedCount: accepted,
            rejections: [], shard: duplicate ? nil : shard, firstSequence: duplicate ? nil : first)
    }

    public static func nack(_ body: inout ByteBuffer) throws(NativeMalformed) -> BatchAnswer {
        let producerID = try body.readNativeInteger(UInt64.self, "producer_id")
        let sequence = try body.readNativeInteger(UInt64.self, "producer_sequence")
        let accepted = try body.readNativeInteger(UInt32.self, "accepted")
        let count = try body.readNativeInteger(UInt32.self, "rejected_count")
        // Each entry takes at least 8 bytes: do not trust the count for the allocation.
        guard Int(count) <= body.readableBytes / 8 else { throw NativeMalformed(what: "NACK rejected_count \(count) exceeds the body") }
        var rejections: [BatchAnswer.Rejection] = []
        rejections.reserveCapacity(Int(count))
        for _ in 0 ..< count {
            rejections.append(BatchAnswer.Rejection(
                index: try body.readNativeInteger(UInt32.self, "index"), code: try body.readNativeInteger(UInt16.self, "reason_code"),
                reason: try body.readNativeString("reason")))
        }
        try finish(body, "NACK")
        return BatchAnswer(
            producerID: producerID, producerSequence: sequence, isAcknowledged: false, isDuplicate: false, acceptedCount: accepted,
            rejections: rejections, shard: nil, firstSequence: nil)
    }

    /// HEARTBEAT_ACK: (echoed send time, node time), both Unix milliseconds.
    public static func heartbeatAck(_ body: inout ByteBuffer) throws(NativeMalformed) -> (echoed: UInt64, node: UInt64) {
        let echoed = try body.readNativeInteger(UInt64.self, "echoed_sent_at_unix_ms")
        let node = try body.readNativeInteger(UInt64.self, "server_time_unix_ms")
        try finish(body, "HEARTBEAT_ACK")
        return (echoed, node)
    }

    /// ERROR: (code, message). Also used for the ERROR a daemon sends.
    public static func error(_ body: inout ByteBuffer) throws(NativeMalformed) -> (code: UInt16, message: String) {
        let code = try body.readNativeInteger(UInt16.self, "code")
        let message = try body.readNativeString("message")
        try finish(body, "ERROR")
        return (code, message)
    }

    /// A BATCH frame (docs/protocol.md, section 5.3) of `records`, encoded here.
    public static func batch(producerID: UInt64, sequence: UInt64, records: [Record], allocator: ByteBufferAllocator) -> ByteBuffer {
        var encoded: [UInt8] = []
        for record in records { RecordEncoder.append(record, to: &encoded) }
        var cursor = RecordCursor(encoded, count: encoded.count)
        var bodies: [Range<Int>] = []
        bodies.reserveCapacity(records.count)
        // The bodies were just encoded, so the cursor cannot fail.
        while let range = try? cursor.nextBody() { bodies.append(range) }
        let header = NativeBatchHeader(producerID: producerID, producerSequence: sequence, recordCount: UInt32(records.count))
        return plainBatch(header, payload: encoded, bodies: bodies, allocator: allocator)
    }

    /// A BATCH frame (docs/protocol.md, section 5.3) around records already in the WAL payload
    /// encoding, as ``compressedBatch(_:payload:codec:context:allocator:)`` takes them: for a
    /// node that accepted no codec (HELLO_OK of version 1, or of version 2 without
    /// `compression`), or a payload that does not compress.
    ///
    /// The WAL encoding puts a LEB128 length before each body; the BATCH a `u32` big-endian one.
    /// - Parameters:
    ///   - header: producer id, producer sequence and the number of records in `payload`.
    ///   - payload: exactly `header.recordCount` records in the WAL payload encoding
    ///     (``RecordEncoder``), each body non-empty.
    /// - Throws: ``NativeMalformed`` when `payload` does not hold exactly `header.recordCount`
    ///   non-empty records (a length runs past the payload, or bytes follow the last record).
    public static func batch(_ header: NativeBatchHeader, payload: [UInt8], allocator: ByteBufferAllocator) throws(NativeMalformed) -> ByteBuffer {
        var cursor = RecordCursor(payload, count: payload.count)
        var bodies: [Range<Int>] = []
        bodies.reserveCapacity(Int(header.recordCount))
        while bodies.count < Int(header.recordCount) {
            guard let range = try? cursor.nextBody() else {
                throw NativeMalformed(what: "record \(bodies.count) of \(header.recordCount) is empty or runs past the \(payload.count)-byte payload")
            }
            bodies.append(range)
        }
        guard cursor.offset == payload.count else {
            throw NativeMalformed(what: "\(payload.count - cursor.offset) bytes follow the last of \(header.recordCount) records")
        }
        return plainBatch(header, payload: payload, bodies: bodies, allocator: allocator)
    }

    /// The BATCH of `header` whose record bodies are `bodies` of `payload`.
    private static func plainBatch(
        _ header: NativeBatchHeader, payload: [UInt8], bodies: [Range<Int>], allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        NativeFrames.frame(.batch, allocator: allocator) { buffer in
            buffer.reserveCapacity(minimumWritableBytes: payload.count + 4 * bodies.count + 20)
            header.write(to: &buffer)
            for range in bodies {
                buffer.writeInteger(UInt32(range.count), endianness: .big)
                buffer.writeBytes(payload[range])
            }
        }
    }

    private static func finish(_ body: ByteBuffer, _ name: String) throws(NativeMalformed) {
        guard body.readableBytes == 0 else { throw NativeMalformed(what: "\(name) has \(body.readableBytes) trailing bytes") }
    }
}

/// What HELLO_OK announced (docs/protocol.md, section 5.2): the node's answer to an accepted
/// HELLO, in the HELLO's version.
///
/// Version 2 adds `extensions`: the codec the node accepts in BATCH_COMPRESSED
/// (``compression``) and the largest uncompressed batch (``maxBatchBytes``).
public struct NativeWelcome: Sendable, Equatable {
    /// The version in use: the HELLO's.
    public var version: UInt16
    /// The largest frame `length` the node accepts from the daemon.
    public var maxFrameSize: Int
    /// How often the node wants a HEARTBEAT.
    public var heartbeatIntervalMilliseconds: UInt32
    public var nodeID: String
    /// Version 2's extension pairs, by key (``NativeExtensionKey``); not sent with version 1.
    public var extensions: [String: String]

    public init(
        version: UInt16, maxFrameSize: Int, heartbeatIntervalMilliseconds: UInt32, nodeID: String, extensions: [String: String] = [:]
    ) {
        self.version = version
        self.maxFrameSize = maxFrameSize
        self.heartbeatIntervalMilliseconds = heartbeatIntervalMilliseconds
        self.nodeID = nodeID
        self.extensions = extensions
    }

    /// The whole HELLO_OK frame (length, type 0x02, body) as the node sends it; the extensions
    /// (sorted by key) only from version 2 on.
    public func frame(allocator: ByteBufferAllocator) -> ByteBuffer {
        NativeFrames.frame(.helloOK, allocator: allocator) {
            $0.writeInteger(version, endianness: .big)
            $0.writeInteger(UInt32(clamping: maxFrameSize), endianness: .big)
            $0.writeInteger(heartbeatIntervalMilliseconds, endianness: .big)
            $0.writeNativeString(nodeID)
            if version >= 2 { $0.writeNativePairs(extensions) }
        }
    }
}

/// The node's answer to one BATCH: an ACK or a NACK (docs/protocol.md, 5.4–5.5), as a client reads it.
public struct BatchAnswer: Sendable, Equatable {
    /// One record the NACK rejected.
    public struct Rejection: Sendable, Equatable {
        /// 0-based position in the batch.
        public var index: UInt32
        /// NACK reason code (``NativeRejectCode``; 5 is `fenced`).
        public var code: UInt16
        /// The node's text; for humans, not for parsing.
        public var reason: String

        public init(index: UInt32, code: UInt16, reason: String) {
            self.index = index
            self.code = code
            self.reason = reason
        }
    }

    public var producerID: UInt64
    public var producerSequence: UInt64
    /// `true` for an ACK (all stored, or a duplicate), `false` for a NACK.
    public var isAcknowledged: Bool
    /// ACK status 1: stored earlier, nothing written now.
    public var isDuplicate: Bool
    /// Records stored (ACK: all; NACK: the valid ones, 0 when fenced).
    public var acceptedCount: UInt32
    /// The NACK's rejected records, in increasing index order; empty for an ACK.
    public var rejections: [Rejection]
    /// The WAL shard and first sequence of an ACK with status 0; `nil` otherwise.
    public var shard: UInt16?
    public var firstSequence: UInt64?

    /// Number of rejected records.
    public var rejectedCount: Int { rejections.count }
    /// The reason texts of the rejected records, in index order.
    public var rejectReasons: [String] { rejections.map(\.reason) }

    public init(
        producerID: UInt64, producerSequence: UInt64, isAcknowledged: Bool, isDuplicate: Bool, acceptedCount: UInt32,
        rejections: [Rejection], shard: UInt16?, firstSequence: UInt64?
    ) {
        self.producerID = producerID
        self.producerSequence = producerSequence
        self.isAcknowledged = isAcknowledged
        self.isDuplicate = isDuplicate
        self.acceptedCount = acceptedCount
        self.rejections = rejections
        self.shard = shard
        self.firstSequence = firstSequence
    }
}
