public import Platform
import WAL
/// Splits a byte stream into LF-terminated lines (JSON lines, Influx line protocol, Graphite
/// plaintext).
///
/// Call ``next(_:)`` with the unconsumed buffered bytes and drop ``FrameStep/consumed`` bytes after
/// each step (see ``FrameStep`` for the loop). A trailing CR is stripped from every line; empty
/// lines are skipped silently. A line longer than `maxLineLength` is rejected once with
/// `"line too long"` and discarded up to and including its LF — also across reads: when no LF is
/// buffered yet the framer consumes everything and keeps discarding until the LF arrives, so the
/// caller never holds more than ``maxBufferedBytes`` unconsumed bytes after `.needMore`.
///
/// - Complexity: O(bytes scanned) per call (memchr for the LF); no allocation.
/// - Thread: value type, one per connection/loop.
public struct LineFramer {
    var core: NewlineFraming

    /// - Parameter maxLineLength: the longest line accepted, without its CR/LF (≥ 1).
    public init(maxLineLength: Int) {
        core = NewlineFraming(maxLength: maxLineLength)
    }

    /// The longest line accepted.
    public var maxLineLength: Int { core.maxLength }

    /// The most bytes left unconsumed after `.needMore` (a maximal line plus its CR); a caller's
    /// buffer must hold this many plus at least one more byte to make progress.
    public var maxBufferedBytes: Int { core.maxLength + 1 }

    /// Whether the framer is discarding the rest of an overlong line.
    public var isDiscarding: Bool { core.discarding }

    /// The next step for the buffered bytes `buffer` (everything received and not yet consumed).
    public mutating func next(_ buffer: ByteView) -> FrameStep {
        guard let resumed = core.finishDiscard(buffer, from: 0) else { return .needMore(consumed: buffer.count) }
        let start = NewlineFraming.skipEmptyLines(buffer, from: resumed, nul: false)
        if start == buffer.count { return .needMore(consumed: start) }
        return core.line(buffer, from: start, reason: "line too long")
    }
}
