/// Why ``ConfigBook`` refused a request: what kind of problem, and a message that names it.
///
/// Its ``kind`` is shared with ``TaskError`` (``ControlRequestFailure``), so the HTTP API
/// answers both the same way. A YAML or JSON syntax error carries its 1-based ``line`` and
/// reads `line 3: YAML syntax: …`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public typealias Kind = ControlRequestFailure

    /// What kind of problem.
    public var kind: Kind
    /// What is wrong, naming the document, the rollout or the value.
    public var message: String
    /// The 1-based line of a syntax error in the document, when known.
    public var line: Int?

    /// An error; `message` should name what it is about.
    public init(_ kind: Kind, _ message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    /// The message.
    public var description: String { message }
}
