/// Parses the supported PromQL subset (docs/promql.md) into an ``Expression``.
///
/// Every construct outside the subset (other functions and aggregations, vector matching,
/// set operators, subqueries, `@`) is refused with a ``PromQLError`` of kind `bad_data` that
/// names it and the character where it starts.
///
/// ```swift
/// let expression = try PromQLParser.parse(#"sum by (host) (rate(http_requests_total{code=~"5.."}[5m]))"#)
/// ```
public enum PromQLParser {
    /// Parses `query`.
    /// - Throws: ``PromQLError`` (`bad_data`) naming the position and the problem.
    public static func parse(_ query: String) throws(PromQLError) -> Expression {
        var parser = Parser(tokens: try Lexer.tokens(query))
        let expression = try parser.expression(minimumPrecedence: 1)
        guard parser.peek.kind == .end else { throw parser.unexpected("end of input") }
        return expression
    }

    /// Parses a series selector (a `match[]` parameter): `m{…}` or `{…}`, nothing else.
    public static func parseSelector(_ text: String) throws(PromQLError) -> SeriesSelector {
        guard case .selector(let selector) = try parse(text), selector.offsetMilliseconds == 0 else {
            throw PromQLError(.badData, "invalid series selector \"\(text)\": expected a metric name and/or label matchers")
        }
        return selector.selector
    }
}

private struct Parser {
    let tokens: [Token]
    var index = 0

    var peek: Token { tokens[index] }

    mutating func advance() -> Token {
        defer { if index < tokens.count - 1 { index += 1 } }
        return tokens[index]
    }

    func isSymbol(_ s: String) -> Bool { peek.kind == .symbol(s) }
    func isIdentifier(_ s: String) -> Bool { peek.kind == .identifier(s) }

    func describe(_ token: Token) -> String {
        switch token.kind {
        case .identifier(let s): "identifier \"\(s)\""
        case .number(let n): "number \(n)"
        case .duration: "duration"
        case .string(let s): "string \"\(s)\""
        case .symbol(let s): "\"\(s)\""
        case .end: "end of input"
        }
    }

    func unexpected(_ expected: String) -> PromQLError {
        .parse(peek.position, "unexpected \(describe(peek)), expected \(expected)")
    }

    mutating func expect(_ symbol: String) throws(PromQLError) {
        guard isSymbol(symbol) else { throw unexpected("\"\(symbol)\"") }
        _ = advance()
    }

    // MARK: Binary operators, by precedence climbing

    mutating func expression(minimumPrecedence: Int) throws(PromQLError) -> Expression {
        var lhs = try unary()
        while true {
            if case .identifier(let word) = peek.kind, ["and", "or", "unless"].contains(word) {
                throw .unsupported(peek.position, "the set operator \"\(word)\"")
            }
            guard case .symbol(let symbol) = peek.kind, let op = BinaryOperator(rawValue: symbol), op.precedence >= minimumPrecedence
            else { return lhs }
            let position = advance().position
            var returnsBool = false
            if isIdentifier("bool") {
                guard op.isComparison else { throw .parse(peek.position, "bool modifier can only be used on comparison operators") }
                _ = advance()
                returnsBool = true
            }
            if case .identifier(let word) = peek.kind, ["on", "ignoring", "group_left", "group_right"].contains(word) {
                throw .unsupported(peek.position, "vector matching (\"\(word)\")")
            }
            // `^` is right-associative; the others are left-associative.
            let rhs = try expression(minimumPrecedence: op == .power ? op.precedence : op.precedence + 1)
            lhs = try Self.binary(op, lhs, rhs, returnsBool: returnsBool, at: position)
        }
    }

    static func binary(_ op: BinaryOperator, _ l: Expression, _ r: Expression, returnsBool: Bool, at position: Int) throws(PromQLError) -> Expression {
        if l.type == .matrix || r.type == .matrix {
            throw .parse(position, "binary expression must contain only scalar and instant vector types")
        }
        if l.type == .vector && r.type == .vector {
            throw .unsupported(position, "a binary operation between two vectors (vector matching)")
        }
        if op.isComparison && !returnsBool && l.type == .scalar && r.type == .scalar {
            throw .parse(position, "comparisons between scalars must use BOOL modifier")
        }
        return .binary(op, l, r, returnsBool: returnsBool)
    }

