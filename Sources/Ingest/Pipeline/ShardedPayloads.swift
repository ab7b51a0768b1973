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
        /// The storage: the first ``byteCount`` bytes are the encoded records, the rest is room
        /// written over by the next ones (kept across batches, so growing is rare).
        var storage: [UInt8] = []
        /// Bytes of encoded records.
        public internal(set) var byteCount = 0
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
            p.storage = [UInt8](repeating: 0, count: reserve)
            return p
        }
    }

    /// Starts a log record in `shard` (the caller routes it: ``SourceHash`` of the host).
    public mutating func beginLog(
        shard: Int, timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView,
        now: UInt64
    ) {
        let start = begin(shard: shard, timestamp: timestamp, now: now)
        let room = Self.headSize + 2 + 3 * Self.maxVarint + host.count + app.count + message.count + 2
        let end = write(shard: shard, at: start, room: room) { w in
            unsafe w.head(kind: .log, timestamp: timestamp)
            unsafe w.byte(severity)
            unsafe w.byte(facility)
            unsafe w.lengthPrefixed(host)
            unsafe w.lengthPrefixed(app)
            unsafe w.lengthPrefixed(message)
        }
        openFieldCount(shard, at: end)
    }

    /// Starts a metric sample in `shard`.
    public mutating func beginMetric(shard: Int, timestamp: Int64, name: ByteView, value: Double, now: UInt64) {
        let start = begin(shard: shard, timestamp: timestamp, now: now)
        let end = write(shard: shard, at: start, room: Self.headSize + 8 + Self.maxVarint + name.count + 2) { w in
            unsafe w.head(kind: .metric, timestamp: timestamp)
            unsafe w.littleEndian(value.bitPattern)
            unsafe w.lengthPrefixed(name)
        }
        openFieldCount(shard, at: end)
    }

    /// Adds a field or label to the open record (ignored past ``maxFields``).
    public mutating func field(key: ByteView, value: ByteView) {
        guard var o = open, o.fields < Self.maxFields else { return }
        let at = shards[o.shard].byteCount
        shards[o.shard].byteCount = write(shard: o.shard, at: at, room: 2 * Self.maxVarint + key.count + value.count) { w in
            unsafe w.lengthPrefixed(key)
            unsafe w.lengthPrefixed(value)
        }
        o.fields += 1
        open = o
    }

    /// Completes the open record.
    /// - Returns: its shard and encoded size.
    @discardableResult
    public mutating func finishRecord() -> (shard: Int, bytes: Int) {
        guard let o = open else { preconditionFailure("finishRecord without an open record") }
        open = nil
        let bodyLength = shards[o.shard].byteCount - o.start - 4
        unsafe shards[o.shard].storage.withUnsafeMutableBufferPointer { p in
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
        shards[o.shard].byteCount = o.start
        open = nil
    }

    /// Takes the shard's payload as a batch, leaving `replacement` in its place (its bytes are
    /// overwritten, its size kept as room).
    public mutating func take(shard: Int, codec: WALCodec, replacement: [UInt8]) -> BatchDraft? {
        guard shards[shard].count > 0 else { return nil }
        var p = shards[shard]
        replaceBuffer(shard: shard, with: replacement)
        p.storage.removeLast(p.storage.count - p.byteCount)
        return BatchDraft(payload: p.storage, recordCount: p.count, minTimestamp: p.minTimestamp, maxTimestamp: p.maxTimestamp, codec: codec)
    }

    /// Puts back a batch taken with ``take(shard:codec:replacement:)`` that could not be written:
    /// its records are the shard's open payload again, to be taken once more.
    public mutating func putBack(shard: Int, _ draft: BatchDraft, openedAt: UInt64 = 0) {
        precondition(open == nil && shards[shard].count == 0, "put back onto an empty shard only")
        var restored = Pending()
        restored.storage = draft.payload
        restored.byteCount = draft.payload.count
        restored.count = draft.recordCount
        restored.minTimestamp = draft.minTimestamp
        restored.maxTimestamp = draft.maxTimestamp
        restored.openedAt = openedAt
        shards[shard] = restored
    }

    /// Starts the shard afresh on `buffer`: its bytes are written over, its size kept as room.
    public mutating func replaceBuffer(shard: Int, with buffer: [UInt8]) {
        var fresh = Pending()
        fresh.storage = buffer
        shards[shard] = fresh
    }

    /// Padded 4-byte length placeholder, kind, timestamp.
    static let headSize = 13
    /// The longest LEB128 length prefix of a string (lengths fit in 32 bits).
    static let maxVarint = 5

    mutating func begin(shard: Int, timestamp: Int64, now: UInt64) -> Int {
        precondition(open == nil, "a record is already open")
        if shards[shard].count == 0 { shards[shard].openedAt = now }
        let start = shards[shard].byteCount
        open = (shard, start, 0, 0, timestamp)
        return start
    }

    /// Writes at most `room` bytes at `offset` of the shard's storage (grown first if needed) with
    /// one exclusive access, and returns where the writing ended.
    @inline(__always)
    mutating func write(shard: Int, at offset: Int, room: Int, _ body: (inout PayloadWriter) -> Void) -> Int {
        if offset + room > shards[shard].storage.count { grow(shard: shard, to: offset + room) }
        return unsafe shards[shard].storage.withUnsafeMutableBufferPointer { p in
            var w = unsafe PayloadWriter(p.baseAddress! + offset)
            body(&w)
            return unsafe w.position - p.baseAddress!
        }
    }

    /// Grows the shard's storage to `size` bytes and 64 KiB more. Rare: the storage is kept
    /// across batches. Only what is grown is touched (the array's own capacity doubles unseen).
    mutating func grow(shard: Int, to size: Int) {
        let current = shards[shard].storage.count
        shards[shard].storage.append(contentsOf: repeatElement(0, count: size + 65_536 - current))
    }

    mutating func openFieldCount(_ shard: Int, at end: Int) {
        open!.countAt = end
        unsafe shards[shard].storage.withUnsafeMutableBufferPointer { p in
            unsafe p[end] = 0x80
            unsafe p[end + 1] = 0x00
        }
        shards[shard].byteCount = end + 2
    }
}

