/// One label matcher of a selector: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`.
///
/// Regular expressions are fully anchored, as in Prometheus: `host=~"web"` matches only the
/// value `web`, not `web1`. They use Swift's `Regex` syntax, which agrees with Prometheus' RE2
/// on the usual constructs (classes, alternation, repetition, groups). An absent label matches
/// as the empty string.
public struct LabelMatcher: Sendable, CustomStringConvertible {
    /// The four matching operators.
    public enum Operator: String, Sendable {
        case equal = "=", notEqual = "!=", matchesRegex = "=~", doesNotMatchRegex = "!~"
    }

    public let name: String
    public let op: Operator
    public let value: String
    private let regex: Regex<AnyRegexOutput>?

    /// A matcher; throws for a regular expression that does not compile.
    public init(name: String, op: Operator, value: String) throws(PromQLError) {
        self.name = name
        self.op = op
        self.value = value
        switch op {
        case .equal, .notEqual:
            regex = nil
        case .matchesRegex, .doesNotMatchRegex:
            do {
                regex = try Regex(value)
            } catch {
                throw PromQLError(.badData, "invalid regular expression \"\(value)\" for label \(name): \(error)")
            }
        }
    }

    /// Whether a label value (`""` for an absent label) satisfies the matcher.
    public func matches(_ candidate: String) -> Bool {
        switch op {
        case .equal: candidate == value
        case .notEqual: candidate != value
        case .matchesRegex: (try? regex?.wholeMatch(in: candidate)) != nil
        case .doesNotMatchRegex: (try? regex?.wholeMatch(in: candidate)) == nil
        }
    }

    /// Whether every label set passes: a matcher that accepts the empty string.
    var matchesEmpty: Bool { matches("") }

    public var description: String { "\(name)\(op.rawValue)\"\(value)\"" }
}

extension Regex: @retroactive @unchecked Sendable {}

/// A set of matchers that all must hold: what a selector or a `match[]` parameter selects.
public struct SeriesSelector: Sendable, CustomStringConvertible {
    public var matchers: [LabelMatcher]

    public init(matchers: [LabelMatcher]) { self.matchers = matchers }

    /// The metric names this selector can match, when it pins `__name__` with `=`; `nil` when
    /// it may match any name.
    var exactName: String? { matchers.first { $0.name == Labels.metricName && $0.op == .equal }?.value }

    /// Whether `labels` satisfy every matcher.
    public func matches(_ labels: Labels) -> Bool {
        matchers.allSatisfy { $0.matches(labels[$0.name]) }
    }

    public var description: String { "{" + matchers.map(\.description).joined(separator: ", ") + "}" }
}