    mutating func unary() throws(PromQLError) -> Expression {
        if isSymbol("-") || isSymbol("+") {
            let negative = advance().kind == .symbol("-")
            // Unary minus binds looser than `^`: -2^2 is -4.
            let operand = try expression(minimumPrecedence: BinaryOperator.power.precedence)
            if operand.type == .matrix { throw .parse(peek.position, "unary expression only allowed on expressions of type scalar or instant vector") }
            if case .number(let n) = operand { return .number(negative ? -n : n) }
            return negative ? .negation(operand) : operand
        }
        return try postfix(try primary())
    }

    // MARK: Operands

    mutating func primary() throws(PromQLError) -> Expression {
        let token = peek
        switch token.kind {
        case .number(let n):
            _ = advance()
            return .number(n)
        case .string:
            throw .unsupported(token.position, "a string literal")
        case .duration:
            throw unexpected("an expression")
        case .symbol("("):
            _ = advance()
            let inner = try expression(minimumPrecedence: 1)
            try expect(")")
            if isSymbol("[") { throw .unsupported(peek.position, "a subquery") }
            return inner
        case .symbol("{"):
            return .selector(try selector(name: nil, at: token.position))
        case .identifier(let word):
            _ = advance()
            let lower = word.lowercased()
            if lower == "inf" || lower == "nan" { return .number(lower == "inf" ? .infinity : .nan) }
            if let aggregation = Aggregation(rawValue: word), isSymbol("(") || isIdentifier("by") || isIdentifier("without") {
                return try aggregate(aggregation, at: token.position)
            }
            if isSymbol("(") {
                if let function = RangeFunction(rawValue: word) { return try call(function, at: token.position) }
                let kind = Self.otherAggregations.contains(word) ? "the aggregation" : "the function"
                throw .unsupported(token.position, "\(kind) \"\(word)\"")
            }
            if isIdentifier("by") || isIdentifier("without") {
                throw .unsupported(token.position, "the aggregation \"\(word)\"")
            }
            return .selector(try selector(name: word, at: token.position))
        default:
            throw unexpected("an expression")
        }
    }

    static let otherAggregations: Set<String> = ["stddev", "stdvar", "bottomk", "quantile", "count_values", "group", "limitk", "limit_ratio"]

    /// `[range]`, `offset d` and `@` after a selector.
    mutating func postfix(_ operand: Expression) throws(PromQLError) -> Expression {
        var result = operand
        while true {
            if isSymbol("@") { throw .unsupported(peek.position, "the @ modifier") }
            if isSymbol("[") {
                let position = advance().position
                guard case .selector(let s) = result else {
                    if case .range = result { throw .parse(position, "a range can follow only an instant vector selector") }
                    throw .unsupported(position, "a subquery")
                }
                let range = try durationLiteral()
                if isSymbol(":") { throw .unsupported(position, "a subquery") }
                try expect("]")
                guard range > 0 else { throw .parse(position, "range must be positive") }
                result = .range(s, rangeMilliseconds: range)
            } else if isIdentifier("offset") {
                let position = advance().position
                var sign: Int64 = 1
                if isSymbol("-") { _ = advance(); sign = -1 }
                let offset = sign * (try durationLiteral())
                switch result {
                case .selector(var s) where s.offsetMilliseconds == 0:
                    s.offsetMilliseconds = offset
                    result = .selector(s)
                case .range(var s, let r) where s.offsetMilliseconds == 0:
                    s.offsetMilliseconds = offset
                    result = .range(s, rangeMilliseconds: r)
                default:
                    throw .parse(position, "offset modifier must be preceded by a vector selector (once)")
                }
            } else {
                return result
            }
        }
    }

    mutating func durationLiteral() throws(PromQLError) -> Int64 {
        switch peek.kind {
        case .duration(let d):
            _ = advance()
            return d
        case .number(let n) where n == n.rounded() && n >= 0 && n < 1e15:
            // A bare number of seconds, as Prometheus accepts.
            _ = advance()
            return Int64(n * 1000)
        default:
            throw unexpected("a duration such as 5m")
        }
    }

