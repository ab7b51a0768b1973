import Glibc
public import Ingest
import Logging
public import Platform
import WAL

/// The record sink of one input: encodes what its reader emits into one batch payload (the WAL
/// record format, as the node's batchers do) and, when the batch is full or has lingered,
/// spools it under the input's producer id with the next producer sequence.
///
/// Records that name no host get the agent's host name (for the agent, the sending peer is
/// itself). Used by one thread, the input's.
public struct InputBatcher: RecordSink {
    let spool: Spool
    let producerID: UInt64
    let codec: WALCodec
    let batchBytes: Int
    let lingerNanoseconds: Int64
    private let host: [UInt8]
    /// The task's stream, added to every record as the field `stream` (empty: none).
    private let stream: [UInt8]
    private let logger: Logger
    private var payloads = ShardedPayloads(shardCount: 1)
    /// The buffer the next batch is encoded into, once the open one is spooled.
    private var spare: [UInt8] = []
    private var nextSequence: UInt64
    private var openedAt: Int64 = 0
    /// Records the reader emitted that the batcher refused as malformed.
    public private(set) var rejected = 0
    /// Records spooled since start.
    public private(set) var spooled = 0

    init(
        spool: Spool, producerID: UInt64, codec: WALCodec, batchBytes: Int, linger: Duration, host: String, stream: String = "",
        logger: Logger
    ) {
        self.spool = spool
        self.producerID = producerID
        self.codec = codec
        self.batchBytes = batchBytes
        lingerNanoseconds = linger.clampedNanoseconds
        self.host = Array(host.utf8)
        self.stream = Array(stream.utf8)
        self.logger = logger
        nextSequence = spool.nextSequence(producer: producerID)
    }

    /// Records in the open batch.
    var pendingRecords: Int { payloads.shards[0].count }

    /// Whether the open batch should be spooled now: full, or older than the linger.
    func isDue(now monotonic: Int64) -> Bool {
        let pending = payloads.shards[0]
        return pending.count > 0
            && (pending.byteCount >= batchBytes || pending.count >= Self.maxRecords || monotonic - openedAt >= lingerNanoseconds)
    }

    /// The most records in one batch (a BATCH's `record_count` is at most 65,535).
    static let maxRecords = 65_535

    /// Records the open batch may still take (at least 1).
    var recordRoom: Int { max(1, Self.maxRecords - payloads.shards[0].count) }

    /// Bytes the open batch may still take before it is full (at least 1).
    var room: Int { max(1, batchBytes - payloads.shards[0].byteCount) }

    /// Spools the open batch, if it holds records, after writing `checkpoint` (where the reader
    /// stands right after them) to `journal` under the batch's producer sequence. Without
    /// records, only a changed checkpoint is written, under the last spooled sequence.
    /// - Throws: when the disk fails: the batch stays open, to be tried again.
    mutating func seal(checkpoint: [String: String], journal: CheckpointJournal) throws(AgentError) {
        guard payloads.shards[0].count > 0 else {
            do { try journal.append(sequence: nextSequence - 1, checkpoint: checkpoint) } catch {
                throw AgentError("cannot write the checkpoint journal: \(error)")
            }
            return
        }
        // The payload moves out and back: the spool copies it, so the same buffer (its pages and
        // its size as room) takes the next batch instead of a fresh allocation per batch.
        guard var draft = payloads.take(shard: 0, codec: codec, replacement: spare) else { return }
        spare = []
        draft.producerID = producerID
        draft.producerSequence = nextSequence
        do {
            try journal.append(sequence: nextSequence, checkpoint: checkpoint)
            try spool.append(draft)
        } catch {
            payloads.putBack(shard: 0, draft)
            throw AgentError("cannot spool a batch: \(error)")
        }
        nextSequence += 1
        spooled += draft.recordCount
        spare = draft.payload
    }

    // MARK: RecordSink

    public mutating func beginLog(timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView) {
        markOpen()
        guard host.isEmpty else {
            payloads.beginLog(shard: 0, timestamp: timestamp, severity: severity, facility: facility, host: host, app: app, message: message, now: 0)
            return
        }
        let own = self.host
        unsafe own.withUnsafeBytes { raw in
            payloads.beginLog(shard: 0, timestamp: timestamp, severity: severity, facility: facility, host: unsafe ByteView(raw), app: app, message: message, now: 0)
        }
    }

    public mutating func beginMetric(timestamp: Int64, name: ByteView, value: Double, source: ByteView) {
        markOpen()
        payloads.beginMetric(shard: 0, timestamp: timestamp, name: name, value: value, now: 0)
    }

    public mutating func field(key: ByteView, value: ByteView) { payloads.field(key: key, value: value) }

    public mutating func finishRecord() {
        if !stream.isEmpty {
            let stream = self.stream
            unsafe stream.withUnsafeBytes { raw in
                withStreamKey { key in payloads.field(key: key, value: unsafe ByteView(raw)) }
            }
        }
        payloads.finishRecord()
    }

    public mutating func reject(_ reason: StaticString, sample: ByteView) {
        rejected += 1
        if rejected <= 10 || rejected.isMultiple(of: 10_000) {
            logger.warning("input: record refused", metadata: ["reason": "\(reason)", "refused.total": "\(rejected)"])
        }
    }

    private mutating func markOpen() {
        if payloads.shards[0].count == 0 { openedAt = MonotonicClock.nanoseconds() }
    }
}

private let streamKey: StaticString = "stream"

@inline(__always)
private func withStreamKey<R>(_ body: (ByteView) -> R) -> R {
    unsafe body(ByteView(UnsafeRawBufferPointer(start: streamKey.utf8Start, count: streamKey.utf8CodeUnitCount)))
}
