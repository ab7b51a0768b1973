public import Logging
import Platform
import Synchronization
public import WAL

/// The agent's spool: every batch it sends stays on disk until the node has acknowledged it.
///
/// A one-shard write-ahead log under `<spool>/wal` (segments, CRCs, recovery: the WAL module's
/// rules), so an agent killed at any moment loses nothing it spooled, and a node outage of hours
/// only grows the spool. Batches are sent in spool order over one connection, so the node's
/// answers acknowledge a contiguous prefix: the spool keeps one watermark (every record below
/// it is acknowledged), saves it in `<spool>/acknowledged`, and deletes the segments below it.
///
/// Bounded: ``hasRoom`` turns false once unacknowledged batches hold ``maxBytes``; inputs then stop reading
/// until acknowledgements free space. Thread-safe.
public final class Spool: Sendable {
    public let directory: String
    /// The most bytes the spool may hold.
    public var maxBytes: Int { limit.load(ordering: .relaxed) }
    private let limit: Atomic<Int>
    /// Whether the spool was created by this open (none was there): its incarnation is new.
    public let isNew: Bool
    let wal: WriteAheadLog
    private let flusher: WALFlusher?
    private let acknowledgedFile: String
    private let state: Mutex<State>
    private let logger: Logger
    private let onDurable: Locked<(@Sendable () -> Void)?>

    private struct State {
        /// Every record below this spool sequence is acknowledged.
        var acknowledged: UInt64
        /// The watermark last saved to disk.
        var saved: UInt64
        /// Monotonic time each unacknowledged batch was spooled (end sequence, time), oldest first.
        var pending: [(end: UInt64, at: Int64)] = []
    }

    /// Opens (recovering) the spool in `directory`.
    /// - Parameters:
    ///   - maxBytes: the bound of ``hasRoom``.
    ///   - durability: when a spooled batch is durable; the sender sends only durable batches, so
    ///     a node never holds a batch a power loss could take from the spool.
    public init(directory: String, maxBytes: Int, durability: Durability = .interval, logger: Logger) throws(WALError) {
        self.directory = directory
        limit = Atomic(maxBytes)
        self.logger = logger
        do {
            try FileSystem.makeDirectory(directory)
            isNew = !FileSystem.exists(directory + "/wal")
        } catch { throw WALError(error) }
        let options = WALOptions(
            shardCount: 1, segmentSize: Self.segmentSize(forLimit: maxBytes), durability: durability, syncIntervalMilliseconds: 10,
            retention: RetentionPolicy(maxBytesPerShard: nil, maxAgeSeconds: nil, producerExpirySeconds: nil))
        wal = try WriteAheadLog.open(dataDirectory: directory, options: options, logger: logger)
        let onDurable = Locked<(@Sendable () -> Void)?>(nil)
        self.onDurable = onDurable
        flusher = durability == .interval ? WALFlusher(wal: wal, logger: logger) { _, _ in onDurable.withLock { $0 }?() } : nil
        acknowledgedFile = directory + "/acknowledged"
        let saved = Self.readWatermark(acknowledgedFile, logger: logger)
        // What was spooled before a restart and is still unacknowledged waits since its segment
        // was created (a conservative age: the segment may have filled later).
        let (wallNow, monotonicNow) = (WallClock.nanoseconds(), MonotonicClock.nanoseconds())
        let pending = wal.shard(0).segments.filter { $0.endSequence > saved && $0.records > 0 }.map {
            (end: $0.endSequence, at: monotonicNow - max(0, wallNow - $0.createdNanoseconds))
        }
        state = Mutex(State(acknowledged: saved, saved: saved, pending: pending))
    }

    /// Calls `body` (on the flusher's thread) whenever more spooled batches became durable:
    /// the sender's cue to send them.
    public func whenDurable(_ body: @escaping @Sendable () -> Void) { onDurable.withLock { $0 = body } }

    /// The spool sequence just past the last spooled record.
    public var endSequence: UInt64 { log.nextSequence }

    /// Appends one batch of encoded records (``RecordEncoder``'s payload), compressed with
    /// `draft.codec`, under its producer id and sequence.
    /// - Returns: the spool sequence just past the batch (its records are below it).
    /// - Throws: ``WALError`` when the disk fails (nothing is spooled then).
    @discardableResult
    public func append(_ draft: BatchDraft) throws(WALError) -> UInt64 {
        switch try log.append(draft) {
        case .appended(let base, let count, _):
            let end = base + UInt64(count)
            let now = MonotonicClock.nanoseconds()
            state.withLock { $0.pending.append((end, now)) }
            return end
        case .duplicate:
            // A producer sequence is never reused by the agent; a duplicate here is a bug.
            throw WALError(.invalidArgument, "producer \(draft.producerID) sequence \(draft.producerSequence) was already spooled")
        }
    }

