import Foundation
import Platform
import WAL
import Wire
import Workload

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

    init(distinct: Int, batchBytes: Int, codec: WALCodec, seed: UInt64 = 42) throws {
        var corpus = SyslogCorpus(seed: seed)
        let context = CodecContext()
        var batches: [RecoveryPoolBatch] = []
        var first = Int64.max, last = Int64.min
        for _ in 0 ..< distinct {
            // The WAL payload the server will write for the batch, then the BATCH carrying it.
            var payload: [UInt8] = []
            var records: [LogRecord] = []
            while payload.count < batchBytes, records.count < 65_535 {
                let record = corpus.nextRecord()
                RecordEncoder.append(record, to: &payload)
                records.append(record)
                first = min(first, record.timestamp)
                last = max(last, record.timestamp)
            }
            var frame: [UInt8] = []
            var offsets: [Int] = []
            Datasets.appendBatchFrame(records: records.count, producerID: Self.producerID, to: &frame) { entries in
                LoadBytes.appendBatchEntries(walPayload: payload, to: &entries) { offsets.append($0 + 1) }  // after the kind byte
            }
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
        frame.storeBigEndian(sequence, at: NativePlan.sequenceOffset)
        for (record, offset) in zip(batch.records, batch.timestampOffsets) {
            frame.storeLittleEndian(record.timestamp + shift, at: offset)
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
        let socket = try LoadSocket(host: "127.0.0.1", port: port, noDelay: true)
        _ = try NativeSession.hello(socket, daemonID: daemonID, token: "")
        var pending: [(sequence: UInt64, index: Int, count: Int)] = []
        var head = 0
        var sent = 0
        var sequence: UInt64 = 0
        var index = slot
        while sent < quotaBytes || head < pending.count {
            while sent < quotaBytes, pending.count - head < window {
                sequence += 1
                let batch = pool.batches[pool.place(index).batch]
                try socket.writeAll(pool.frame(index, sequence: sequence))
                pending.append((sequence, index, batch.records.count))
                sent += batch.estimatedStoredBytes
                index += stride
            }
            let (type, reply) = try NativeSession.readFrame(socket)
            let body = reply[...]
            switch type {
            case NativeSession.ack:
                guard body.count == 31, head < pending.count else { throw BenchError("unexpected ACK of \(body.count) bytes") }
                let expected = pending[head]
                head += 1
                let producer = body.loadBigEndian(UInt64.self, at: 0)
                let seq = body.loadBigEndian(UInt64.self, at: 8)
                let accepted = Int(body.loadBigEndian(UInt32.self, at: 16))
                let status = body[20]
                let ackShard = Int(body.loadBigEndian(UInt16.self, at: 21))
                let first = body.loadBigEndian(UInt64.self, at: 23)
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
            case NativeSession.nack:
                throw BenchError("batch \(pending[head].sequence) was refused (NACK)")
            case NativeSession.error:
                throw BenchError(NativeSession.describeError(body))
            default:
                continue  // heartbeat acks and reserved control-plane frames
            }
        }
    }
}
