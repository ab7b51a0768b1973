/// Checks one record body (the WAL record-body encoding, as native clients send it) without
/// copying it: kind, timestamp, every length against the bytes left, UTF-8 of every string,
/// and that nothing is left over.
enum RecordValidator {
    static func check(_ body: ByteView) -> (NativeRejectCode, StaticString)? {
        var reader = Reader(view: body)
        guard let kind = reader.byte(), reader.skip(8) else { return (.malformed, "record is shorter than kind and timestamp") }
        switch kind {
        case RecordKind.log.rawValue:
            guard reader.skip(2) else { return (.malformed, "log record ends before severity and facility") }
            for _ in 0 ..< 3 {
                if let problem = reader.string() { return problem }
            }
        case RecordKind.metric.rawValue:
            guard reader.skip(8) else { return (.malformed, "metric record ends before its value") }
            if let problem = reader.string() { return problem }
        default:
            return (.unknownKind, "unknown record kind")
        }
        guard let pairs = reader.varint() else { return (.malformed, "field count is malformed") }
        guard pairs <= UInt64(body.count) else { return (.malformed, "field count exceeds the record") }
        for _ in 0 ..< pairs * 2 {
            if let problem = reader.string() { return problem }
        }
        guard reader.offset == body.count else { return (.malformed, "record has trailing bytes") }
        // Structure first, then text: a record broken in both ways is reported as malformed.
        return reader.badUTF8 ? (.invalidUTF8, "string is not valid UTF-8") : nil
    }

    struct Reader {
        let view: ByteView
        var offset = 0
        var badUTF8 = false

        mutating func byte() -> UInt8? {
            guard offset < view.count else { return nil }
            defer { offset += 1 }
            return view[offset]
        }

        mutating func skip(_ n: Int) -> Bool {
            guard view.count - offset >= n else { return false }
            offset += n
            return true
        }

        mutating func varint() -> UInt64? {
            var v: UInt64 = 0
            var shift: UInt64 = 0
            while shift < 64, let b = byte() {
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
            return nil
        }

        mutating func string() -> (NativeRejectCode, StaticString)? {
            guard let n = varint(), n <= UInt64(view.count - offset) else { return (.malformed, "string length exceeds the record") }
            let s = view[offset ..< offset + Int(n)]
            offset += Int(n)
            if !badUTF8 && !s.isValidUTF8 { badUTF8 = true }
            return nil
        }
    }
}
