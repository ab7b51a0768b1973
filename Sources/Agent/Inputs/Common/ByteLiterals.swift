import Platform

/// Calls `body` with a view of the UTF-8 of `literal` (field keys, metric names): no copy, no
/// allocation.
@inline(__always)
func withLiteral<R>(_ literal: StaticString, _ body: (ByteView) throws -> R) rethrows -> R {
    let buffer = unsafe UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    return try body(unsafe ByteView(buffer))
}

/// Calls `body` with `view` when it is well-formed UTF-8, else with a copy in which every
/// ill-formed sequence is replaced by U+FFFD (the node refuses records whose strings are not
/// UTF-8, and a log line is worth more repaired than refused). Copies only on the rare path.
@inline(__always)
func withValidUTF8<R>(_ view: ByteView, _ body: (ByteView) throws -> R) rethrows -> R {
    if view.isValidUTF8 { return try body(view) }
    return try ByteView.with(Array(view.string.utf8), body)
}

extension Array where Element == UInt8 {
    /// Replaces the contents with the decimal digits of `value`, keeping the capacity.
    mutating func setDecimal<T: BinaryInteger>(_ value: T) {
        removeAll(keepingCapacity: true)
        if value == 0 {
            append(UInt8(ascii: "0"))
            return
        }
        var v = value.magnitude
        let negative = value < 0
        while v > 0 {
            append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        }
        if negative { append(UInt8(ascii: "-")) }
        reverse()
    }
}
