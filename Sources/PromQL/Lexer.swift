/// One token of a PromQL query, with the character offset where it starts.
struct Token: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case number(Double)
        /// A duration literal such as `5m` or `1h30m`, in milliseconds.
        case duration(Int64)
        case string(String)
        /// Punctuation and operators: `( ) { } [ ] , = != =~ !~ + - * / % ^ == > < >= <= : @`.
        case symbol(String)
        case end
    }

    let kind: Kind
    let position: Int
}

/// Splits a query into tokens. Identifiers may contain `:` (recording-rule names); numbers are
/// decimal, scientific, hexadecimal, `Inf` and `NaN`; strings are double- or single-quoted with
/// backslash escapes, or back-quoted and raw.
struct Lexer {
    private let chars: [Character]
    private var index = 0

    init(_ text: String) { chars = Array(text) }

    static func tokens(_ text: String) throws(PromQLError) -> [Token] {
        var lexer = Lexer(text)
        var out: [Token] = []
        while true {
            let token = try lexer.next()
            out.append(token)
            if token.kind == .end { return out }
        }
    }

    private static let twoCharacterSymbols: Set<String> = ["!=", "=~", "!~", "==", ">=", "<="]
    private static let oneCharacterSymbols: Set<Character> = ["(", ")", "{", "}", "[", "]", ",", "=", "+", "-", "*", "/", "%", "^", ">", "<", ":", "@"]

    private mutating func next() throws(PromQLError) -> Token {
        while index < chars.count, chars[index].isWhitespace { index += 1 }
        if index < chars.count, chars[index] == "#" {  // a comment runs to the end of the line
            while index < chars.count, chars[index] != "\n" { index += 1 }
            return try next()
        }
        let start = index
        guard index < chars.count else { return Token(kind: .end, position: start) }
        let c = chars[index]
        if c.isASCII, c.isLetter || c == "_" {
            while index < chars.count, chars[index].isASCII, chars[index].isLetter || chars[index].isNumber || chars[index] == "_" || chars[index] == ":" {
                index += 1
            }
            return Token(kind: .identifier(String(chars[start ..< index])), position: start)
        }
        if c.isASCII, c.isNumber || (c == "." && index + 1 < chars.count && chars[index + 1].isNumber) {
            return try numberOrDuration(start)
        }
        if c == "\"" || c == "'" || c == "`" { return try string(start, quote: c) }
        if index + 1 < chars.count, Self.twoCharacterSymbols.contains(String(chars[index ... index + 1])) {
            index += 2
            return Token(kind: .symbol(String(chars[start ..< index])), position: start)
        }
        if Self.oneCharacterSymbols.contains(c) {
            index += 1
            return Token(kind: .symbol(String(c)), position: start)
        }
        throw .parse(start, "unexpected character '\(c)'")
    }

    private mutating func numberOrDuration(_ start: Int) throws(PromQLError) -> Token {
        while index < chars.count, chars[index].isASCII, chars[index].isLetter || chars[index].isNumber || chars[index] == "." {
            // An exponent's sign belongs to the number: 1e-3.
            index += 1
            if index < chars.count, chars[index] == "-" || chars[index] == "+", chars[index - 1] == "e" || chars[index - 1] == "E",
                !String(chars[start ..< index]).lowercased().hasPrefix("0x")
            {
                index += 1
            }
        }
        let text = String(chars[start ..< index])
        if let value = Self.number(text) { return Token(kind: .number(value), position: start) }
        if let duration = Self.duration(text) { return Token(kind: .duration(duration), position: start) }
        throw .parse(start, "bad number or duration syntax: \"\(text)\"")
    }

    /// A decimal, scientific or hexadecimal number.
    static func number(_ text: String) -> Double? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16).map(Double.init) }
        guard let first = lower.first, first.isNumber || first == "." else { return nil }
        guard lower.allSatisfy({ $0.isNumber || $0 == "." || $0 == "e" || $0 == "-" || $0 == "+" }) else { return nil }
        return Double(lower)
    }

    /// A Prometheus duration: one or more `<integer><unit>` with units ms, s, m, h, d, w, y in
    /// that order of size, largest first (`1h30m`), in milliseconds.
    static func duration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("y", 365 * 86_400_000), ("w", 7 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000), ("ms", 1), ("m", 60_000), ("s", 1000)]
        var rest = Substring(text)
        var total: Int64 = 0
        var last = Int64.max
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            guard !digits.isEmpty, let n = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let (unit, size) = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }),
                size < last
            else { return nil }
            rest = rest.dropFirst(unit.count)
            last = size
            let (product, overflow) = n.multipliedReportingOverflow(by: size)
            guard !overflow else { return nil }
            total += product
        }
        return total
    }

    private mutating func string(_ start: Int, quote: Character) throws(PromQLError) -> Token {
        index += 1
        var out = ""
        while index < chars.count {
            let c = chars[index]
            index += 1
            if c == quote { return Token(kind: .string(out), position: start) }
            if c == "\\", quote != "`" {
                guard index < chars.count else { break }
                let e = chars[index]
                index += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "v": out.append("\u{0B}")
                case "\\", "\"", "'", "`": out.append(e)
                default: throw .parse(index - 2, "unknown escape sequence '\\\(e)' in string")
                }
                continue
            }
            out.append(c)
        }
        throw .parse(start, "unterminated quoted string")
    }
}
