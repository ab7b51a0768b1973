/// Why ``ConfigBook`` refused a request: what kind of problem, and a message that names it.
///
/// The HTTP layer maps ``Kind-swift.enum`` to a status: ``Kind-swift.enum/invalid`` → 400,
/// ``Kind-swift.enum/notFound`` → 404, ``Kind-swift.enum/conflict`` → 409,
/// ``Kind-swift.enum/limit`` → 413 for a too-large document, 409 otherwise. A YAML or JSON
/// syntax error carries its 1-based ``line`` and reads `line 3: YAML syntax: …`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Kind: Sendable, Equatable {
        /// A bad name, strategy or document (not UTF-8, empty, not YAML or JSON).
        case invalid
        /// No such document or rollout.
        case notFound
        /// The request does not fit the current state: a rollout of the name is in progress,
        /// or the rollout is already finished.
        case conflict
        /// A bound would be passed: document size or number of documents.
        case limit
    }

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
