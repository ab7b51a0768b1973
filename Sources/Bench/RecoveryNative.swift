import Foundation
import Ingest
import Workload

/// The few native-protocol frames the recovery benchmark needs (docs/protocol.md): HELLO,
/// BATCH, and the answers to them. Integers are big-endian; record bodies are the WAL's.
enum RecoveryWire {
    static let hello: UInt8 = 0x01
    static let helloOK: UInt8 = 0x02
    static let batch: UInt8 = 0x03
    static let ack: UInt8 = 0x04
    static let nack: UInt8 = 0x05
    static let error: UInt8 = 0x0F

    /// A complete HELLO frame (version 1, no region, labels or token).
    static func helloFrame(daemonID: String) -> [UInt8] {
        var body: [UInt8] = [hello]
        appendInteger(UInt16(1), to: &body)
        appendString(daemonID, to: &body)
        appendString("", to: &body)  // region
        appendInteger(UInt16(0), to: &body)  // labels
        appendString("", to: &body)  // token
        appendString("hypha-bench-recovery", to: &body)
        var frame: [UInt8] = []
        appendInteger(UInt32(body.count), to: &frame)
        return frame + body
    }

    static func appendInteger<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { buffer.append(contentsOf: $0) }
    }

    static func appendString(_ s: String, to buffer: inout [UInt8]) {
        appendInteger(UInt16(s.utf8.count), to: &buffer)
        buffer.append(contentsOf: s.utf8)
    }

    static func integer<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type = T.self) -> T {
        var v: T = 0
        for i in 0 ..< MemoryLayout<T>.size { v = v << 8 | T(bytes[offset + i]) }
        return v
    }

    /// Reads one frame: its type and body.
    static func readFrame(_ socket: PlainTCPSocket) throws -> (type: UInt8, body: [UInt8]) {
        let length = Int(integer(try socket.read(exactly: 4), at: 0, as: UInt32.self))
        guard length >= 1, length <= 16 << 20 else { throw BenchError("the server sent a frame of length \(length)") }
        let frame = try socket.read(exactly: length)
        return (frame[0], Array(frame[1...]))
    }

    /// The text of an ERROR frame body.
    static func errorText(_ body: [UInt8]) -> String {
        guard body.count >= 4 else { return "malformed ERROR" }
        let code = integer(body, at: 0, as: UInt16.self)
        return "ERROR \(code): " + String(decoding: body.dropFirst(4), as: UTF8.self)
    }

    /// The shard a daemon's batches go to: FNV-1a-64 of its id modulo the shard count.
    static func shard(daemonID: String, shardCount: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in daemonID.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(shardCount))
    }
}

/// One pre-generated BATCH: realistic syslog records (``SyslogCorpus``) already framed, so a
/// sender only patches the producer sequence and shifts the timestamps.
struct RecoveryPoolBatch: Sendable {
    /// The BATCH frame with producer id 1 and sequence 0.
    let frame: [UInt8]
    /// Where each record's timestamp (i64 little-endian) sits in `frame`.
    let timestampOffsets: [Int]
    let records: [LogRecord]
    /// Uncompressed length of the WAL batch the server will write (LEB128 lengths + bodies).
    let walPayloadBytes: Int
    /// The WAL batch's size on disk for the chosen codec (header + compressed payload).
    let estimatedStoredBytes: Int
}

/// A set of distinct batches, cycled by the senders. Round `r` of the pool shifts every
/// timestamp by `r × span`, so the log's time keeps moving forward and no two sent batches
/// are the same bytes.
struct RecoveryPool: Sendable {
    let batches: [RecoveryPoolBatch]
    let span: Int64

    static let producerID: UInt64 = 1
    static let sequenceOffset = 4 + 1 + 8

    init(distinct: Int, batchBytes: Int, codec: WALCodec, seed: UInt64 = 42) throws {
        var corpus = SyslogCorpus(seed: seed)
        let context = CodecContext()
        var batches: [RecoveryPoolBatch] = []
        var first = Int64.max, last = Int64.min
        for _ in 0 ..< distinct {
            var body: [UInt8] = [RecoveryWire.batch]
            RecoveryWire.appendInteger(Self.producerID, to: &body)
            RecoveryWire.appendInteger(UInt64(0), to: &body)
            RecoveryWire.appendInteger(UInt32(0), to: &body)  // record count, patched below
            var payload: [UInt8] = []
            var records: [LogRecord] = []
            var offsets: [Int] = []
            var encoded: [UInt8] = []
            while payload.count < batchBytes, records.count < 65_535 {
                let record = corpus.nextRecord()
                encoded.removeAll(keepingCapacity: true)
                RecordEncoder.append(record, to: &encoded)
                payload += encoded
                // Strip the LEB128 length: a BATCH carries a u32 length instead.
                var start = 0
                while encoded[start] & 0x80 != 0 { start += 1 }
                start += 1
                RecoveryWire.appendInteger(UInt32(encoded.count - start), to: &body)
                offsets.append(4 + body.count + 1)  // frame length prefix + kind byte
                body.append(contentsOf: encoded[start...])
                records.append(record)
                first = min(first, record.timestamp)
                last = max(last, record.timestamp)
            }
            let count = UInt32(records.count).bigEndian
            withUnsafeBytes(of: count) { for (i, b) in $0.enumerated() { body[1 + 16 + i] = b } }
            var frame: [UInt8] = []
            RecoveryWire.appendInteger(UInt32(body.count), to: &frame)
            frame += body
            let stored = codec == .none ? payload.count : try context.compress(payload, codec: codec).count
            batches.append(RecoveryPoolBatch(
                frame: frame, timestampOffsets: offsets, records: records, walPayloadBytes: payload.count,
                estimatedStoredBytes: BatchHeader.size + min(stored, payload.count)))
        }
        self.batches = batches
        span = last - first + 1_000_000
    }

