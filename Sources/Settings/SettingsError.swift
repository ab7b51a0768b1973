/// A flag, a configuration key or a value that a ``SettingsTable`` cannot use, with a message
/// that names it, says what is allowed and shows what was given.
///
/// ```
/// --segment-mib must be between 1 and 4096, got 0
/// unknown flag '--max-source'; did you mean '--max-sources'?
/// 'limits.line_kib' must be a whole number, got 'lots' (line 3)
/// ```
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of mistake it is. New codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case unknownName, invalidValue, outOfRange, invalidDocument
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// A flag or key that no setting has.
        public static let unknownName = Code(.unknownName)
        /// A value of the wrong form: not a number, not one of the choices, a missing value.
        public static let invalidValue = Code(.invalidValue)
        /// A number outside the setting's range.
        public static let outOfRange = Code(.outOfRange)
        /// A configuration text that is not YAML, or not a mapping of keys to values.
        public static let invalidDocument = Code(.invalidDocument)

        public var description: String {
            switch base {
            case .unknownName: "unknown name"
            case .invalidValue: "invalid value"
            case .outOfRange: "out of range"
            case .invalidDocument: "invalid document"
            }
        }
    }

    /// What kind of mistake it is.
    public var code: Code
    /// The whole sentence a user reads.
    public var message: String

    /// An error of kind `code` that reads `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// The same error, naming the YAML line it came from.
    func at(line: Int?) -> SettingsError {
        guard let line else { return self }
        return SettingsError(code, message + " (line \(line))")
    }

    static func outOfRange(_ name: String, _ range: ClosedRange<Int>, got value: Int, orOff: Bool = false) -> SettingsError {
        SettingsError(.outOfRange, "\(name) must be between \(range.lowerBound) and \(range.upperBound)\(orOff ? ", or off" : ""), got \(value)")
    }

    static func notANumber(_ name: String, got text: String) -> SettingsError {
        SettingsError(.invalidValue, "\(name) must be a whole number, got '\(text)'")
    }
}