    /// The next producer sequence for `producer`: one past the highest it spooled (1 for a new
    /// producer), kept across restarts by the spool's own producer marks.
    public func nextSequence(producer: UInt64) -> UInt64 { (log.highWaterMark(producerID: producer) ?? 0) + 1 }

    /// Every record below this spool sequence may be sent: it is spooled and durable.
    public var sendableSequence: UInt64 { log.durableSequence }

    /// Every record below this spool sequence was acknowledged by the node.
    public var acknowledged: UInt64 { state.withLock { $0.acknowledged } }

    /// Records the node's answer to the batches ending at `end` (an ACK, a NACK, or a fenced
    /// NACK: all final). Watermarks only move forward.
    public func acknowledge(through end: UInt64) {
        state.withLock { s in
            guard end > s.acknowledged else { return }
            s.acknowledged = end
            s.pending.removeAll { $0.end <= end }
        }
    }

    /// Saves the watermark and deletes the segments below it. Call it now and then (every
    /// heartbeat), not per acknowledgement.
    public func compact() throws(WALError) {
        let (watermark, saved) = state.withLock { ($0.acknowledged, $0.saved) }
        guard watermark > saved else { return }
        do { try FileSystem.writeAtomically(acknowledgedFile, Array("\(watermark)\n".utf8)) } catch { throw WALError(error) }
        state.withLock { $0.saved = max($0.saved, watermark) }
        try log.deleteSegments(below: watermark)
    }

    /// Changes ``maxBytes`` (a pushed configuration).
    public func setMaxBytes(_ bytes: Int) { limit.store(bytes, ordering: .relaxed) }

    /// Whether inputs may spool more: the unacknowledged batches hold less than ``maxBytes``.
    /// (On disk the spool holds those, plus at most one segment of acknowledged ones until the
    /// next ``compact()``.)
    public var hasRoom: Bool { backlogBytes < maxBytes }

    /// Segments of an eighth of the limit, from 1 to 64 MiB: acknowledged batches leave the
    /// disk a segment at a time, so a small spool needs small segments.
    static func segmentSize(forLimit limit: Int) -> Int { min(64 << 20, max(1 << 20, limit / 8)) }

    /// The highest producer sequence spooled for `producer`.
    public func spooledSequence(producer: UInt64) -> UInt64 { log.highWaterMark(producerID: producer) ?? 0 }

    /// Bytes the spool holds on disk (headers and stored payloads), acknowledged segments not yet
    /// deleted included.
    public var storedBytes: Int { log.storedBytes }

    /// Bytes of spooled batches the node has not acknowledged.
    public var backlogBytes: Int {
        let watermark = acknowledged
        return log.segments.reduce(0) { total, segment in
            guard segment.endSequence > watermark else { return total }
            // A segment partly acknowledged counts in proportion to its records.
            let records = max(1, segment.endSequence - segment.baseSequence)
            let unacked = segment.endSequence - max(segment.baseSequence, watermark)
            return total + Int(Double(segment.storedBytes) * Double(unacked) / Double(records))
        }
    }

    /// How long the oldest unacknowledged batch has waited (0 when none).
    public var oldestUnacknowledgedAge: Duration {
        guard let oldest = state.withLock({ $0.pending.first?.at }) else { return .zero }
        return .nanoseconds(max(0, MonotonicClock.nanoseconds() - oldest))
    }

    /// A cursor for sending, at the first unacknowledged record.
    public func cursor() -> ShardCursor { ShardCursor(dataDirectory: directory, shard: 0, from: acknowledged) }

    /// Saves the watermark, makes everything durable and closes the log.
    public func close() throws(WALError) {
        try compact()
        flusher?.stop()
        try wal.close()
    }

    private var log: ShardLog { wal.shard(0) }

    /// The saved watermark; 0 when there is none or it cannot be read: then everything still in
    /// the spool is sent again, and the node's exactly-once rule keeps out what it already has.
    private static func readWatermark(_ path: String, logger: Logger) -> UInt64 {
        let bytes: [UInt8]?
        do { bytes = try FileSystem.read(path) } catch {
            logger.warning("spool: cannot read the acknowledged watermark; resending the whole spool", metadata: ["error": "\(error)"])
            return 0
        }
        guard let bytes else { return 0 }
        let text = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first ?? ""
        guard let value = UInt64(text) else {
            logger.warning("spool: the acknowledged watermark is damaged; resending the whole spool", metadata: [
                "spool.path": "\(path)", "spool.content": "\(text.prefix(40))",
            ])
            return 0
        }
        return value
    }
}
