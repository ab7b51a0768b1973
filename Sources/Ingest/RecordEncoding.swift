/// Appends records in the WAL's compact binary form to a batch buffer.
///
/// Layout of one record (docs/wal-format.md, "Records"): a LEB128 length of the body, then
/// the body: kind (u8), timestamp (i64 LE, ns), and for a log severity (u8), facility (u8),
/// host, app, message, field count and key/value pairs; for a metric value (f64 LE bits),
/// name, label count and pairs. Strings are a LEB128 length plus UTF-8 bytes.
///
/// Encoding appends to the caller's buffer and allocates nothing of its own.
public enum RecordEncoder {
    /// Appends a log record whose text parts are given as byte collections.
    @inlinable
    public static func appendLog<H: Collection<UInt8>, A: Collection<UInt8>, M: Collection<UInt8>>(
        to buffer: inout [UInt8], timestamp: Int64, severity: UInt8, facility: UInt8,
        host: H, app: A, message: M
    ) {
        let body = 1 + 8 + 2 + stringSize(host.count) + stringSize(app.count) + stringSize(message.count) + 1
        appendVarint(UInt64(body), to: &buffer)
        buffer.append(RecordKind.log.rawValue)
        appendFixed(UInt64(bitPattern: timestamp), to: &buffer)
        buffer.append(severity)
        buffer.append(facility)
        appendString(host, to: &buffer)
        appendString(app, to: &buffer)
        appendString(message, to: &buffer)
        buffer.append(0)  // no fields
    }

    /// Appends a log record with fields.
    public static func append(_ record: LogRecord, to buffer: inout [UInt8]) {
        var body = 1 + 8 + 2 + stringSize(record.host.utf8.count) + stringSize(record.app.utf8.count)
            + stringSize(record.message.utf8.count) + varintSize(UInt64(record.fields.count))
        for (k, v) in record.fields { body += stringSize(k.utf8.count) + stringSize(v.utf8.count) }
        appendVarint(UInt64(body), to: &buffer)
        buffer.append(RecordKind.log.rawValue)
        appendFixed(UInt64(bitPattern: record.timestamp), to: &buffer)
        buffer.append(record.severity)
        buffer.append(record.facility)
        appendString(record.host.utf8, to: &buffer)
        appendString(record.app.utf8, to: &buffer)
        appendString(record.message.utf8, to: &buffer)
        appendVarint(UInt64(record.fields.count), to: &buffer)
        for (k, v) in record.fields {
            appendString(k.utf8, to: &buffer)
            appendString(v.utf8, to: &buffer)
        }
    }

    /// Appends a metric sample.
    public static func append(_ sample: MetricSample, to buffer: inout [UInt8]) {
        var body = 1 + 8 + 8 + stringSize(sample.name.utf8.count) + varintSize(UInt64(sample.labels.count))
        for (k, v) in sample.labels { body += stringSize(k.utf8.count) + stringSize(v.utf8.count) }
        appendVarint(UInt64(body), to: &buffer)
        buffer.append(RecordKind.metric.rawValue)
        appendFixed(UInt64(bitPattern: sample.timestamp), to: &buffer)
        appendFixed(sample.value.bitPattern, to: &buffer)
        appendString(sample.name.utf8, to: &buffer)
        appendVarint(UInt64(sample.labels.count), to: &buffer)
        for (k, v) in sample.labels {
            appendString(k.utf8, to: &buffer)
            appendString(v.utf8, to: &buffer)
        }
    }

    /// Appends any decoded record.
    public static func append(_ record: Record, to buffer: inout [UInt8]) {
        switch record {
        case .log(let l): append(l, to: &buffer)
        case .metric(let m): append(m, to: &buffer)
        }
    }

    @inlinable static func stringSize(_ n: Int) -> Int { varintSize(UInt64(n)) + n }

