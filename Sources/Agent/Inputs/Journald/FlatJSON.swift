import Platform

/// The subset of JSON the agent reads, on bytes: journalctl's one-level objects (strings, null,
/// numbers, arrays of byte values, arrays of repeated values) and command arrays of strings.
///
/// Parsing validates the structure fully (strings and their escapes, numbers, nesting of at
/// most two array levels inside the object) without copying; values are decoded on demand.
enum FlatJSON {
    /// What a member's value is.
    enum Kind: Equatable {
        /// A string without escapes: its bytes are the value.
        case plainString
        /// A string with escapes: decode it.
        case escapedString
        case null
        /// A number, `true` or `false`: its text is the value.
        case bare
        /// An array of numbers 0…255: journalctl's form of a value that is not printable UTF-8.
        case bytes
        /// An array of values (strings, byte arrays, null): a field that appears more than once.
        case list
    }

    /// One member: the key's bytes (a string without escapes; journal field names are ASCII),
    /// and the value's range (inside the quotes for strings, the brackets included for arrays).
    struct Member {
        var key: Range<Int>
        var kind: Kind
        var value: Range<Int>
    }

    /// Parses `line` as one object into `members` (cleared first); false when it is not one
    /// (keys with escapes are refused).
    static func parseObject(_ line: ByteView, into members: inout [Member]) -> Bool {
        members.removeAll(keepingCapacity: true)
        var i = skipSpace(line, 0)
        guard i < line.count, line[i] == UInt8(ascii: "{") else { return false }
        i = skipSpace(line, i + 1)
        if i < line.count, line[i] == UInt8(ascii: "}") { return skipSpace(line, i + 1) == line.count }
        while true {
            guard let (key, keyEscaped, afterKey) = string(line, i), !keyEscaped else { return false }
            i = skipSpace(line, afterKey)
            guard i < line.count, line[i] == UInt8(ascii: ":") else { return false }
            i = skipSpace(line, i + 1)
            guard let (kind, value, next) = self.value(line, i, depth: 0) else { return false }
            members.append(Member(key: key, kind: kind, value: value))
            i = skipSpace(line, next)
            guard i < line.count else { return false }
            if line[i] == UInt8(ascii: "}") { return skipSpace(line, i + 1) == line.count }
            guard line[i] == UInt8(ascii: ",") else { return false }
            i = skipSpace(line, i + 1)
        }
    }

    /// The elements of a `list` or `bytes` value (its range includes the brackets).
    static func elements(_ line: ByteView, of array: Range<Int>) -> [(kind: Kind, value: Range<Int>)] {
        var out: [(Kind, Range<Int>)] = []
        var i = skipSpace(line, array.lowerBound + 1)
        while i < array.upperBound - 1, let (kind, value, next) = value(line, i, depth: 1) {
            out.append((kind, value))
            i = skipSpace(line, next)
            if i < line.count, line[i] == UInt8(ascii: ",") { i = skipSpace(line, i + 1) }
        }
        return out
    }

    /// Appends the value's bytes to `out`: a string unescaped, a byte array as its bytes, a
    /// number or literal as its text, a list as its first element; false for null (or an empty
    /// list).
    static func decode(_ kind: Kind, _ value: Range<Int>, in line: ByteView, to out: inout [UInt8]) -> Bool {
        switch kind {
        case .plainString, .bare:
            line[value].append(to: &out)
        case .escapedString:
            unescape(line[value], to: &out)
        case .null:
            return false
        case .bytes:
            for element in elements(line, of: value) {
                out.append(UInt8(truncatingIfNeeded: line[element.value].parseInt64() ?? 0))
            }
        case .list:
            guard let first = elements(line, of: value).first else { return false }
            return decode(first.kind, first.value, in: line, to: &out)
        }
        return true
    }

    /// A JSON array of strings (`["df", "-k"]`), `nil` when `text` is anything else.
    static func stringArray(_ text: String) -> [String]? {
        ByteView.with(text) { line -> [String]? in
            let start = skipSpace(line, 0)
            guard let (kind, range, end) = value(line, start, depth: 1), kind == .list, skipSpace(line, end) == line.count else { return nil }
            var words: [String] = []
            for element in elements(line, of: range) {
                guard element.kind == .plainString || element.kind == .escapedString else { return nil }
                var bytes: [UInt8] = []
                _ = decode(element.kind, element.value, in: line, to: &bytes)
                words.append(String(decoding: bytes, as: UTF8.self))
            }
            return words
        }
    }

    // MARK: - Scanning

