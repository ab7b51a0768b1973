import Platform

/// Cuts the next record out of the bytes that follow a record boundary in a file.
///
/// The framer keeps no state between calls: it is always handed the bytes from the follower's
/// position (right after the last record emitted) and says what the next record is. Resuming
/// from a checkpoint therefore cuts exactly the records an uninterrupted run would have cut.
///
/// - Lines end at LF; one CR before it is dropped. Empty lines are skipped, not emitted.
/// - A line that has not ended yet (no LF) is not a record: the framer waits for its LF. Only a
///   final flush (``Flush/everything``: the file was rotated away or deleted and has stopped
///   growing) emits it as it is.
/// - **Multiline** (with a ``StartPattern``): a record is a line followed by every line that does
///   not match the pattern; the lines keep their LFs between them (and any CR but the last). The
///   record ends when the next line matching the pattern is complete; until then it is pending,
///   and ``Flush/completeLines`` (the flush timeout) emits it as it stands. A line that does not
///   match at the start of the bytes (after a timeout flush, or a restart) starts a record of
///   its own.
/// - **Size limit**: a record (a line, or a joined multiline record) longer than
///   `maxRecordBytes` is split into pieces of at most that many bytes, cut before a UTF-8
///   sequence rather than inside it; every piece but the last is marked partial. A piece is cut
///   as soon as the line is known to be longer than the limit, without waiting for its end.
///   Pieces are cut at fixed distances from the record's start, so a restart from a checkpoint
///   between two pieces cuts the rest the same way (its first piece then starts a record of its
///   own in multiline mode).
///
/// - Complexity: O(record length) per call (memchr for line ends, plus one pattern match per
///   line in multiline mode).
struct RecordFramer {
    /// What a call may emit even though more could still come.
    enum Flush {
        /// Nothing: wait for the line end, or for the line that closes a multiline record.
        case none
        /// The pending multiline record made of complete lines (the flush timeout passed).
        case completeLines
        /// Everything, including a last line without LF (the file will not grow again).
        case everything
    }

    /// The next thing in the bytes.
    enum Step: Equatable {
        /// A record: the message's range in the bytes, whether it is a piece of a longer record
        /// that continues in the next piece, and how many bytes it uses up (its LF included).
        case record(message: Range<Int>, isPartial: Bool, consumed: Int)
        /// An empty line: nothing to emit, `consumed` bytes to pass.
        case skip(consumed: Int)
        /// Nothing can be cut until more bytes come. `pendingRecordEnd` is the end (after its LF)
        /// of the complete lines of a pending multiline record, 0 when there is none.
        case needMore(pendingRecordEnd: Int)
    }

    /// The longest record, in bytes.
    let maxRecordBytes: Int
    /// The multiline start pattern; `nil`: every line is a record.
    let startPattern: StartPattern?

    /// The bytes a caller must be able to hand over for the framer to always decide: a record
    /// at the limit, the start of the next line (up to the limit) and its LF, and a CR.
    var windowBytes: Int { 2 * maxRecordBytes + 4 }

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    /// What comes first in `bytes`, which start at a record boundary.
    func next(_ bytes: ByteView, flush: Flush) -> Step {
        let n = bytes.count
        guard n > 0 else { return .needMore(pendingRecordEnd: 0) }
        if bytes[0] == Self.lf { return .skip(consumed: 1) }
        if bytes[0] == Self.cr, n > 1, bytes[1] == Self.lf { return .skip(consumed: 2) }
        let limit = maxRecordBytes
        guard let firstEnd = bytes.firstIndex(of: Self.lf) else {
            // One unfinished line. Cut a piece only once it is certainly longer than the limit
            // (one byte of slack for a CR that may precede its LF).
            if n > limit + 1 { return piece(bytes) }
            guard flush == .everything else { return .needMore(pendingRecordEnd: 0) }
            return finished(bytes, contentEnd: withoutCR(bytes, n), consumed: n)
        }
        let firstContentEnd = withoutCR(bytes, firstEnd)
        if firstContentEnd > limit { return piece(bytes) }
        guard let startPattern else {
            return finished(bytes, contentEnd: firstContentEnd, consumed: firstEnd + 1)
        }
        return joined(bytes, firstLineEnd: firstEnd, pattern: startPattern, flush: flush)
    }

    /// The multiline record whose first line ends at `firstLineEnd`.
    private func joined(_ bytes: ByteView, firstLineEnd: Int, pattern: StartPattern, flush: Flush) -> Step {
        let n = bytes.count
        let limit = maxRecordBytes
        var end = firstLineEnd  // the LF that ends the record's last line so far
        while true {
            let start = end + 1
            let pending = Step.needMore(pendingRecordEnd: end + 1)
            let complete = Step.record(message: 0 ..< withoutCR(bytes, end), isPartial: false, consumed: end + 1)
            if start >= n { return flush == .none ? pending : complete }
            let lineEnd = bytes.firstIndex(of: Self.lf, from: start)
            if lineEnd == nil, flush != .everything, n - start <= limit + 1 {
                // The next line is unfinished and may yet turn out to start a record.
                return flush == .completeLines ? complete : pending
            }
            let contentEnd = withoutCR(bytes, lineEnd ?? n)
            if pattern.matches(bytes[start ..< min(contentEnd, start + limit)]) { return complete }
            if contentEnd > limit { return piece(bytes) }
            guard let lineEnd else { return .record(message: 0 ..< contentEnd, isPartial: false, consumed: n) }
            end = lineEnd
        }
    }

    /// A complete record `[0, contentEnd)`, or a skip when only a CR is left.
    private func finished(_ bytes: ByteView, contentEnd: Int, consumed: Int) -> Step {
        contentEnd == 0 ? .skip(consumed: consumed) : .record(message: 0 ..< contentEnd, isPartial: false, consumed: consumed)
    }

    /// The first `maxRecordBytes` (or a little less, to end before a UTF-8 sequence) of a record
    /// that is longer than that; `bytes` holds more than `maxRecordBytes`.
    private func piece(_ bytes: ByteView) -> Step {
        var cut = maxRecordBytes
        while cut > 0, cut > maxRecordBytes - 4, bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        if cut == 0 || bytes[cut] & 0xC0 == 0x80 { cut = maxRecordBytes }
        return .record(message: 0 ..< cut, isPartial: true, consumed: cut)
    }

    /// `end`, less one when the byte before it is a CR.
    private func withoutCR(_ bytes: ByteView, _ end: Int) -> Int {
        end > 0 && bytes[end - 1] == Self.cr ? end - 1 : end
    }
}
