/// One token of a filter expression, with the column it starts at.
struct FilterToken: Equatable {
    enum Kind: Equatable {
        case open
        case close
        case and
        case or
        case not
        /// A bare word: a substring of the message.
        case word(String)
        /// A quoted phrase: a substring of the message.
        case phrase(String)
        /// `~"re"`: a regular expression against the message.
        case regex(String)
        /// `name op value` (`host:web-01`, `severity>=warning`, `field.path~"^/api"`);
        /// `valueColumn` is where the value starts.
        case field(name: String, op: String, value: String, valueColumn: Int)
    }

    let kind: Kind
    /// 1-based column of the token's first character.
    let column: Int
    /// The token as written, for error messages.
    let text: String
}

/// Splits a filter expression into tokens (docs/query.md, "Grammar").
///
/// A word runs to the next space, parenthesis or quote. A word whose start is a field name
/// followed by an operator (`:`, `=`, `<`, `<=`, `>`, `>=`, `~`) is a field match, and its
/// value may be a quoted string right after the operator. In quoted strings `\"` is a quote;
/// every other backslash is kept for the value's own syntax (globs, regular expressions).
struct FilterLexer {
    private let chars: [Unicode.Scalar]
    private var index = 0

    init(_ text: String) { chars = Array(text.unicodeScalars) }

    /// Every token, in order.
    mutating func tokens() throws(FilterSyntaxError) -> [FilterToken] {
        var out: [FilterToken] = []
        while true {
            while index < chars.count, chars[index].properties.isWhitespace { index += 1 }
            guard index < chars.count else { return out }
            let start = index
            let c = chars[index]
            switch c {
            case "(":
                index += 1
                out.append(FilterToken(kind: .open, column: start + 1, text: "("))
            case ")":
                index += 1
                out.append(FilterToken(kind: .close, column: start + 1, text: ")"))
            case "\"":
                let phrase = try quoted()
                out.append(FilterToken(kind: .phrase(phrase), column: start + 1, text: text(from: start)))
            case "~":
                index += 1
                guard index < chars.count, chars[index] == "\"" else {
                    throw FilterSyntaxError(column: index + 1, "expected a quoted regular expression after '~', as in ~\"timeout after \\d+ms\"")
                }
                let pattern = try quoted()
                out.append(FilterToken(kind: .regex(pattern), column: start + 1, text: text(from: start)))
            default:
                out.append(try word())
            }
        }
    }

    /// A bare word, keyword or field match at `index`.
    private mutating func word() throws(FilterSyntaxError) -> FilterToken {
        let start = index
        while index < chars.count, !Self.endsWord(chars[index]) { index += 1 }
        let word = String(String.UnicodeScalarView(chars[start ..< index]))
        if let (name, op, valueStart) = Self.fieldPrefix(chars[start ..< index]) {
            var value = String(String.UnicodeScalarView(chars[valueStart ..< index]))
            let valueColumn = valueStart + 1
            if value.isEmpty {
                guard index < chars.count, chars[index] == "\"" else {
                    throw FilterSyntaxError(column: valueColumn, "expected a value after '\(name)\(op)'")
                }
                value = try quoted()
            }
            return FilterToken(kind: .field(name: name, op: op, value: value, valueColumn: valueColumn), column: start + 1, text: text(from: start))
        }
        let kind: FilterToken.Kind = switch word.lowercased() {
        case "and": .and
        case "or": .or
        case "not": .not
        default: .word(word)
        }
        return FilterToken(kind: kind, column: start + 1, text: word)
    }

    /// A quoted string starting at `index` (on its opening quote); moves past the closing one.
    private mutating func quoted() throws(FilterSyntaxError) -> String {
        let open = index
        index += 1
        var out = String.UnicodeScalarView()
        while index < chars.count {
            let c = chars[index]
            if c == "\\", index + 1 < chars.count, chars[index + 1] == "\"" {
                out.append("\"")
                index += 2
                continue
            }
            if c == "\\", index + 1 < chars.count {
                out.append(c)
                out.append(chars[index + 1])
                index += 2
                continue
            }
            index += 1
            if c == "\"" { return String(out) }
            out.append(c)
        }
        throw FilterSyntaxError(column: open + 1, "unterminated quoted string: expected a closing '\"'")
    }

    private func text(from start: Int) -> String { String(String.UnicodeScalarView(chars[start ..< index])) }

    private static func endsWord(_ c: Unicode.Scalar) -> Bool {
        c.properties.isWhitespace || c == "(" || c == ")" || c == "\""
    }

    /// `(name, operator, index of the value)` when `word` starts with `name op`: a name is a
    /// letter or `_` followed by letters, digits, `_`, `.` or `-`.
    private static func fieldPrefix(_ word: ArraySlice<Unicode.Scalar>) -> (String, String, Int)? {
        guard let first = word.first, first.properties.isAlphabetic || first == "_" else { return nil }
        var i = word.startIndex
        while i < word.endIndex, word[i].properties.isAlphabetic || word[i].properties.numericType != nil || "_.-".unicodeScalars.contains(word[i]) {
            i += 1
        }
        guard i < word.endIndex else { return nil }
        let name = String(String.UnicodeScalarView(word[word.startIndex ..< i]))
        let next = i + 1 < word.endIndex ? word[i + 1] : nil
        let op: String
        switch word[i] {
        case ":", "=", "~": op = String(word[i])
        case "<", ">": op = next == "=" ? String(word[i]) + "=" : String(word[i])
        default: return nil
        }
        return (name, op, i + op.unicodeScalars.count)
    }
}
