/// Why the ``TaskBook`` refused a request: the kind says how to answer (HTTP 400, 404, 409 or
/// 429, say), the message says what to fix.
public struct TaskError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure.
    public typealias Kind = ControlRequestFailure

    /// The class of failure.
    public var kind: Kind
    /// A sentence for an operator, naming the task or parameter.
    public var message: String

    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }

    static func invalid(_ message: String) -> TaskError { TaskError(.invalid, message) }
    static func notFound(_ id: String) -> TaskError { TaskError(.notFound, "no task \(id)") }
    static func conflict(_ message: String) -> TaskError { TaskError(.conflict, message) }
}
