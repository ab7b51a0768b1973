/// Why the task or configuration book refused a request, in the four ways an API answers:
/// the HTTP layer maps them to 400, 404, 409 and 429.
public enum ControlRequestFailure: Sendable, Equatable {
    /// The request is not valid: a bad spec, name, strategy or document.
    case invalid
    /// No task, document or rollout has this id or name.
    case notFound
    /// The request does not fit the current state: resume of a running task, a PUT while a
    /// rollout of the name runs, an action on a finished rollout.
    case conflict
    /// A bound would be passed: number of tasks or documents, size of a document.
    case limit
}
