/// Parses tokens into a ``FilterExpression`` by recursive descent: `or` binds loosest, then
/// `and` (also implicit between adjacent terms), then `not` (docs/query.md, "Grammar").
struct FilterParser {
    private let tokens: [FilterToken]
    private var index = 0
    /// The column just past the end of the expression, for "expected … at the end" errors.
    private let endColumn: Int

    init(_ text: String) throws(FilterSyntaxError) {
        var lexer = FilterLexer(text)
        tokens = try lexer.tokens()
        endColumn = text.unicodeScalars.count + 1
    }

    /// The whole expression; the empty expression is ``FilterExpression/all``.
    mutating func parse() throws(FilterSyntaxError) -> FilterExpression {
        guard !tokens.isEmpty else { return .all }
        let expression = try orExpression()
        if let extra = peek {
            if extra.kind == .close {
                throw FilterSyntaxError(column: extra.column, "unexpected ')': there is no '(' for it to close")
            }
            throw FilterSyntaxError(column: extra.column, "unexpected '\(extra.text)'")
        }
        return expression
    }

    private var peek: FilterToken? { index < tokens.count ? tokens[index] : nil }

    private mutating func orExpression() throws(FilterSyntaxError) -> FilterExpression {
        var left = try andExpression(after: nil)
        while let token = peek, token.kind == .or {
            index += 1
            left = .or(left, try andExpression(after: token))
        }
        return left
    }

    private mutating func andExpression(after op: FilterToken?) throws(FilterSyntaxError) -> FilterExpression {
        var left = try unary(after: op)
        while let token = peek {
            switch token.kind {
            case .and:
                index += 1
                left = .and(left, try unary(after: token))
            case .or, .close:
                return left
            default:
                left = .and(left, try unary(after: nil))
            }
        }
        return left
    }

    private mutating func unary(after op: FilterToken?) throws(FilterSyntaxError) -> FilterExpression {
        if let token = peek, token.kind == .not {
            index += 1
            return .not(try unary(after: token))
        }
        return try primary(after: op)
    }

    private mutating func primary(after op: FilterToken?) throws(FilterSyntaxError) -> FilterExpression {
        guard let token = peek else {
            let what = op.map { "after '\($0.text)'" } ?? "here"
            throw FilterSyntaxError(column: endColumn, "expected a term \(what), found the end of the query")
        }
        index += 1
        switch token.kind {
        case .open:
            if let next = peek, next.kind == .close {
                throw FilterSyntaxError(column: next.column, "expected a term inside '(' … ')'")
            }
            let inner = try orExpression()
            guard let close = peek, close.kind == .close else {
                let column = peek?.column ?? endColumn
                throw FilterSyntaxError(column: column, "expected ')' to close the '(' at column \(token.column)")
            }
            index += 1
            return inner
        case .word(let word): return .contains(Array(Self.unescaped(word).utf8))
        case .phrase(let phrase): return .contains(Array(Self.unescaped(phrase).utf8))
        case .regex(let pattern): return .regex(.message, try RegexDialect.translate(pattern, column: token.column + 2))
        case .field(let name, let op, let value, let valueColumn):
            return try FieldTerm.expression(name: name, op: op, value: value, column: token.column, valueColumn: valueColumn)
        case .close, .and, .or, .not:
            let what = op.map { " after '\($0.text)'" } ?? ""
            throw FilterSyntaxError(column: token.column, "expected a term\(what), found '\(token.text)'")
        }
    }

    /// A phrase's text: `\\` is one backslash (`\"` was already a quote).
    static func unescaped(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingBackslash = false
        for c in text.unicodeScalars {
            if c == "\\", !pendingBackslash {
                pendingBackslash = true
                continue
            }
            if pendingBackslash, c != "\\" { out.append("\\") }
            pendingBackslash = false
            out.append(c)
        }
        if pendingBackslash { out.append("\\") }
        return String(out)
    }
}