    @inlinable static func varintSize(_ v: UInt64) -> Int {
        var v = v
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    @inlinable static func appendVarint(_ v: UInt64, to buffer: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    @inlinable static func appendFixed(_ v: UInt64, to buffer: inout [UInt8]) {
        unsafe withUnsafeBytes(of: v.littleEndian) { unsafe buffer.append(contentsOf: $0) }
    }

    @inlinable static func appendString<C: Collection<UInt8>>(_ s: C, to buffer: inout [UInt8]) {
        appendVarint(UInt64(s.count), to: &buffer)
        buffer.append(contentsOf: s)
    }
}

/// Walks the records of a decoded batch payload without copying them.
///
/// Each step checks the length prefix against the bytes left, so a corrupt payload ends the
/// walk with an error instead of reading past the end.
public struct RecordCursor {
    @usableFromInline let bytes: [UInt8]
    @usableFromInline let end: Int
    @usableFromInline var offset: Int

    /// Walks `bytes[0 ..< count]`.
    public init(_ bytes: [UInt8], count: Int) {
        self.bytes = bytes
        self.end = count
        self.offset = 0
    }

    /// The byte range of the next record body, `nil` at the end.
    /// - Throws: ``BatchDamage/badPayload`` when a length runs past the payload.
    @inlinable
    public mutating func nextBody() throws(BatchDamage) -> Range<Int>? {
        guard offset < end else { return nil }
        var length: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end, shift < 64 else { throw .badPayload }
            let b = bytes[offset]
            offset += 1
            length |= UInt64(b & 0x7F) << shift
            if b < 0x80 { break }
            shift += 7
        }
        guard length > 0, length <= UInt64(end - offset) else { throw .badPayload }
        let start = offset
        offset += Int(length)
        return start ..< offset
    }

    /// Decodes the next record, `nil` at the end.
    public mutating func next() throws(BatchDamage) -> Record? {
        guard let body = try nextBody() else { return nil }
        var reader = BodyReader(bytes: bytes, offset: body.lowerBound, end: body.upperBound)
        return try reader.record()
    }
}

/// Reads the fields of one record body; every read is bounds-checked.
struct BodyReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    mutating func record() throws(BatchDamage) -> Record {
        let kind = try byte()
        let timestamp = Int64(bitPattern: try fixed())
        switch RecordKind(rawValue: kind) {
        case .log:
            let severity = try byte()
            let facility = try byte()
            let host = try string()
            let app = try string()
            let message = try string()
            let fields = try pairs()
            return .log(LogRecord(
                timestamp: timestamp, severity: severity, facility: facility, host: host, app: app,
                message: message, fields: fields))
        case .metric:
            let value = Double(bitPattern: try fixed())
            let name = try string()
            let labels = try pairs()
            return .metric(MetricSample(timestamp: timestamp, name: name, value: value, labels: labels))
        case nil:
            throw .badPayload
        }
    }

    mutating func byte() throws(BatchDamage) -> UInt8 {
        guard offset < end else { throw .badPayload }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func fixed() throws(BatchDamage) -> UInt64 {
        guard end - offset >= 8 else { throw .badPayload }
        var v: UInt64 = 0
        for i in 0 ..< 8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return v
    }

    mutating func varint() throws(BatchDamage) -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard shift < 64 else { throw .badPayload }
            let b = try byte()
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return v }
            shift += 7
        }
    }

    mutating func string() throws(BatchDamage) -> String {
        let n = try varint()
        guard n <= UInt64(end - offset) else { throw .badPayload }
        let s = String(decoding: bytes[offset ..< offset + Int(n)], as: UTF8.self)
        offset += Int(n)
        return s
    }

    mutating func pairs() throws(BatchDamage) -> [(String, String)] {
        let n = try varint()
        guard n <= UInt64(end - offset) else { throw .badPayload }
        var out: [(String, String)] = []
        out.reserveCapacity(Int(n))
        for _ in 0 ..< n { out.append((try string(), try string())) }
        return out
    }
}
