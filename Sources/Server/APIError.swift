import Control
import Hummingbird

/// A request the HTTP API refuses, with the answer docs/api.md gives for it: a status, and a
/// JSON body `{"error": "…"}` that says what is wrong (plus `kept`, or `accepted` and
/// `dropped`, on the two routes that document them).
///
/// Route handlers and middleware throw it; Hummingbird's router catches every
/// `HTTPResponseError` and answers with ``response(from:context:)``, encoded by the request
/// context's `responseEncoder` like every other answer.
struct APIError: HTTPResponseError, CustomStringConvertible, Sendable {
    /// The body of an error answer. Fields without a value are left out.
    struct Body: Encodable, Sendable {
        /// What is wrong, in a sentence that names the field, value or thing.
        var error: String
        /// `POST /api/v1/rules/reload`: which rules stay in force.
        var kept: String?
        /// `POST /write`: samples stored from the good lines.
        var accepted: Int?
        /// `POST /write`: lines dropped.
        var dropped: Int?
    }

    /// The status of the answer.
    let status: HTTPResponse.Status
    /// The body of the answer.
    let body: Body
    /// Seconds after which the client may retry (`Retry-After`), for a `503` that will pass.
    var retryAfter: Int?

    /// An error answered with `status` and `{"error": message}`.
    init(_ status: HTTPResponse.Status, _ message: String) {
        self.init(status, body: Body(error: message))
    }

    /// An error answered with `status` and `body`.
    init(_ status: HTTPResponse.Status, body: Body) {
        self.status = status
        self.body = body
    }

    /// A request the task or configuration book refused: `400` when it is invalid, `404` when
    /// what it names does not exist, `409` when it does not apply in the current state, `429`
    /// past a limit.
    init(refused failure: ControlRequestFailure, _ message: String) {
        let status: HTTPResponse.Status = switch failure {
        case .invalid: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .limit: .tooManyRequests
        }
        self.init(status, message)
    }

    var description: String { "\(status.code) \(body.error)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = status
        if let retryAfter { response.headers[.retryAfter] = "\(retryAfter)" }
        return response
    }
}
