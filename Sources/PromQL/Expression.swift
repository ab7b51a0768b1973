import Glibc

/// A parsed query of the supported subset (docs/promql.md).
public indirect enum Expression: Sendable {
    case number(Double)
    /// An instant vector selector.
    case selector(VectorSelector)
    /// A range vector selector, `m[5m]`: the argument of a range function, or a whole instant
    /// query (answered with the raw samples).
    case range(VectorSelector, rangeMilliseconds: Int64)
    /// `rate(m[5m])`, `quantile_over_time(0.9, m[5m])`.
    case rangeFunction(RangeFunction, parameter: Expression?, selector: VectorSelector, rangeMilliseconds: Int64)
    /// `sum by (host) (…)`, `topk(3, …)`.
    case aggregation(Aggregation, parameter: Expression?, grouping: Grouping, Expression)
    /// An operator between a vector and a scalar, or two scalars.
    case binary(BinaryOperator, Expression, Expression, returnsBool: Bool)
    /// Unary minus.
    case negation(Expression)

    /// The type of value the expression produces.
    public var type: ValueType {
        switch self {
        case .number: .scalar
        case .selector, .rangeFunction, .aggregation: .vector
        case .range: .matrix
        case .negation(let e): e.type
        case .binary(_, let l, let r, _): l.type == .scalar && r.type == .scalar ? .scalar : .vector
        }
    }
}

/// The types of PromQL values this subset has.
public enum ValueType: String, Sendable {
    case scalar, vector, matrix
}

/// `name{matchers} offset d`.
public struct VectorSelector: Sendable {
    public var selector: SeriesSelector
    public var offsetMilliseconds: Int64
}

/// The range functions of the subset.
public enum RangeFunction: String, Sendable, CaseIterable {
    case rate, increase
    case avgOverTime = "avg_over_time", minOverTime = "min_over_time", maxOverTime = "max_over_time"
    case sumOverTime = "sum_over_time", countOverTime = "count_over_time", quantileOverTime = "quantile_over_time"
}

/// The aggregation operators of the subset.
public enum Aggregation: String, Sendable, CaseIterable {
    case sum, avg, min, max, count, topk
}

/// `by (…)` or `without (…)`; `by ()` when none was given (one group of everything).
public enum Grouping: Sendable {
    case by([String])
    case without([String])
}

/// Arithmetic and comparison operators.
public enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", power = "^"
    case equal = "==", notEqual = "!=", greater = ">", less = "<", greaterOrEqual = ">=", lessOrEqual = "<="

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .greater, .less, .greaterOrEqual, .lessOrEqual: true
        default: false
        }
    }

    /// Binding strength: `^` binds tightest, comparisons loosest.
    var precedence: Int {
        switch self {
        case .power: 4
        case .multiply, .divide, .modulo: 3
        case .add, .subtract: 2
        default: 1
        }
    }

    /// The result of `l op r`; for a comparison, `nil` when it does not hold.
    func apply(_ l: Double, _ r: Double) -> Double? {
        switch self {
        case .add: l + r
        case .subtract: l - r
        case .multiply: l * r
        case .divide: l / r
        case .modulo: l.truncatingRemainder(dividingBy: r)
        case .power: Glibc.pow(l, r)
        case .equal: l == r ? l : nil
        case .notEqual: l != r ? l : nil
        case .greater: l > r ? l : nil
        case .less: l < r ? l : nil
        case .greaterOrEqual: l >= r ? l : nil
        case .lessOrEqual: l <= r ? l : nil
        }
    }
}
