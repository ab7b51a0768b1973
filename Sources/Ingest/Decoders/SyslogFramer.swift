public import Platform
import WAL
import Wire
/// Splits a syslog-over-TCP byte stream into messages (RFC 6587), deciding the framing per frame:
/// a frame that starts with a digit is octet-counted (`MSG-LEN SP SYSLOG-MSG`, exactly MSG-LEN
/// bytes), anything else is non-transparent (terminated by LF; a CR before it is stripped).
/// Senders may mix both in one stream. Empty lines (and stray NULs) between frames are skipped.
///
/// Call ``next(_:)`` with the unconsumed buffered bytes and drop ``FrameStep/consumed`` bytes after
/// each step (see ``FrameStep`` for the loop). The frame range is the message only, as sent (an
/// octet-counted message may still end in LF; ``SyslogDecoder`` trims it).
///
/// Rejects (each reported once, then resynchronised):
/// - `"frame too long"` for an LF-terminated line over `maxFrameLength`: discarded up to and
///   including its LF, also when the LF arrives in later reads (the framer consumes what it has
///   and keeps discarding).
/// - `"frame too long"` for an octet count over `maxFrameLength` but at most 16 × that: the
///   count is well-formed, so exactly MSG-LEN bytes are skipped (across reads) and the stream stays
///   in sync with a sender that does not end its frames in LF.
/// - `"invalid octet count"` for a count with a leading zero, a non-digit before its space, or a
///   value above 16 × `maxFrameLength` (garbage, not a frame): discarded up to and including the
///   next LF, as for an overlong line.
///
/// After `.needMore` at most ``maxBufferedBytes`` bytes are left unconsumed.
///
/// - Complexity: O(bytes scanned) per call (memchr for LF); no allocation.
/// - Thread: value type, one per connection/loop.
public struct SyslogFramer {
    var core: NewlineFraming
    /// Bytes of an oversized octet-counted frame still to skip.
    var skipRemaining = 0
    /// Counts above this are treated as garbage, not as a frame to skip.
    let maxSkippableCount: Int

    /// - Parameter maxFrameLength: the longest message accepted (octet count or line length without
    ///   CR/LF), ≥ 1.
    public init(maxFrameLength: Int) {
        core = NewlineFraming(maxLength: maxFrameLength)
        let (m, overflow) = maxFrameLength.multipliedReportingOverflow(by: 16)
        maxSkippableCount = overflow ? Int.max : m
    }

    /// The longest message accepted.
    public var maxFrameLength: Int { core.maxLength }

    /// The most bytes left unconsumed after `.needMore`: a count header of a maximal frame and the
    /// frame itself. A caller's buffer must hold this many plus at least one more byte.
    public var maxBufferedBytes: Int {
        var digits = 1
        var rest = core.maxLength
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits + 1 + core.maxLength
    }

    /// Whether the framer is discarding (the rest of an overlong line or oversized frame).
    public var isDiscarding: Bool { core.discarding || skipRemaining > 0 }

    /// The next step for the buffered bytes `buffer` (everything received and not yet consumed).
    public mutating func next(_ buffer: ByteView) -> FrameStep {
        let count = buffer.count
        var i = 0
        if skipRemaining > 0 {
            let n = min(skipRemaining, count)
            skipRemaining -= n
            i = n
            if skipRemaining > 0 { return .needMore(consumed: i) }
        }
        guard let resumed = core.finishDiscard(buffer, from: i) else { return .needMore(consumed: count) }
        let start = NewlineFraming.skipEmptyLines(buffer, from: resumed, nul: true)
        if start == count { return .needMore(consumed: start) }
        guard ASCII.isDigit(buffer[start]) else { return core.line(buffer, from: start, reason: "frame too long") }

        // Octet counting: MSG-LEN SP SYSLOG-MSG.
        var j = start
        var length = 0
        while j < count, ASCII.isDigit(buffer[j]) {
            length = length * 10 + Int(buffer[j] &- 0x30)
            if length > maxSkippableCount { return invalidCount(buffer, from: start) }
            j += 1
        }
        guard j < count else { return .needMore(consumed: start) }
        guard buffer[j] == ASCII.space, buffer[start] != 0x30 else { return invalidCount(buffer, from: start) }
        let body = j + 1
        let available = count - body
        if length > core.maxLength {
            if available >= length { return .rejected(reason: "frame too long", consumed: body + length) }
            skipRemaining = length - available
            return .rejected(reason: "frame too long", consumed: count)
        }
        guard available >= length else { return .needMore(consumed: start) }
        return .frame(body ..< body + length, consumed: body + length)
    }

    /// Rejects a malformed count and discards through the next LF.
    private mutating func invalidCount(_ buffer: ByteView, from start: Int) -> FrameStep {
        if let lf = buffer.firstIndex(of: ASCII.lf, from: start) {
            return .rejected(reason: "invalid octet count", consumed: lf + 1)
        }
        core.discarding = true
        return .rejected(reason: "invalid octet count", consumed: buffer.count)
    }
}
