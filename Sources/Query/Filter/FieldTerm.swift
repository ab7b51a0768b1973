/// Turns one `name op value` token into an expression, checking the name, the operator and
/// the value (docs/query.md, "Field matches").
enum FieldTerm {
    static let knownFields = "host, app, severity, facility, message or field.NAME"

    static func expression(
        name: String, op: String, value: String, column: Int, valueColumn: Int
    ) throws(FilterSyntaxError) -> FilterExpression {
        let comparison: Comparison? = switch op {
        case ":", "=": .equal
        case "<": .less
        case "<=": .lessOrEqual
        case ">": .greater
        case ">=": .greaterOrEqual
        default: nil
        }
        switch name.lowercased() {
        case "severity", "level":
            guard let comparison else {
                throw FilterSyntaxError(column: valueColumn - 1, "severity takes :, =, <, <=, > or >=, not '\(op)'")
            }
            guard let number = Severity.number(value) else {
                throw FilterSyntaxError(
                    column: valueColumn,
                    "unknown severity '\(value)': use emerg, alert, crit, err, warning, notice, info, debug or 0-7")
            }
            return .level(.severity, comparison, number)
        case "facility":
            guard let comparison else {
                throw FilterSyntaxError(column: valueColumn - 1, "facility takes :, =, <, <=, > or >=, not '\(op)'")
            }
            guard let number = UInt8(value), number <= 23 else {
                throw FilterSyntaxError(column: valueColumn, "facility must be a number from 0 to 23, not '\(value)'")
            }
            return .level(.facility, comparison, number)
        case "host", "app", "message", "msg":
            let field: TextField = switch name.lowercased() {
            case "host": .host
            case "app": .app
            default: .message
            }
            return try text(field, name: name, op: op, comparison: comparison, value: value, valueColumn: valueColumn)
        default:
            guard name.hasPrefix("field."), name.count > 6 else {
                throw FilterSyntaxError(
                    column: column,
                    "unknown field '\(name)': use \(knownFields) (quote a word to search for it in messages)")
            }
            let key = String(name.dropFirst(6))
            if let comparison, comparison != .equal {
                guard let number = Double(value) else {
                    throw FilterSyntaxError(column: valueColumn, "'\(op)' compares numbers: '\(value)' is not a number")
                }
                return .number(key, comparison, number)
            }
            return try text(.field(key), name: name, op: op, comparison: comparison, value: value, valueColumn: valueColumn)
        }
    }

    private static func text(
        _ field: TextField, name: String, op: String, comparison: Comparison?, value: String, valueColumn: Int
    ) throws(FilterSyntaxError) -> FilterExpression {
        switch comparison {
        case .equal: return .glob(field, GlobPattern(value))
        case nil: return .regex(field, try RegexDialect.translate(value, column: valueColumn))
        default:
            throw FilterSyntaxError(
                column: valueColumn - op.count,
                "'\(op)' compares numbers and severities; \(name) holds text (use \(name):value or \(name)~\"regex\")")
        }
    }
}
