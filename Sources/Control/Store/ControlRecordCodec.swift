import Platform

/// Encodes and decodes log records: one record holds one commit.
///
/// ```
/// record: u32 body length | u32 CRC32C of body | body
/// body:   u32 change count, then per change:
///         u8 op (1 put, 2 delete, 3 deletePrefix) | u32 key length | key | u32 value length | value
/// ```
/// All integers little-endian; `delete` and `deletePrefix` carry a value length of 0.
enum ControlRecordCodec {
    /// Bytes before the body.
    static let headerBytes = 8
    /// The smallest body: a change count.
    static let minimumBodyBytes = 4

    static let opPut: UInt8 = 1
    static let opDelete: UInt8 = 2
    static let opDeletePrefix: UInt8 = 3

    /// Encodes `changes` as one framed record into `record`, using `body` as scratch space.
    ///
    /// Both buffers are cleared first and keep their capacity, so a store that reuses them
    /// allocates nothing per commit once they have grown.
    /// - Parameter bodySize: from ``ControlStoreLimits/validatedBodySize(_:path:)``.
    static func encode(_ changes: [ControlChange], bodySize: Int, into record: inout [UInt8], scratch body: inout [UInt8]) {
        body.removeAll(keepingCapacity: true)
        body.reserveCapacity(bodySize)
        body.appendLittleEndian(UInt32(changes.count))
        for change in changes {
            switch change {
            case .put(let key, let value):
                appendChange(opPut, key, value, to: &body)
            case .delete(let key):
                appendChange(opDelete, key, [], to: &body)
            case .deletePrefix(let prefix):
                appendChange(opDeletePrefix, prefix, [], to: &body)
            }
        }
        assert(body.count == bodySize, "body size \(body.count) differs from the validated \(bodySize)")
        record.removeAll(keepingCapacity: true)
        record.reserveCapacity(headerBytes + body.count)
        record.appendLittleEndian(UInt32(body.count))
        record.appendLittleEndian(CRC32C.checksum(body))
        record.append(contentsOf: body)
    }

    private static func appendChange(_ op: UInt8, _ key: String, _ value: [UInt8], to body: inout [UInt8]) {
        body.append(op)
        body.appendControlField(key.utf8)
        body.appendControlField(value)
    }

    /// The body's range when a whole, checksum-valid record starts at `offset`, else `nil`.
    static func validFrame(at offset: Int, in bytes: [UInt8]) -> Range<Int>? {
        guard bytes.count - offset >= headerBytes else { return nil }
        let length = Int(bytes.loadLittleEndian(UInt32.self, at: offset))
        guard length >= minimumBodyBytes, headerBytes + length <= ControlStoreLimits.maxRecordBytes,
            length <= bytes.count - offset - headerBytes
        else { return nil }
        let body = offset + headerBytes ..< offset + headerBytes + length
        guard CRC32C.checksum(bytes[body]) == bytes.loadLittleEndian(UInt32.self, at: offset + 4) else { return nil }
        return body
    }

    /// Why no valid record starts at `offset` (for the recovery report).
    static func defect(at offset: Int, in bytes: [UInt8]) -> String {
        let left = bytes.count - offset
        guard left >= headerBytes else { return "incomplete record header (\(left) of \(headerBytes) bytes)" }
        let length = Int(bytes.loadLittleEndian(UInt32.self, at: offset))
        if length < minimumBodyBytes { return "record length \(length) is below the minimum of \(minimumBodyBytes)" }
        if headerBytes + length > ControlStoreLimits.maxRecordBytes {
            return "record length \(length) exceeds the limit of \(ControlStoreLimits.maxRecordBytes) bytes"
        }
        if length > left - headerBytes { return "record of \(length) bytes is cut short (\(left - headerBytes) present)" }
        return "record checksum mismatch"
    }

    /// The changes of a checksum-valid body, or `nil` when it does not decode exactly.
    static func decodeBody(_ bytes: [UInt8], _ body: Range<Int>) -> [ControlChange]? {
        ByteView.with(bytes) { all -> [ControlChange]? in
            var reader = ByteReader(all[body])
            guard let count = reader.littleEndian(UInt32.self), Int(count) <= reader.remaining / 9 else { return nil }
            var changes: [ControlChange] = []
            changes.reserveCapacity(Int(count))
            for _ in 0 ..< count {
                guard let op = reader.byte(), let key = reader.controlString(limit: ControlStoreLimits.maxKeyBytes),
                    let value = reader.controlField(limit: ControlStoreLimits.maxValueBytes)
                else { return nil }
                switch op {
                case opPut where !key.isEmpty:
                    changes.append(.put(key: key, value: value))
                case opDelete where !key.isEmpty && value.isEmpty:
                    changes.append(.delete(key: key))
                case opDeletePrefix where value.isEmpty:
                    changes.append(.deletePrefix(key))
                default:
                    return nil
                }
            }
            return reader.isAtEnd ? changes : nil
        }
    }
}
