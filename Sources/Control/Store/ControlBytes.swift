import Platform

// The control store's one field shape (docs/control-store.md): a u32 little-endian length, then
// that many bytes. Written and read with the package's byte codec (Platform's `ByteReader` and
// `appendLittleEndian`).

extension Array where Element == UInt8 {
    /// Appends `bytes` as a field: their u32 length, then the bytes.
    mutating func appendControlField<C: Collection<UInt8>>(_ bytes: C) {
        appendLittleEndian(UInt32(bytes.count))
        append(contentsOf: bytes)
    }
}

extension ByteReader {
    /// A field of at most `limit` bytes, copied out; `nil` (moving nothing) when the length is
    /// over the limit or runs past the end.
    mutating func controlField(limit: Int) -> [UInt8]? {
        let start = offset
        guard let length = littleEndian(UInt32.self), Int(length) <= limit, let bytes = bytes(Int(length)) else {
            offset = start
            return nil
        }
        return bytes.bytes
    }

    /// A field holding UTF-8 text of at most `limit` bytes; `nil` for bytes that are not UTF-8.
    mutating func controlString(limit: Int) -> String? {
        controlField(limit: limit).flatMap { String(validating: $0, as: UTF8.self) }
    }
}
