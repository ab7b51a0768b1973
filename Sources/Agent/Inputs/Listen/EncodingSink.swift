import Ingest
import Platform

/// A ``RecordSink`` that encodes what a decoder emits into bytes: the form in which a
/// ``PortListener``'s records wait between the event loop that decoded them and the poll that
/// emits them (one copy per batch, no object per record).
///
/// One record: its body length (u32 LE), then the body: kind (u8, 0 log, 1 metric), timestamp
/// (i64 LE); for a log severity and facility (u8 each), host, app, message; for a metric the
/// value (f64 bits, u64 LE), name, source; then the field count (u16 LE) and key/value pairs.
/// Strings are a LEB128 length and the bytes (Platform's byte codec). Unlike the WAL's record
/// form it keeps a metric's source. Only this file writes and reads it.
///
/// Records that name no host (no metric source) get ``peer``, as the node's sink gives them
/// the sending peer. Rejects are counted, and the last reason kept for the handler to log.
///
/// Thread: a value type, one per connection or datagram channel, on its event loop.
struct EncodingSink: RecordSink {
    /// The encoded records, appended to until the handler hands them to the queue.
    private(set) var bytes: [UInt8] = []
    /// Records in ``bytes``.
    private(set) var count = 0
    /// What records naming no host are given.
    var peer: [UInt8] = []
    /// Rejects since the last ``clear()``, and the last reason.
    private(set) var rejected = 0
    private(set) var lastReject: StaticString = ""
    private var open: (start: Int, countAt: Int, fields: Int)?

    static let logKind: UInt8 = 0
    static let metricKind: UInt8 = 1
    /// The most fields kept per record (the count is a u16).
    static let maxFields = Int(UInt16.max)

    mutating func beginLog(timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView) {
        begin(Self.logKind, timestamp)
        bytes.append(severity)
        bytes.append(facility)
        ByteView.withKey(host, orElse: peer) { bytes.appendLengthPrefixed($0) }
        bytes.appendLengthPrefixed(app)
        bytes.appendLengthPrefixed(message)
        openFields()
    }

    mutating func beginMetric(timestamp: Int64, name: ByteView, value: Double, source: ByteView) {
        begin(Self.metricKind, timestamp)
        bytes.appendLittleEndian(value.bitPattern)
        bytes.appendLengthPrefixed(name)
        ByteView.withKey(source, orElse: peer) { bytes.appendLengthPrefixed($0) }
        openFields()
    }

    mutating func field(key: ByteView, value: ByteView) {
        guard var o = open else { preconditionFailure("field without an open record") }
        guard o.fields < Self.maxFields else { return }
        bytes.appendLengthPrefixed(key)
        bytes.appendLengthPrefixed(value)
        o.fields += 1
        open = o
    }

    mutating func finishRecord() {
        guard let o = open else { preconditionFailure("finishRecord without an open record") }
        open = nil
        bytes.storeLittleEndian(UInt32(bytes.count - o.start - 4), at: o.start)
        bytes.storeLittleEndian(UInt16(o.fields), at: o.countAt)
        count += 1
    }

    mutating func reject(_ reason: StaticString, sample: ByteView) {
        rejected += 1
        lastReject = reason
    }

    /// Forgets the records and rejects, keeping the buffer's capacity.
    mutating func clear() {
        precondition(open == nil, "clear while a record is open")
        bytes.removeAll(keepingCapacity: true)
        count = 0
        rejected = 0
    }

    private mutating func begin(_ kind: UInt8, _ timestamp: Int64) {
        precondition(open == nil, "a record is already open")
        let start = bytes.count
        bytes.appendLittleEndian(UInt32(0))
        bytes.append(kind)
        bytes.appendLittleEndian(timestamp)
        open = (start, 0, 0)
    }

    private mutating func openFields() {
        open!.countAt = bytes.count
        bytes.appendLittleEndian(UInt16(0))
    }

    /// The length of the record starting at `offset` of `records` (its body plus the 4 bytes
    /// before it).
    static func recordLength(_ records: ByteView, at offset: Int) -> Int {
        4 + Int(records.loadLittleEndian(UInt32.self, at: offset))
    }

    /// Emits the record starting at `offset` of `records` (bytes this type wrote) into `sink`.
    /// - Returns: its message bytes (0 for a metric).
    static func replay(_ records: ByteView, at offset: Int, into sink: inout some RecordSink) -> Int {
        var r = ByteReader(records[offset + 4 ..< offset + recordLength(records, at: offset)])
        guard let kind = r.byte(), let timestamp = r.littleEndian(Int64.self) else { preconditionFailure("a queued record is damaged") }
        var messageBytes = 0
        if kind == logKind {
            guard let severity = r.byte(), let facility = r.byte(), let host = r.lengthPrefixed(), let app = r.lengthPrefixed(),
                let message = r.lengthPrefixed()
            else { preconditionFailure("a queued log record is damaged") }
            sink.beginLog(timestamp: timestamp, severity: severity, facility: facility, host: host, app: app, message: message)
            messageBytes = message.count
        } else {
            guard let bits = r.littleEndian(UInt64.self), let name = r.lengthPrefixed(), let source = r.lengthPrefixed() else {
                preconditionFailure("a queued metric sample is damaged")
            }
            sink.beginMetric(timestamp: timestamp, name: name, value: Double(bitPattern: bits), source: source)
        }
        guard let fields = r.littleEndian(UInt16.self) else { preconditionFailure("a queued record is damaged") }
        for _ in 0 ..< fields {
            guard let key = r.lengthPrefixed(), let value = r.lengthPrefixed() else { preconditionFailure("a queued field is damaged") }
            sink.field(key: key, value: value)
        }
        sink.finishRecord()
        return messageBytes
    }
}
