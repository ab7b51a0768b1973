/// A parsed filter: the tree ``LogFilter`` holds and ``FilterMatcher`` evaluates.
indirect enum FilterExpression: Sendable, Equatable {
    /// The empty filter: every log record.
    case all
    case and(FilterExpression, FilterExpression)
    case or(FilterExpression, FilterExpression)
    case not(FilterExpression)
    /// A bare word or quoted phrase: a case-sensitive substring of the message.
    case contains([UInt8])
    /// `field:value` on a text field, whole value, with `*` wildcards.
    case glob(TextField, GlobPattern)
    /// `~"re"` (message) or `field~"re"`: a POSIX extended regular expression, unanchored,
    /// already translated from the documented dialect (``RegexDialect``).
    case regex(TextField, String)
    /// `severity>=warning`, `facility:3`: a comparison of a level number. For severity the
    /// comparison reads "as severe as": `severity>=warning` holds for 0 … 4.
    case level(LevelField, Comparison, UInt8)
    /// `field.status>=500`: a numeric comparison of a record field's value.
    case number(String, Comparison, Double)
}

extension FilterExpression {
    /// Phrases that every matching record's message contains: a batch whose payload holds one
    /// of them nowhere cannot match, and its records need not be walked.
    var requiredPhrases: [[UInt8]] {
        switch self {
        case .contains(let needle): needle.isEmpty ? [] : [needle]
        case .and(let a, let b): a.requiredPhrases + b.requiredPhrases
        case .all, .or, .not, .glob, .regex, .level, .number: []
        }
    }
}

/// A record field holding text.
enum TextField: Sendable, Equatable {
    case host
    case app
    case message
    /// Another field of the record, by its name (`field.status` → `status`).
    case field(String)
}

/// A record field holding a syslog level.
enum LevelField: Sendable, Equatable {
    case severity
    case facility
}

/// How a field is compared with a value.
enum Comparison: String, Sendable, Equatable {
    case equal = ":"
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    /// Whether `lhs op rhs` holds.
    @inline(__always)
    func holds<T: Comparable>(_ lhs: T, _ rhs: T) -> Bool {
        switch self {
        case .equal: lhs == rhs
        case .less: lhs < rhs
        case .lessOrEqual: lhs <= rhs
        case .greater: lhs > rhs
        case .greaterOrEqual: lhs >= rhs
        }
    }
}
