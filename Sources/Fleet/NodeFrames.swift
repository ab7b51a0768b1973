import Ingest
import NIOCore

// The node → daemon frames a simulated daemon reads itself (HELLO_OK, ACK, NACK, HEARTBEAT_ACK,
// ERROR; docs/protocol.md, sections 5.2–5.8) and the BATCH it writes. Control frames are
// decoded by Ingest's `NodeControlMessage.decode`, and HELLO, HEARTBEAT and the reports are
// encoded by Ingest too, so the control formats exist once.

/// Readers for the bodies of the node's answers; each rejects short bodies and trailing bytes.
enum NodeFrames {
    static func welcome(_ body: inout ByteBuffer) throws(NativeMalformed) -> NodeWelcome {
        let w = NodeWelcome(
            version: try body.readNativeInteger(UInt16.self, "version"),
            maxFrameSize: Int(try body.readNativeInteger(UInt32.self, "max_frame_size")),
            heartbeatIntervalMilliseconds: try body.readNativeInteger(UInt32.self, "heartbeat_interval_ms"),
            nodeID: try body.readNativeString("node_id"))
        try finish(body, "HELLO_OK")
        return w
    }

    static func ack(_ body: inout ByteBuffer) throws(NativeMalformed) -> TaskDataOutcome {
        let producerID = try body.readNativeInteger(UInt64.self, "producer_id")
        let sequence = try body.readNativeInteger(UInt64.self, "producer_sequence")
        let accepted = try body.readNativeInteger(UInt32.self, "accepted")
        let status = try body.readNativeInteger(UInt8.self, "status")
        let shard = try body.readNativeInteger(UInt16.self, "shard")
        let first = try body.readNativeInteger(UInt64.self, "first_sequence")
        try finish(body, "ACK")
        let duplicate = status == 1
        return TaskDataOutcome(
            producerID: producerID, producerSequence: sequence, isAcknowledged: true, isDuplicate: duplicate, acceptedCount: accepted,
            rejections: [], shard: duplicate ? nil : shard, firstSequence: duplicate ? nil : first)
    }

    static func nack(_ body: inout ByteBuffer) throws(NativeMalformed) -> TaskDataOutcome {
        let producerID = try body.readNativeInteger(UInt64.self, "producer_id")
        let sequence = try body.readNativeInteger(UInt64.self, "producer_sequence")
        let accepted = try body.readNativeInteger(UInt32.self, "accepted")
        let count = try body.readNativeInteger(UInt32.self, "rejected_count")
        // Each entry takes at least 8 bytes: do not trust the count for the allocation.
        guard Int(count) <= body.readableBytes / 8 else { throw NativeMalformed(what: "NACK rejected_count \(count) exceeds the body") }
        var rejections: [TaskDataOutcome.Rejection] = []
        rejections.reserveCapacity(Int(count))
        for _ in 0 ..< count {
            rejections.append(TaskDataOutcome.Rejection(
                index: try body.readNativeInteger(UInt32.self, "index"), code: try body.readNativeInteger(UInt16.self, "reason_code"),
                reason: try body.readNativeString("reason")))
        }
        try finish(body, "NACK")
        return TaskDataOutcome(
            producerID: producerID, producerSequence: sequence, isAcknowledged: false, isDuplicate: false, acceptedCount: accepted,
            rejections: rejections, shard: nil, firstSequence: nil)
    }

    /// HEARTBEAT_ACK: (echoed send time, node time), both Unix milliseconds.
    static func heartbeatAck(_ body: inout ByteBuffer) throws(NativeMalformed) -> (echoed: UInt64, node: UInt64) {
        let echoed = try body.readNativeInteger(UInt64.self, "echoed_sent_at_unix_ms")
        let node = try body.readNativeInteger(UInt64.self, "server_time_unix_ms")
        try finish(body, "HEARTBEAT_ACK")
        return (echoed, node)
    }

    /// ERROR: (code, message). Also used for the ERROR a daemon sends.
    static func error(_ body: inout ByteBuffer) throws(NativeMalformed) -> (code: UInt16, message: String) {
        let code = try body.readNativeInteger(UInt16.self, "code")
        let message = try body.readNativeString("message")
        try finish(body, "ERROR")
        return (code, message)
    }

    /// A BATCH frame (docs/protocol.md, section 5.3) of already encoded record bodies.
    /// The WAL encoding puts a LEB128 length before each body; the BATCH a `u32` big-endian one.
    static func batch(producerID: UInt64, sequence: UInt64, records: [Record], allocator: ByteBufferAllocator) -> ByteBuffer {
        var encoded: [UInt8] = []
        for record in records { RecordEncoder.append(record, to: &encoded) }
        var cursor = RecordCursor(encoded, count: encoded.count)
        return NativeFrames.frame(.batch, allocator: allocator) { buffer in
            buffer.reserveCapacity(minimumWritableBytes: encoded.count + 4 * records.count + 20)
            buffer.writeInteger(producerID, endianness: .big)
            buffer.writeInteger(sequence, endianness: .big)
            buffer.writeInteger(UInt32(records.count), endianness: .big)
            // The bodies were just encoded, so the cursor cannot fail.
            while let range = try? cursor.nextBody() {
                buffer.writeInteger(UInt32(range.count), endianness: .big)
                buffer.writeBytes(encoded[range])
            }
        }
    }

    private static func finish(_ body: ByteBuffer, _ name: String) throws(NativeMalformed) {
        guard body.readableBytes == 0 else { throw NativeMalformed(what: "\(name) has \(body.readableBytes) trailing bytes") }
    }
}
