import Platform
import WAL
import Wire
/// What a stream framer (``SyslogFramer``, ``LineFramer``) found at the front of the buffered bytes.
///
/// Every case says how many bytes the caller must drop from the front of its buffer before calling
/// `next` again (``consumed``); ranges are relative to the start of the view passed to `next`.
///
/// The caller's loop:
/// ```swift
/// var offset = 0
/// loop: while true {
///     let rest = buffered.suffix(from: offset)
///     let step = framer.next(rest)
///     switch step {
///     case .frame(let range, _): decoder.decode(rest[range], receivedAt: now, into: &sink)
///     case .rejected(let reason, let consumed): sink.reject(reason, sample: rest[0 ..< consumed])
///     case .needMore: break
///     }
///     offset += step.consumed
///     if case .needMore = step { break loop }
/// }
/// // drop `offset` bytes from the front of the buffer, keep the rest, read more.
/// ```
public enum FrameStep: Sendable, Equatable, CustomStringConvertible {
    /// A complete message at `range` (without its delimiter or octet count); drop `consumed` bytes
    /// (leading empty lines, the count or delimiter included) after handling it.
    case frame(Range<Int>, consumed: Int)
    /// No complete frame yet: drop `consumed` bytes (skipped empty lines or discarded garbage; often
    /// 0), keep the rest, and call again when more bytes arrived.
    case needMore(consumed: Int)
    /// Malformed or oversized input was discarded: report `reason` once, drop `consumed` bytes, call
    /// again. The framer may keep discarding silently on later calls (to the end of the line, or
    /// the rest of an oversized octet-counted frame).
    case rejected(reason: StaticString, consumed: Int)

    /// Bytes to drop from the front of the buffer.
    public var consumed: Int {
        switch self {
        case .frame(_, let c), .needMore(let c), .rejected(_, let c): c
        }
    }

    public static func == (a: FrameStep, b: FrameStep) -> Bool {
        switch (a, b) {
        case let (.frame(r1, c1), .frame(r2, c2)): r1 == r2 && c1 == c2
        case let (.needMore(c1), .needMore(c2)): c1 == c2
        case let (.rejected(x, c1), .rejected(y, c2)): c1 == c2 && x.description == y.description
        default: false
        }
    }

    public var description: String {
        switch self {
        case .frame(let r, let c): "frame(\(r), consumed: \(c))"
        case .needMore(let c): "needMore(consumed: \(c))"
        case .rejected(let reason, let c): "rejected(\"\(reason)\", consumed: \(c))"
        }
    }
}

/// Newline-delimited framing shared by ``LineFramer`` and the non-transparent half of
/// ``SyslogFramer``.
struct NewlineFraming {
    let maxLength: Int
    /// Discarding the rest of an overlong line until the next LF.
    var discarding = false

    init(maxLength: Int) {
        precondition(maxLength > 0, "maximum frame length must be positive")
        self.maxLength = maxLength
    }

    /// Finishes a discard in progress: the index after the LF that ends it, or `nil` when the
    /// whole buffer was discarded and discarding continues.
    mutating func finishDiscard(_ buffer: ByteView, from start: Int) -> Int? {
        guard discarding else { return start }
        guard let lf = buffer.firstIndex(of: ASCII.lf, from: start) else { return nil }
        discarding = false
        return lf + 1
    }

    /// The index of the first byte at or after `start` that is not CR, LF (or NUL when `nul`).
    static func skipEmptyLines(_ buffer: ByteView, from start: Int, nul: Bool) -> Int {
        var i = start
        while i < buffer.count {
            let b = buffer[i]
            guard b == ASCII.lf || b == ASCII.cr || (nul && b == 0) else { break }
            i += 1
        }
        return i
    }

    /// Frames the LF-terminated line starting at `start` (its first byte is not a line break).
    mutating func line(_ buffer: ByteView, from start: Int, reason: StaticString) -> FrameStep {
        if let lf = buffer.firstIndex(of: ASCII.lf, from: start) {
            var end = lf
            if end > start, buffer[end - 1] == ASCII.cr { end -= 1 }
            if end - start > maxLength { return .rejected(reason: reason, consumed: lf + 1) }
            return .frame(start ..< end, consumed: lf + 1)
        }
        // No LF yet: keep at most maxLength bytes plus a CR pending.
        if buffer.count - start > maxLength + 1 {
            discarding = true
            return .rejected(reason: reason, consumed: buffer.count)
        }
        return .needMore(consumed: start)
    }
}
