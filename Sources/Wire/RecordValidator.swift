public import Platform
import WAL

/// Checks one record body as native clients send it (the WAL record-body encoding,
/// docs/wal-format.md "Records") without copying it: kind, timestamp, every length against the
/// bytes left, UTF-8 of every string, and that nothing is left over.
public enum RecordValidator {
    /// `nil` when `body` is a well-formed record; otherwise the NACK reason code and text.
    public static func check(_ body: ByteView) -> (NativeRejectCode, StaticString)? {
        var reader = ByteReader(body)
        guard let kind = reader.byte(), reader.skip(8) else { return (.malformed, "record is shorter than kind and timestamp") }
        var badUTF8 = false
        switch kind {
        case RecordKind.log.rawValue:
            guard reader.skip(2) else { return (.malformed, "log record ends before severity and facility") }
            for _ in 0 ..< 3 {
                guard string(&reader, badUTF8: &badUTF8) else { return (.malformed, "string length exceeds the record") }
            }
        case RecordKind.metric.rawValue:
            guard reader.skip(8) else { return (.malformed, "metric record ends before its value") }
            guard string(&reader, badUTF8: &badUTF8) else { return (.malformed, "string length exceeds the record") }
        default:
            return (.unknownKind, "unknown record kind")
        }
        guard let pairs = reader.varint() else { return (.malformed, "field count is malformed") }
        guard pairs <= UInt64(body.count) else { return (.malformed, "field count exceeds the record") }
        for _ in 0 ..< pairs * 2 {
            guard string(&reader, badUTF8: &badUTF8) else { return (.malformed, "string length exceeds the record") }
        }
        guard reader.isAtEnd else { return (.malformed, "record has trailing bytes") }
        // Structure first, then text: a record broken in both ways is reported as malformed.
        return badUTF8 ? (.invalidUTF8, "string is not valid UTF-8") : nil
    }

    /// Reads one length-prefixed string; `false` when its length runs past the record.
    private static func string(_ reader: inout ByteReader, badUTF8: inout Bool) -> Bool {
        guard let s = reader.lengthPrefixed() else { return false }
        if !badUTF8 && !s.isValidUTF8 { badUTF8 = true }
        return true
    }
}
