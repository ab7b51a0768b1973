public import Platform
public import WAL

/// Encodes records straight into one batch payload per shard, in the WAL record format.
///
/// Records are routed by ``SourceHash`` of their host (or metric source). Length prefixes are
/// written as fixed-width (padded) LEB128 so a record can be built field by field without
/// knowing its size first; readers accept padded varints (docs/wal-format.md).
///
/// A value type used on one thread: the per-event-loop ``LoopBatcher`` and the per-request
/// path of `POST /write` each own one.
public struct ShardedPayloads {
    public struct Pending {
        public var payload: [UInt8] = []
        public var count = 0
        public var minTimestamp = Int64.max
        public var maxTimestamp = Int64.min
        /// When the first record of this payload arrived (ns, monotonic), for linger.
        public var openedAt: UInt64 = 0
    }

    public let shardCount: Int
    public private(set) var shards: [Pending]
    private var open: (shard: Int, start: Int, countAt: Int, fields: Int, timestamp: Int64)?
    /// The most fields one record keeps (the count is a two-byte padded varint).
    public static let maxFields = 16_383

    public init(shardCount: Int, reserve: Int = 0) {
        self.shardCount = shardCount
        shards = (0 ..< shardCount).map { _ in
            var p = Pending()
            p.payload.reserveCapacity(reserve)
            return p
        }
    }

    /// Starts a log record in `shard` (the caller routes it: ``SourceHash`` of the host).
    public mutating func beginLog(
        shard: Int, timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView,
        now: UInt64
    ) {
        begin(shard: shard, kind: .log, timestamp: timestamp, now: now)
        shards[shard].payload.append(severity)
        shards[shard].payload.append(facility)
        shards[shard].payload.appendLengthPrefixed(host)
        shards[shard].payload.appendLengthPrefixed(app)
        shards[shard].payload.appendLengthPrefixed(message)
        openFieldCount(shard)
    }

    /// Starts a metric sample in `shard`.
    public mutating func beginMetric(shard: Int, timestamp: Int64, name: ByteView, value: Double, now: UInt64) {
        begin(shard: shard, kind: .metric, timestamp: timestamp, now: now)
        shards[shard].payload.appendLittleEndian(value.bitPattern)
        shards[shard].payload.appendLengthPrefixed(name)
        openFieldCount(shard)
    }

    /// Adds a field or label to the open record (ignored past ``maxFields``).
    public mutating func field(key: ByteView, value: ByteView) {
        guard var o = open, o.fields < Self.maxFields else { return }
        shards[o.shard].payload.appendLengthPrefixed(key)
        shards[o.shard].payload.appendLengthPrefixed(value)
        o.fields += 1
        open = o
    }

    /// Completes the open record.
    /// - Returns: its shard and encoded size.
    @discardableResult
    public mutating func finishRecord() -> (shard: Int, bytes: Int) {
        guard let o = open else { preconditionFailure("finishRecord without an open record") }
        open = nil
        let bodyLength = shards[o.shard].payload.count - o.start - 4
        unsafe shards[o.shard].payload.withUnsafeMutableBufferPointer { p in
            unsafe LEB128.storePadded(UInt64(bodyLength), width: 4, into: p, at: o.start)
            unsafe LEB128.storePadded(UInt64(o.fields), width: 2, into: p, at: o.countAt)
        }
        shards[o.shard].count += 1
        if o.timestamp < shards[o.shard].minTimestamp { shards[o.shard].minTimestamp = o.timestamp }
        if o.timestamp > shards[o.shard].maxTimestamp { shards[o.shard].maxTimestamp = o.timestamp }
        return (o.shard, bodyLength + 4)
    }

    /// Drops the open record, if any (a decoder found it malformed after all).
    public mutating func abandonRecord() {
        guard let o = open else { return }
        shards[o.shard].payload.removeSubrange(o.start...)
        open = nil
    }

    /// Takes the shard's payload as a batch, leaving `replacement` (emptied) in its place.
    public mutating func take(shard: Int, codec: WALCodec, replacement: [UInt8]) -> BatchDraft? {
        guard shards[shard].count > 0 else { return nil }
        let p = shards[shard]
        replaceBuffer(shard: shard, with: replacement)
        return BatchDraft(payload: p.payload, recordCount: p.count, minTimestamp: p.minTimestamp, maxTimestamp: p.maxTimestamp, codec: codec)
    }

    /// Puts back a batch taken with ``take(shard:codec:replacement:)`` that could not be written:
    /// its records are the shard's open payload again, to be taken once more.
    public mutating func putBack(shard: Int, _ draft: BatchDraft, openedAt: UInt64 = 0) {
        precondition(open == nil && shards[shard].count == 0, "put back onto an empty shard only")
        var restored = Pending()
        restored.payload = draft.payload
        restored.count = draft.recordCount
        restored.minTimestamp = draft.minTimestamp
        restored.maxTimestamp = draft.maxTimestamp
        restored.openedAt = openedAt
        shards[shard] = restored
    }

    /// Starts the shard afresh on `buffer` (emptied, capacity kept).
    public mutating func replaceBuffer(shard: Int, with buffer: [UInt8]) {
        var fresh = Pending()
        fresh.payload = buffer
        fresh.payload.removeAll(keepingCapacity: true)
        shards[shard] = fresh
    }

    mutating func begin(shard: Int, kind: RecordKind, timestamp: Int64, now: UInt64) {
        precondition(open == nil, "a record is already open")
        if shards[shard].count == 0 { shards[shard].openedAt = now }
        let start = shards[shard].payload.count
        // Padded 4-byte length placeholder, kind, timestamp (13 bytes): one append, not thirteen.
        let ts = UInt64(bitPattern: timestamp)
        var head = (
            (0x0080_8080 as UInt64 | UInt64(kind.rawValue) << 32 | (ts & 0xFF_FFFF) << 40).littleEndian,
            (ts >> 24).littleEndian
        )
        unsafe withUnsafeBytes(of: &head) { raw in
            unsafe shards[shard].payload.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0 ..< 13]))
        }
        open = (shard, start, 0, 0, timestamp)
    }

    mutating func openFieldCount(_ shard: Int) {
        open!.countAt = shards[shard].payload.count
        shards[shard].payload.append(0x80)
        shards[shard].payload.append(0x00)
    }
}
