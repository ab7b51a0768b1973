/// A rules file that cannot be used: the line it is about and the reason.
///
/// ``AlertRuleSet/load(yaml:builtins:)`` refuses a file whole on the first error, so a caller
/// reloading rules keeps the rules it had. ``description`` reads
/// `rules line 12: unknown key 'windw' in rule 'HighCPU' (allowed: …)`.
public struct RuleError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What kind of problem it is; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Backing: String, Sendable, Hashable {
            case syntax, unknownKey, missingKey, invalidValue, duplicateName, hook
        }

        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The text is not YAML.
        public static let syntax = Code(.syntax)
        /// A key the format does not know (a typo, usually).
        public static let unknownKey = Code(.unknownKey)
        /// A required key is absent.
        public static let missingKey = Code(.missingKey)
        /// A value of the wrong type or out of range: a bad duration, condition, regex, severity…
        public static let invalidValue = Code(.invalidValue)
        /// Two rules share a name.
        public static let duplicateName = Code(.duplicateName)
        /// A hook could not be set up (for example its file cannot be opened).
        public static let hook = Code(.hook)

        /// The code's name.
        public var description: String { backing.rawValue }
    }

    /// What kind of problem.
    public var code: Code
    /// 1-based line in the rules file, when known.
    public var line: Int?
    /// What is wrong, naming the key or value.
    public var reason: String

    /// An error about `line`.
    public init(_ code: Code, line: Int?, _ reason: String) {
        self.code = code
        self.line = line
        self.reason = reason
    }

    /// `rules line N: reason`.
    public var description: String {
        if let line { return "rules line \(line): \(reason)" }
        return "rules: \(reason)"
    }
}