/// Writes record parts into memory the caller has made room for (``ShardedPayloads/write``).
@unsafe struct PayloadWriter {
    var position: UnsafeMutablePointer<UInt8>

    init(_ start: UnsafeMutablePointer<UInt8>) { unsafe position = start }

    /// The padded 4-byte length placeholder, the kind and the timestamp: 13 bytes.
    @inline(__always)
    mutating func head(kind: RecordKind, timestamp: Int64) {
        let ts = UInt64(bitPattern: timestamp)
        unsafe littleEndian(0x0080_8080 as UInt64 | UInt64(kind.rawValue) << 32 | (ts & 0xFF_FFFF) << 40)
        unsafe UnsafeMutableRawPointer(position).storeBytes(of: UInt32(truncatingIfNeeded: (ts >> 24)).littleEndian, as: UInt32.self)
        unsafe position += 4
        unsafe byte(UInt8(truncatingIfNeeded: ts >> 56))
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        unsafe position.pointee = b
        unsafe position += 1
    }

    @inline(__always)
    mutating func littleEndian(_ v: UInt64) {
        unsafe UnsafeMutableRawPointer(position).storeBytes(of: v.littleEndian, as: UInt64.self)
        unsafe position += 8
    }

    @inline(__always)
    mutating func lengthPrefixed(_ view: ByteView) {
        var v = UInt64(view.count)
        while v >= 0x80 {
            unsafe byte(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        unsafe byte(UInt8(v))
        unsafe view.copyBytes(to: position)
        unsafe position += view.count
    }
}
