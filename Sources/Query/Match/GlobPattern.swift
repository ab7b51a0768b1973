import Platform

/// A field value with `*` wildcards, matched against a whole value: `web-*` matches `web-01`,
/// `5*` matches `503`, `*timeout*` matches any value containing `timeout`. Without a `*` it is
/// an exact, case-sensitive comparison. `\*` is a literal star and `\\` a literal backslash.
struct GlobPattern: Sendable, Equatable {
    /// The literal pieces between the stars (empty ones dropped).
    let pieces: [[UInt8]]
    /// Whether the value must start with the first piece (no leading `*`).
    let anchoredStart: Bool
    /// Whether the value must end with the last piece (no trailing `*`).
    let anchoredEnd: Bool
    /// Whether the pattern had any `*` at all.
    let hasWildcard: Bool

    init(_ text: String) {
        var pieces: [[UInt8]] = [[]]
        var wildcard = false
        var startsWithStar = false
        var endsWithStar = false
        var bytes = Array(text.utf8)[...]
        while let b = bytes.popFirst() {
            endsWithStar = false
            if b == UInt8(ascii: "\\"), let next = bytes.first, next == UInt8(ascii: "*") || next == UInt8(ascii: "\\") {
                pieces[pieces.count - 1].append(next)
                bytes.removeFirst()
            } else if b == UInt8(ascii: "*") {
                if !wildcard, pieces == [[]] { startsWithStar = true }
                wildcard = true
                endsWithStar = true
                pieces.append([])
            } else {
                pieces[pieces.count - 1].append(b)
            }
        }
        hasWildcard = wildcard
        anchoredStart = !startsWithStar
        anchoredEnd = !endsWithStar
        self.pieces = wildcard ? pieces.filter { !$0.isEmpty } : pieces
    }

    /// Whether the whole of `value` matches.
    func matches(_ value: ByteView) -> Bool {
        guard hasWildcard else { return Self.has(pieces[0], at: 0, in: value) && value.count == pieces[0].count }
        var lo = 0
        var hi = value.count
        var first = 0
        var last = pieces.count - 1
        if anchoredStart, first <= last {
            guard Self.has(pieces[first], at: 0, in: value) else { return false }
            lo = pieces[first].count
            first += 1
        }
        if anchoredEnd, first <= last {
            let piece = pieces[last]
            guard hi - piece.count >= lo, Self.has(piece, at: hi - piece.count, in: value) else { return false }
            hi -= piece.count
            last -= 1
        }
        guard first <= last else { return lo <= hi }
        let window = value[0 ..< hi]
        for i in first ... last {
            guard let at = window.firstIndex(of: pieces[i], from: lo) else { return false }
            lo = at + pieces[i].count
        }
        return true
    }

    /// Whether `value` holds `piece` at `offset`.
    @inline(__always)
    private static func has(_ piece: [UInt8], at offset: Int, in value: ByteView) -> Bool {
        guard offset >= 0, offset + piece.count <= value.count else { return false }
        for i in 0 ..< piece.count where value[offset + i] != piece[i] { return false }
        return true
    }
}
