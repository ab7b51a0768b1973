public import Glibc
import CShims

/// A borrowed, read-only view of bytes for the decoders and codecs: the one thin type that holds
/// a raw pointer on the hot path.
///
/// A view is non-escapable: it lives only as long as the bytes it borrows (the closure of
/// `ByteBuffer.withUnsafeReadableBytes`, ``with(_:_:)-(UInt8,_)``, a `RawSpan`), and the
/// compiler refuses to store it anywhere that outlives them. Every accessor is bounds-checked
/// and every slicing operation traps when out of range, so code written against it cannot read
/// outside the buffer.
@safe public struct ByteView: ~Escapable {
    @usableFromInline let base: UnsafeRawPointer?
    /// Number of bytes in the view.
    public let count: Int

    /// Wraps `buffer`. The view must not outlive it.
    @inlinable @_lifetime(borrow buffer)
    public init(_ buffer: UnsafeRawBufferPointer) {
        unsafe (base = buffer.baseAddress)
        count = buffer.count
    }

    /// Views the bytes of `span`, for as long as the span lives.
    @inlinable @_lifetime(copy span)
    public init(_ span: RawSpan) {
        let buffer = unsafe span.withUnsafeBytes { unsafe $0 }
        self = unsafe _overrideLifetime(ByteView(buffer), copying: span)
    }

    @inlinable @_lifetime(borrow base)
    init(base: UnsafeRawPointer?, count: Int) {
        unsafe self.base = unsafe base
        self.count = count
    }

    /// Calls `body` with a view of `bytes` (for tests and edges).
    @inlinable
    public static func with<R>(_ bytes: [UInt8], _ body: (ByteView) throws -> R) rethrows -> R {
        try unsafe bytes.withUnsafeBytes { try body(unsafe ByteView($0)) }
    }

    /// Calls `body` with a view of the UTF-8 of `string`.
    public static func with<R>(_ string: String, _ body: (ByteView) throws -> R) rethrows -> R {
        try with(Array(string.utf8), body)
    }

    public var isEmpty: Bool { count == 0 }

    /// Calls `body` with `key`, or with the bytes of `fallback` when `key` is empty: a record's
    /// source key, where an empty one means "the sending peer".
    @inlinable
    public static func withKey<R>(_ key: ByteView, orElse fallback: [UInt8], _ body: (ByteView) -> R) -> R {
        guard key.isEmpty else { return body(key) }
        return unsafe fallback.withUnsafeBytes { body(unsafe ByteView($0)) }
    }

