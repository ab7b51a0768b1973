// The package's one byte codec: LEB128 varints and fixed-width little-endian integers, written
// onto `[UInt8]` and read through ``ByteReader`` over a ``ByteView``. The WAL's record format,
// its segment and meta files, the native BATCH bodies and the control store all use it
// (docs/wal-format.md, "Encodings"). Big-endian (network order) is here too for code that
// builds native frames in plain arrays (the load generators); NIO's `ByteBuffer` does it for
// the listeners.

/// Unsigned LEB128: seven bits per byte, low bits first, the top bit set on every byte but the
/// last. A value may be padded with `0x80` continuation bytes to a fixed width (readers accept
/// that), so a length can be written before it is known.
public enum LEB128 {
    /// Bytes `value` takes unpadded (1 … 10).
    @inlinable
    public static func size(of value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    /// Writes `value` in exactly `width` bytes at `offset` of `buffer` (the caller checked that
    /// `value` fits in `7 × width` bits and that the bytes are there).
    @inlinable
    public static func storePadded(_ value: UInt64, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        var v = value
        for i in 0 ..< width {
            let last = i == width - 1
            unsafe buffer[offset + i] = UInt8(truncatingIfNeeded: v & 0x7F) | (last ? 0 : 0x80)
            v >>= 7
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` as an unpadded LEB128 varint.
    @inlinable @inline(__always)
    public mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    /// Appends `value` in `width` bytes, padded (see ``LEB128``).
    @inlinable
    public mutating func appendPaddedVarint(_ value: UInt64, width: Int) {
        let start = count
        append(contentsOf: repeatElement(0, count: width))
        unsafe withUnsafeMutableBufferPointer { unsafe LEB128.storePadded(value, width: width, into: $0, at: start) }
    }

    /// Appends `value` as `T`'s size in little-endian bytes.
    @inlinable @inline(__always)
    public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        unsafe Swift.withUnsafeBytes(of: value.littleEndian) { unsafe append(contentsOf: $0) }
    }

    /// Overwrites `T`'s size of bytes at `offset` with `value`, little-endian.
    @inlinable
    public mutating func storeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<T>.size <= count, "store out of range")
        var v = value.littleEndian
        for i in 0 ..< MemoryLayout<T>.size {
            self[offset + i] = UInt8(truncatingIfNeeded: v)
            v = v >> 8
        }
    }

    /// Appends `value` as `T`'s size in big-endian (network order) bytes.
    @inlinable
    public mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        unsafe Swift.withUnsafeBytes(of: value.bigEndian) { unsafe append(contentsOf: $0) }
    }

    /// Overwrites `T`'s size of bytes at `offset` with `value`, big-endian.
    @inlinable
    public mutating func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeLittleEndian(value.byteSwapped, at: offset)
    }

    /// Appends a LEB128 length and then `bytes`.
    @inlinable
    public mutating func appendLengthPrefixed<C: Collection<UInt8>>(_ bytes: C) {
        appendVarint(UInt64(bytes.count))
        append(contentsOf: bytes)
    }

    /// Appends a LEB128 length and then the bytes of `view`.
    @inlinable @inline(__always)
    public mutating func appendLengthPrefixed(_ view: ByteView) {
        appendVarint(UInt64(view.count))
        view.append(to: &self)
    }

    /// The `T` stored little-endian at `offset`; traps when out of range.
    @inlinable
    public func loadLittleEndian<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
        ByteView.with(self) { $0.loadLittleEndian(T.self, at: offset) }
    }

    /// The `T` stored big-endian at `offset`; traps when out of range.
    @inlinable
    public func loadBigEndian<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
        loadLittleEndian(T.self, at: offset).byteSwapped
    }
}

extension ArraySlice where Element == UInt8 {
    /// The `T` stored big-endian at `offset` from the slice's start; traps when out of range.
    @inlinable
    public func loadBigEndian<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
        unsafe withUnsafeBytes { unsafe ByteView($0).loadLittleEndian(T.self, at: offset) }.byteSwapped
    }
}

/// A bounds-checked cursor over a ``ByteView``: every read returns `nil` (and moves nothing)
/// when the bytes run out, so malformed input ends a decode instead of reading past the end.
///
/// Non-escapable, like the view it reads.
public struct ByteReader: ~Escapable {
    /// The bytes read.
    public let view: ByteView
    /// Where the next read starts.
    public var offset: Int

    /// A reader at `offset` of `view`.
    @inlinable @_lifetime(copy view)
    public init(_ view: ByteView, offset: Int = 0) {
        self.view = view
        self.offset = offset
    }

    /// Bytes left to read.
    @inlinable public var remaining: Int { view.count - offset }

    /// Whether every byte was read.
    @inlinable public var isAtEnd: Bool { offset >= view.count }

    /// One byte.
    @inlinable
    public mutating func byte() -> UInt8? {
        guard offset < view.count else { return nil }
        defer { offset += 1 }
        return view[offset]
    }

    /// A little-endian `T`.
    @inlinable
    public mutating func littleEndian<T: FixedWidthInteger>(_: T.Type = T.self) -> T? {
        guard remaining >= MemoryLayout<T>.size else { return nil }
        defer { offset += MemoryLayout<T>.size }
        return view.loadLittleEndian(T.self, at: offset)
    }

    /// A LEB128 varint of at most 64 bits (padded forms accepted).
    @inlinable
    public mutating func varint() -> UInt64? {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        var at = offset
        while shift < 64, at < view.count {
            let b = view[at]
            at += 1
            v |= UInt64(b & 0x7F) << shift
            if b < 0x80 {
                offset = at
                return v
            }
            shift += 7
        }
        return nil
    }

    /// Skips `n` bytes; `false` (moving nothing) when fewer are left.
    @inlinable
    public mutating func skip(_ n: Int) -> Bool {
        guard n >= 0, remaining >= n else { return false }
        offset += n
        return true
    }

    /// The next `n` bytes.
    @inlinable @_lifetime(copy self)
    public mutating func bytes(_ n: Int) -> ByteView? {
        guard n >= 0, remaining >= n else { return nil }
        defer { offset += n }
        return view[offset ..< offset + n]
    }

    /// A varint length and then that many bytes.
    @inlinable @_lifetime(copy self)
    public mutating func lengthPrefixed() -> ByteView? {
        let start = offset
        guard let n = varint(), n <= UInt64(remaining) else {
            offset = start
            return nil
        }
        return bytes(Int(n))
    }
}