    mutating func selector(name: String?, at position: Int) throws(PromQLError) -> VectorSelector {
        var matchers: [LabelMatcher] = []
        if let name { matchers.append(try LabelMatcher(name: Labels.metricName, op: .equal, value: name)) }
        if isSymbol("{") {
            _ = advance()
            while !isSymbol("}") {
                guard case .identifier(let label) = peek.kind else { throw unexpected("a label name") }
                let labelPosition = advance().position
                guard case .symbol(let symbol) = peek.kind, let op = LabelMatcher.Operator(rawValue: symbol) else {
                    throw unexpected("a label matching operator (=, !=, =~, !~)")
                }
                _ = advance()
                guard case .string(let value) = peek.kind else { throw unexpected("a quoted label value") }
                _ = advance()
                if label == Labels.metricName, name != nil {
                    throw .parse(labelPosition, "metric name must not be set twice")
                }
                matchers.append(try LabelMatcher(name: label, op: op, value: value))
                if isSymbol(",") { _ = advance() } else if !isSymbol("}") { throw unexpected("\",\" or \"}\"") }
            }
            _ = advance()
        }
        if matchers.allSatisfy(\.matchesEmpty) {
            throw .parse(position, "vector selector must contain at least one non-empty matcher")
        }
        return VectorSelector(selector: SeriesSelector(matchers: matchers), offsetMilliseconds: 0)
    }

    mutating func arguments() throws(PromQLError) -> [(Expression, Int)] {
        try expect("(")
        var out: [(Expression, Int)] = []
        while !isSymbol(")") {
            let position = peek.position
            out.append((try expression(minimumPrecedence: 1), position))
            if isSymbol(",") { _ = advance() } else if !isSymbol(")") { throw unexpected("\",\" or \")\"") }
        }
        _ = advance()
        return out
    }

    mutating func call(_ function: RangeFunction, at position: Int) throws(PromQLError) -> Expression {
        let args = try arguments()
        let wanted = function == .quantileOverTime ? 2 : 1
        guard args.count == wanted else {
            throw .parse(position, "expected \(wanted) argument(s) in call to \"\(function.rawValue)\", got \(args.count)")
        }
        var parameter: Expression?
        if function == .quantileOverTime {
            guard args[0].0.type == .scalar else { throw .parse(args[0].1, "expected type scalar in call to \"\(function.rawValue)\"") }
            parameter = args[0].0
        }
        guard case .range(let selector, let range) = args[wanted - 1].0 else {
            throw .parse(args[wanted - 1].1, "expected type range vector in call to function \"\(function.rawValue)\", got \(args[wanted - 1].0.type.rawValue)")
        }
        return .rangeFunction(function, parameter: parameter, selector: selector, rangeMilliseconds: range)
    }

    mutating func aggregate(_ aggregation: Aggregation, at position: Int) throws(PromQLError) -> Expression {
        var grouping: Grouping?
        if isIdentifier("by") || isIdentifier("without") { grouping = try groupingClause() }
        let args = try arguments()
        if grouping == nil, isIdentifier("by") || isIdentifier("without") { grouping = try groupingClause() }
        let wanted = aggregation == .topk ? 2 : 1
        guard args.count == wanted else {
            throw .parse(position, "wrong number of arguments for aggregate expression \"\(aggregation.rawValue)\": expected \(wanted), got \(args.count)")
        }
        var parameter: Expression?
        if aggregation == .topk {
            guard args[0].0.type == .scalar else { throw .parse(args[0].1, "expected type scalar in aggregation parameter") }
            parameter = args[0].0
        }
        let operand = args[wanted - 1]
        guard operand.0.type == .vector else {
            throw .parse(operand.1, "expected type instant vector in aggregation expression, got \(operand.0.type.rawValue)")
        }
        return .aggregation(aggregation, parameter: parameter, grouping: grouping ?? .by([]), operand.0)
    }

    mutating func groupingClause() throws(PromQLError) -> Grouping {
        let isBy = advance().kind == .identifier("by")
        try expect("(")
        var labels: [String] = []
        while !isSymbol(")") {
            guard case .identifier(let label) = peek.kind else { throw unexpected("a label name") }
            _ = advance()
            labels.append(label)
            if isSymbol(",") { _ = advance() } else if !isSymbol(")") { throw unexpected("\",\" or \")\"") }
        }
        _ = advance()
        return isBy ? .by(labels) : .without(labels)
    }
}
