/// Why the ``TaskBook`` refused a request: the kind says how to answer (HTTP 400, 404, 409 or
/// 429, say), the message says what to fix.
public struct TaskError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of failure.
    public enum Kind: Sendable {
        /// The spec is not valid (bad or missing parameter, bad stream name).
        case invalid
        /// No task has this id.
        case notFound
        /// The task is in a state where the request makes no sense (resume of a running task,
        /// suspend of a terminated one).
        case conflict
        /// A limit of the book was reached (``TaskBook/maxTasks``).
        case limit
    }

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