    /// One value at `i`: its kind, range, and the index after it. Arrays nest at most two
    /// levels (a list of byte arrays).
    private static func value(_ s: ByteView, _ i: Int, depth: Int) -> (Kind, Range<Int>, Int)? {
        guard i < s.count else { return nil }
        switch s[i] {
        case UInt8(ascii: "\""):
            guard let (range, escaped, next) = string(s, i) else { return nil }
            return (escaped ? .escapedString : .plainString, range, next)
        case UInt8(ascii: "["):
            guard depth < 2 else { return nil }
            var j = skipSpace(s, i + 1)
            var allNumbers = true
            var count = 0
            if j < s.count, s[j] == UInt8(ascii: "]") { return (.list, i ..< j + 1, j + 1) }
            while true {
                guard let (kind, _, next) = value(s, j, depth: depth + 1) else { return nil }
                if kind != .bare { allNumbers = false }
                count += 1
                j = skipSpace(s, next)
                guard j < s.count else { return nil }
                if s[j] == UInt8(ascii: "]") { break }
                guard s[j] == UInt8(ascii: ",") else { return nil }
                j = skipSpace(s, j + 1)
            }
            return (allNumbers && count > 0 ? .bytes : .list, i ..< j + 1, j + 1)
        case UInt8(ascii: "n"):
            return literal(s, i, "null").map { (.null, i ..< $0, $0) }
        case UInt8(ascii: "t"):
            return literal(s, i, "true").map { (.bare, i ..< $0, $0) }
        case UInt8(ascii: "f"):
            return literal(s, i, "false").map { (.bare, i ..< $0, $0) }
        default:
            var j = i
            if j < s.count, s[j] == UInt8(ascii: "-") { j += 1 }
            let digits = j
            while j < s.count, s[j] &- UInt8(ascii: "0") < 10 || s[j] == UInt8(ascii: ".") || s[j] | 0x20 == UInt8(ascii: "e")
                || s[j] == UInt8(ascii: "+") || s[j] == UInt8(ascii: "-")
            {
                j += 1
            }
            guard j > digits, s[digits] &- UInt8(ascii: "0") < 10 else { return nil }
            return (.bare, i ..< j, j)
        }
    }

    /// The string starting with the quote at `i`: the range inside the quotes, whether it has
    /// escapes, and the index after the closing quote. Raw control characters are refused.
    private static func string(_ s: ByteView, _ i: Int) -> (Range<Int>, Bool, Int)? {
        guard i < s.count, s[i] == UInt8(ascii: "\"") else { return nil }
        var j = i + 1
        var escaped = false
        while j < s.count {
            let b = s[j]
            if b == UInt8(ascii: "\"") { return (i + 1 ..< j, escaped, j + 1) }
            if b < 0x20 { return nil }
            if b == UInt8(ascii: "\\") {
                escaped = true
                guard j + 1 < s.count else { return nil }
                let e = s[j + 1]
                if e == UInt8(ascii: "u") {
                    guard j + 5 < s.count, (2 ... 5).allSatisfy({ hexValue(s[j + $0]) != nil }) else { return nil }
                    j += 6
                    continue
                }
                guard "\"\\/bfnrt".utf8.contains(e) else { return nil }
                j += 2
                continue
            }
            j += 1
        }
        return nil
    }

    private static func literal(_ s: ByteView, _ i: Int, _ word: StaticString) -> Int? {
        let n = word.utf8CodeUnitCount
        guard i + n <= s.count, s[i ..< i + n].equals(word) else { return nil }
        return i + n
    }

    private static func skipSpace(_ s: ByteView, _ i: Int) -> Int {
        var j = i
        while j < s.count, ByteView.isSpace(s[j]) { j += 1 }
        return j
    }

    private static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a") ... UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A") ... UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// Decodes the escapes of a validated string's contents; a lone surrogate becomes U+FFFD.
    private static func unescape(_ s: ByteView, to out: inout [UInt8]) {
        var i = 0
        while i < s.count {
            let b = s[i]
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            let e = s[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(s, i)
                i += 4
                if (0xD800 ..< 0xDC00).contains(scalar), i + 6 <= s.count, s[i] == UInt8(ascii: "\\"), s[i + 1] == UInt8(ascii: "u") {
                    let low = hex4(s, i + 2)
                    if (0xDC00 ..< 0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                UTF8.encode(Unicode.Scalar(scalar) ?? "\u{FFFD}") { out.append($0) }
            default: out.append(e)
            }
        }
    }

    private static func hex4(_ s: ByteView, _ i: Int) -> UInt32 {
        (0 ..< 4).reduce(0) { $0 << 4 | (hexValue(s[i + $1]) ?? 0) }
    }
}