    /// Which pool batch and timestamp shift the `index`-th batch sent overall uses.
    func place(_ index: Int) -> (batch: Int, shift: Int64) {
        (index % batches.count, Int64(index / batches.count) * span)
    }

    /// The frame of the `index`-th batch sent overall, with producer sequence `sequence`.
    func frame(_ index: Int, sequence: UInt64) -> [UInt8] {
        let (b, shift) = place(index)
        let batch = batches[b]
        var frame = batch.frame
        withUnsafeBytes(of: sequence.bigEndian) { for (i, byte) in $0.enumerated() { frame[Self.sequenceOffset + i] = byte } }
        for (record, offset) in zip(batch.records, batch.timestampOffsets) {
            withUnsafeBytes(of: (record.timestamp + shift).littleEndian) { for (i, byte) in $0.enumerated() { frame[offset + i] = byte } }
        }
        return frame
    }
}

/// A batch the server acknowledged: where it says the records are, and what they were.
struct RecoveryAckedBatch: Sendable {
    var shard: Int
    var firstSequence: UInt64
    var count: Int
    var producerSequence: UInt64
    /// The index of the batch among all sent (gives the pool batch and timestamp shift).
    var index: Int
}

/// Sends pool batches on one native connection (one daemon id, so one shard), keeping up to
/// `window` unacknowledged, and checks every ACK against the batch it answers.
final class RecoveryNativeSender: @unchecked Sendable {
    let daemonID: String
    let shard: Int
    let port: Int
    let pool: RecoveryPool
    /// This sender sends the batches `slot`, `slot + stride`, `slot + 2·stride`, …
    let slot: Int
    let stride: Int
    let quotaBytes: Int
    let window: Int

    private let lock = NSLock()
    private var _acked: [RecoveryAckedBatch] = []
    private var _ackedStoredBytes = 0
    private var _failure: String?

    init(daemonID: String, shard: Int, port: Int, pool: RecoveryPool, slot: Int, stride: Int, quotaBytes: Int, window: Int) {
        self.daemonID = daemonID
        self.shard = shard
        self.port = port
        self.pool = pool
        self.slot = slot
        self.stride = stride
        self.quotaBytes = quotaBytes
        self.window = window
    }

    var acked: [RecoveryAckedBatch] { lock.withLock { _acked } }
    var ackedStoredBytes: Int { lock.withLock { _ackedStoredBytes } }
    var failure: String? { lock.withLock { _failure } }

    /// Runs to completion on the calling thread; the outcome is in ``acked`` and ``failure``.
    func run() {
        do {
            try send()
        } catch {
            lock.withLock { _failure = "\(daemonID): \(error)" }
        }
    }

    private func send() throws {
        let socket = try PlainTCPSocket(port: port)
        defer { socket.close() }
        try socket.send(RecoveryWire.helloFrame(daemonID: daemonID))
        let reply = try RecoveryWire.readFrame(socket)
        guard reply.type == RecoveryWire.helloOK else {
            throw BenchError(reply.type == RecoveryWire.error ? RecoveryWire.errorText(reply.body) : "HELLO answered with frame type \(reply.type)")
        }
        var pending: [(sequence: UInt64, index: Int, count: Int)] = []
        var head = 0
        var sent = 0
        var sequence: UInt64 = 0
        var index = slot
        while sent < quotaBytes || head < pending.count {
            while sent < quotaBytes, pending.count - head < window {
                sequence += 1
                let batch = pool.batches[pool.place(index).batch]
                try socket.send(pool.frame(index, sequence: sequence))
                pending.append((sequence, index, batch.records.count))
                sent += batch.estimatedStoredBytes
                index += stride
            }
            let (type, body) = try RecoveryWire.readFrame(socket)
            switch type {
            case RecoveryWire.ack:
                guard body.count == 31, head < pending.count else { throw BenchError("unexpected ACK of \(body.count) bytes") }
                let expected = pending[head]
                head += 1
                let producer = RecoveryWire.integer(body, at: 0, as: UInt64.self)
                let seq = RecoveryWire.integer(body, at: 8, as: UInt64.self)
                let accepted = Int(RecoveryWire.integer(body, at: 16, as: UInt32.self))
                let status = body[20]
                let ackShard = Int(RecoveryWire.integer(body, at: 21, as: UInt16.self))
                let first = RecoveryWire.integer(body, at: 23, as: UInt64.self)
                guard producer == RecoveryPool.producerID, seq == expected.sequence, status == 0, accepted == expected.count, ackShard == shard else {
                    throw BenchError("ACK (producer \(producer), sequence \(seq), status \(status), accepted \(accepted), shard \(ackShard)) does not answer batch \(expected.sequence) of \(expected.count) records on shard \(shard)")
                }
                let stored = pool.batches[pool.place(expected.index).batch].estimatedStoredBytes
                lock.withLock {
                    _acked.append(RecoveryAckedBatch(shard: ackShard, firstSequence: first, count: accepted, producerSequence: seq, index: expected.index))
                    _ackedStoredBytes += stored
                }
                if head > 4096 {
                    pending.removeFirst(head)
                    head = 0
                }
            case RecoveryWire.nack:
                throw BenchError("batch \(pending[head].sequence) was refused (NACK)")
            case RecoveryWire.error:
                throw BenchError(RecoveryWire.errorText(body))
            default:
                continue  // heartbeat acks and reserved control-plane frames
            }
        }
    }
}