    /// The byte at `index`; traps when out of range.
    @inlinable
    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "ByteView index out of range")
        return unsafe base!.load(fromByteOffset: index, as: UInt8.self)
    }

    /// The bytes in `range`; traps when the range is not inside the view.
    @inlinable
    public subscript(range: Range<Int>) -> ByteView {
        @_lifetime(copy self)
        get {
            precondition(range.lowerBound >= 0 && range.upperBound <= count, "ByteView range out of bounds")
            let slice = unsafe ByteView(base: base.map { unsafe $0 + range.lowerBound }, count: range.count)
            return unsafe _overrideLifetime(slice, copying: self)
        }
    }

    /// Eight bytes at `index` as a little-endian word (one bounds check, unaligned load).
    @inlinable
    public func word(at index: Int) -> UInt64 { loadLittleEndian(UInt64.self, at: index) }

    /// The bytes from `start` to the end.
    @inlinable @_lifetime(copy self)
    public func suffix(from start: Int) -> ByteView { self[start ..< count] }

    /// The first index at or after `start` holding `byte` (memchr).
    @inlinable
    public func firstIndex(of byte: UInt8, from start: Int = 0) -> Int? {
        guard start < count, let base = unsafe base else { return nil }
        guard let hit = unsafe memchr(base + start, Int32(byte), count - start) else { return nil }
        return unsafe UnsafeRawPointer(hit) - base
    }

    /// The first index at or after `start` where the bytes of `needle` begin (memmem), `nil`
    /// when they do not occur; an empty needle is found at `start`.
    /// - Complexity: O(count) for the short needles of text search (glibc's two-way memmem).
    public func firstIndex(of needle: [UInt8], from start: Int = 0) -> Int? {
        guard start <= count else { return nil }
        guard !needle.isEmpty else { return start }
        guard needle.count <= count - start, let base = unsafe base else { return nil }
        return unsafe needle.withUnsafeBytes { n -> Int? in
            guard let hit = unsafe hy_find(base + start, count - start, n.baseAddress!, n.count) else { return nil }
            return unsafe UnsafeRawPointer(hit) - base
        }
    }

    /// Calls `body` with the viewed bytes, for a C function that takes a pointer and a length.
    /// - Warning: Do not let the pointer escape `body`.
    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try unsafe body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Whether the bytes equal `other`.
    @inlinable
    public func elementsEqual(_ other: ByteView) -> Bool {
        guard count == other.count else { return false }
        guard count > 0 else { return true }
        return unsafe memcmp(base!, other.base!, count) == 0
    }

    /// Whether the bytes equal the ASCII `literal`.
    @inlinable
    public func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        guard count > 0 else { return true }
        return unsafe memcmp(base!, literal.utf8Start, count) == 0
    }

    /// Whether the view starts with the ASCII `literal`.
    @inlinable
    public func hasPrefix(_ literal: StaticString) -> Bool {
        guard count >= literal.utf8CodeUnitCount else { return false }
        return unsafe memcmp(base!, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }

    /// The view without leading and trailing ASCII spaces, tabs and CR/LF.
    @inlinable @_lifetime(copy self)
    public func trimmed() -> ByteView {
        var lo = 0
        var hi = count
        while lo < hi, Self.isSpace(self[lo]) { lo += 1 }
        while hi > lo, Self.isSpace(self[hi - 1]) { hi -= 1 }
        return self[lo ..< hi]
    }

    @inlinable public static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    /// Whether the bytes are well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
    ///
    /// Inline while the bytes are ASCII (short strings pay no call); from the first other byte
    /// on, one pass in C (`hy_utf8_valid`, ASCII 32 bytes at a time).
    @inlinable
    public var isValidUTF8: Bool {
        guard let base = unsafe base else { return true }
        var i = 0
        while i + 8 <= count, unsafe base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        while i < count, unsafe base.load(fromByteOffset: i, as: UInt8.self) < 0x80 { i += 1 }
        if i == count { return true }
        return unsafe Self.isValidUTF8(base + i, count: count - i)
    }

    @usableFromInline
    static func isValidUTF8(_ start: UnsafeRawPointer, count: Int) -> Bool {
        unsafe hy_utf8_valid(start, count) != 0
    }

    /// Parses an optionally signed decimal integer filling the whole view; `nil` on anything
    /// else, including overflow.
    @inlinable
    public func parseInt64() -> Int64? {
        guard count > 0 else { return nil }
        var i = 0
        var negative = false
        if self[0] == UInt8(ascii: "-") || self[0] == UInt8(ascii: "+") {
            negative = self[0] == UInt8(ascii: "-")
            i = 1
            guard count > 1 else { return nil }
        }
        var v: Int64 = 0
        while i < count {
            let d = self[i] &- 48
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            v = a
            i += 1
        }
        return v
    }

    /// Parses a decimal floating-point number (`1`, `-2.5`, `1e-3`, `inf`, `nan`) filling the
    /// whole view (strtod on a bounded copy); `nil` on anything else.
    public func parseDouble() -> Double? {
        guard count > 0, count < 64 else { return nil }
        for i in 0 ..< count {
            let b = self[i]
            let ok = (b >= 48 && b <= 57) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".")
                || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") || b == UInt8(ascii: "i") || b == UInt8(ascii: "n")
                || b == UInt8(ascii: "f") || b == UInt8(ascii: "a") || b == UInt8(ascii: "I") || b == UInt8(ascii: "N")
                || b == UInt8(ascii: "F") || b == UInt8(ascii: "A")
            guard ok else { return nil }
        }
        return unsafe withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer -> Double? in
            unsafe memcpy(buffer.baseAddress!, base!, count)
            unsafe buffer[count] = 0
            var end: UnsafeMutablePointer<CChar>? = nil
            let v = unsafe strtod(buffer.baseAddress!, &end)
            guard unsafe end == buffer.baseAddress! + count else { return nil }
            return v
        }
    }

    /// A copy as a `String` (for edges and error messages only; invalid UTF-8 is repaired).
    public var string: String {
        guard count > 0 else { return "" }
        return unsafe String(decoding: UnsafeRawBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// A copy of the bytes.
    public var bytes: [UInt8] {
        guard count > 0 else { return [] }
        return unsafe [UInt8](UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Copies the bytes to `destination`, which must have room for ``count`` of them.
    @inlinable
    public func copyBytes(to destination: UnsafeMutableRawPointer) {
        guard count > 0 else { return }
        unsafe destination.copyMemory(from: base!, byteCount: count)
    }

    /// Appends the bytes to `buffer`.
    @inlinable
    public func append(to buffer: inout [UInt8]) {
        guard count > 0 else { return }
        unsafe buffer.append(contentsOf: UnsafeRawBufferPointer(start: base, count: count))
    }
}

@available(*, unavailable)
extension ByteView: Sendable {}

extension ByteView {
    /// The `T` stored little-endian at `offset` (one bounds check, unaligned load); traps when
    /// out of range.
    @inlinable
    public func loadLittleEndian<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
        precondition(offset >= 0 && offset <= count &- MemoryLayout<T>.size, "ByteView load out of range")
        return T(littleEndian: unsafe base!.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
