import Platform

/// Appends records in the WAL's compact binary form to a batch buffer.
///
/// Layout of one record (docs/wal-format.md, "Records"): a LEB128 length of the body, then
/// the body: kind (u8), timestamp (i64 LE, ns), and for a log severity (u8), facility (u8),
/// host, app, message, field count and key/value pairs; for a metric value (f64 LE bits),
/// name, label count and pairs. Strings are a LEB128 length plus UTF-8 bytes.
///
/// Encoding appends to the caller's buffer with the package's byte codec (``LEB128``) and
/// allocates nothing of its own.
public enum RecordEncoder {
    /// Appends a log record with fields.
    public static func append(_ record: LogRecord, to buffer: inout [UInt8]) {
        var body = 1 + 8 + 2 + stringSize(record.host.utf8.count) + stringSize(record.app.utf8.count)
            + stringSize(record.message.utf8.count) + LEB128.size(of: UInt64(record.fields.count))
        for (k, v) in record.fields { body += stringSize(k.utf8.count) + stringSize(v.utf8.count) }
        buffer.appendVarint(UInt64(body))
        buffer.append(RecordKind.log.rawValue)
        buffer.appendLittleEndian(record.timestamp)
        buffer.append(record.severity)
        buffer.append(record.facility)
        buffer.appendLengthPrefixed(record.host.utf8)
        buffer.appendLengthPrefixed(record.app.utf8)
        buffer.appendLengthPrefixed(record.message.utf8)
        appendPairs(record.fields, to: &buffer)
    }

    /// Appends a metric sample.
    public static func append(_ sample: MetricSample, to buffer: inout [UInt8]) {
        var body = 1 + 8 + 8 + stringSize(sample.name.utf8.count) + LEB128.size(of: UInt64(sample.labels.count))
        for (k, v) in sample.labels { body += stringSize(k.utf8.count) + stringSize(v.utf8.count) }
        buffer.appendVarint(UInt64(body))
        buffer.append(RecordKind.metric.rawValue)
        buffer.appendLittleEndian(sample.timestamp)
        buffer.appendLittleEndian(sample.value.bitPattern)
        buffer.appendLengthPrefixed(sample.name.utf8)
        appendPairs(sample.labels, to: &buffer)
    }

    /// Appends any decoded record.
    public static func append(_ record: Record, to buffer: inout [UInt8]) {
        switch record {
        case .log(let l): append(l, to: &buffer)
        case .metric(let m): append(m, to: &buffer)
        }
    }

    private static func stringSize(_ n: Int) -> Int { LEB128.size(of: UInt64(n)) + n }

    private static func appendPairs(_ pairs: [(String, String)], to buffer: inout [UInt8]) {
        buffer.appendVarint(UInt64(pairs.count))
        for (k, v) in pairs {
            buffer.appendLengthPrefixed(k.utf8)
            buffer.appendLengthPrefixed(v.utf8)
        }
    }
}

/// Walks the records of a decoded batch payload without copying them.
///
/// Each step checks the length prefix against the bytes left, so a corrupt payload ends the
/// walk with an error instead of reading past the end.
public struct RecordCursor {
    /// The decoded payload: ``nextBody()`` returns ranges of it, for readers that pick fields
    /// out of record bodies themselves (the PromQL scan) instead of decoding whole records.
    public let bytes: [UInt8]
    @usableFromInline let end: Int
    /// Where the next record's length prefix starts.
    public private(set) var offset: Int

    /// Walks `bytes[0 ..< count]`.
    public init(_ bytes: [UInt8], count: Int) {
        self.bytes = bytes
        self.end = count
        self.offset = 0
    }

    /// The byte range of the next record body, `nil` at the end.
    /// - Throws: ``BatchDamage/badPayload`` when a length runs past the payload.
    public mutating func nextBody() throws(BatchDamage) -> Range<Int>? {
        guard offset < end else { return nil }
        let start = offset
        let body: Range<Int>? = ByteView.with(bytes) { all in
            var reader = ByteReader(all[0 ..< end], offset: start)
            guard let length = reader.varint(), length > 0, length <= UInt64(reader.remaining) else { return nil }
            return reader.offset ..< reader.offset + Int(length)
        }
        guard let body else { throw .badPayload }
        offset = body.upperBound
        return body
    }

    /// Decodes the next record, `nil` at the end.
    public mutating func next() throws(BatchDamage) -> Record? {
        guard let body = try nextBody() else { return nil }
        let record: Record? = ByteView.with(bytes) { all in
            var reader = ByteReader(all[body])
            return RecordDecoding.record(&reader)
        }
        guard let record else { throw .badPayload }
        return record
    }
}

/// Reads the fields of one record body; every read is bounds-checked.
enum RecordDecoding {
    /// The record in `reader`'s bytes, which must hold exactly one body; `nil` when it does not
    /// decode.
    static func record(_ reader: inout ByteReader) -> Record? {
        guard let kind = reader.byte(), let timestamp = reader.littleEndian(Int64.self) else { return nil }
        let record: Record
        switch RecordKind(rawValue: kind) {
        case .log:
            guard let severity = reader.byte(), let facility = reader.byte(), let host = string(&reader),
                let app = string(&reader), let message = string(&reader), let fields = pairs(&reader)
            else { return nil }
            record = .log(LogRecord(
                timestamp: timestamp, severity: severity, facility: facility, host: host, app: app, message: message,
                fields: fields))
        case .metric:
            guard let bits = reader.littleEndian(UInt64.self), let name = string(&reader), let labels = pairs(&reader) else {
                return nil
            }
            record = .metric(MetricSample(timestamp: timestamp, name: name, value: Double(bitPattern: bits), labels: labels))
        case nil:
            return nil
        }
        return record
    }

    private static func string(_ reader: inout ByteReader) -> String? {
        reader.lengthPrefixed()?.string
    }

    private static func pairs(_ reader: inout ByteReader) -> [(String, String)]? {
        guard let n = reader.varint(), n <= UInt64(reader.remaining) else { return nil }
        var out: [(String, String)] = []
        out.reserveCapacity(Int(n))
        for _ in 0 ..< n {
            guard let key = string(&reader), let value = string(&reader) else { return nil }
            out.append((key, value))
        }
        return out
    }
}
