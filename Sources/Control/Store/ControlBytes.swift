/// Little-endian integer writing and bounds-checked reading for the control-store formats.
extension Array where Element == UInt8 {
    /// Appends `value` as 4 little-endian bytes.
    mutating func appendControlU32(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Appends `value` as 8 little-endian bytes.
    mutating func appendControlU64(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// The little-endian `UInt32` at `offset`; the caller checks that 4 bytes are there.
    func controlU32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16
            | UInt32(self[offset + 3]) << 24
    }

    /// The little-endian `UInt64` at `offset`; the caller checks that 8 bytes are there.
    func controlU64(at offset: Int) -> UInt64 {
        UInt64(controlU32(at: offset)) | UInt64(controlU32(at: offset + 4)) << 32
    }
}

/// A cursor over `bytes[offset ..< end]` that returns `nil` instead of reading past `end`.
struct ControlByteReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from offset: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }

    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        defer { offset += 4 }
        return bytes.controlU32(at: offset)
    }

    mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        defer { offset += 8 }
        return bytes.controlU64(at: offset)
    }

    /// A `u32` length followed by that many bytes, at most `limit` of them.
    mutating func lengthPrefixed(limit: Int) -> ArraySlice<UInt8>? {
        guard let length = u32().map(Int.init), length <= limit, length <= remaining else { return nil }
        defer { offset += length }
        return bytes[offset ..< offset + length]
    }

    /// A length-prefixed UTF-8 string; `nil` for bytes that are not valid UTF-8.
    mutating func string(limit: Int) -> String? {
        guard let raw = lengthPrefixed(limit: limit) else { return nil }
        return String(validating: raw, as: UTF8.self)
    }
}
