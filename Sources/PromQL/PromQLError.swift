/// Why a query failed, in the terms of the Prometheus HTTP API's error answer
/// (`{"status":"error","errorType":"…","error":"…"}`).
public struct PromQLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `errorType` of the answer.
    public enum Kind: String, Sendable {
        /// The query or a parameter is malformed or outside the supported subset (HTTP 400).
        case badData = "bad_data"
        /// The query ran into a limit or could not be evaluated (HTTP 422).
        case execution
        /// The query ran past its time limit (HTTP 503).
        case timeout
    }

    /// What kind of failure this is.
    public let kind: Kind
    /// A sentence that names what is wrong (the column, the function, the limit).
    public let message: String

    /// A failure of `kind` with `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A parse error at `position` (0-based character offset into the query).
    static func parse(_ position: Int, _ message: String) -> PromQLError {
        PromQLError(.badData, "parse error at char \(position + 1): \(message)")
    }

    /// A construct outside the documented subset (docs/promql.md).
    static func unsupported(_ position: Int, _ what: String) -> PromQLError {
        PromQLError(.badData, "parse error at char \(position + 1): \(what) is not supported (see docs/promql.md for the supported subset)")
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
