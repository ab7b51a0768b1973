import Platform
import WAL

/// Where the parts of one encoded log record body are (docs/wal-format.md, "Records"):
/// offsets into the body, found without copying or decoding any text.
struct LogLayout {
    var timestamp: Int64
    var severity: UInt8
    var facility: UInt8
    var host: Range<Int>
    var app: Range<Int>
    var message: Range<Int>
    /// Where the field count starts.
    var fields: Int

    /// The layout of `body` (one record body, without its length prefix), `nil` when it is not
    /// a log record or does not decode.
    @inline(__always)
    static func parse(_ body: ByteView) -> LogLayout? {
        guard body.count >= 11, body[0] == RecordKind.log.rawValue else { return nil }
        var reader = ByteReader(body, offset: 11)
        guard let host = text(&reader), let app = text(&reader), let message = text(&reader) else { return nil }
        return LogLayout(
            timestamp: body.loadLittleEndian(Int64.self, at: 1), severity: body[9], facility: body[10], host: host, app: app,
            message: message, fields: reader.offset)
    }

    /// Calls `visit` with each field's key and value until it returns `true`.
    /// - Returns: whether `visit` returned `true` for one of them.
    @inline(__always)
    func firstField(in body: ByteView, where visit: (ByteView, ByteView) -> Bool) -> Bool {
        var reader = ByteReader(body, offset: fields)
        guard let count = reader.varint() else { return false }
        for _ in 0 ..< count {
            guard let key = Self.text(&reader), let value = Self.text(&reader) else { return false }
            if visit(body[key], body[value]) { return true }
        }
        return false
    }

    /// Every field as strings (for output).
    func fieldPairs(in body: ByteView) -> [(String, String)] {
        var pairs: [(String, String)] = []
        _ = firstField(in: body) { key, value in
            pairs.append((key.string, value.string))
            return false
        }
        return pairs
    }

    @inline(__always)
    private static func text(_ reader: inout ByteReader) -> Range<Int>? {
        guard let n = reader.varint(), n <= UInt64(reader.remaining) else { return nil }
        let start = reader.offset
        _ = reader.skip(Int(n))
        return start ..< start + Int(n)
    }
}

/// Whether `view` holds exactly `bytes` (no allocation, for field names in the scan loop).
@inline(__always)
func bytesEqual(_ view: ByteView, _ bytes: [UInt8]) -> Bool {
    guard view.count == bytes.count else { return false }
    for i in 0 ..< bytes.count where view[i] != bytes[i] { return false }
    return true
}
