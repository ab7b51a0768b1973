/// Why the ``TaskBook`` refused a request: the kind says how to answer (HTTP 400, 404, 409 or
/// 429, say), the message says what to fix.
public struct TaskError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure.
    public typealias Kind = ControlRequestFailure

    /// The class of failure.
    public var kind: Kind
    /// A sentence for an operator, naming the task or parameter.
    public var message: String
    /// The field of the spec at fault, as a path into its JSON form (`stream`,
    /// `selector.region`, `parameters.path`), when the error is about one.
    public var field: String?
    /// The position of the spec at fault in a batch (``TaskBook/create(allOf:now:)``).
    public var index: Int?

    /// An error of `kind` saying `message`, about `field` of the spec at `index` of a batch.
    public init(_ kind: Kind, _ message: String, field: String? = nil, index: Int? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
        self.index = index
    }

    /// The message.
    public var description: String { message }

    static func invalid(_ field: String, _ message: String) -> TaskError { TaskError(.invalid, message, field: field) }
    static func notFound(_ id: String) -> TaskError { TaskError(.notFound, "no task \(id)") }
    static func conflict(_ message: String) -> TaskError { TaskError(.conflict, message) }
}
