import Hummingbird

/// Lets a request through only when it carries the admin token, `Authorization: Bearer TOKEN`
/// (docs/api.md, "Authentication"); any other request is answered `401` with the documented
/// error body, and its handler never runs.
///
/// The node puts one on the router group that holds every state-changing route (each `PUT`
/// and `POST` under `/api/v1/`), and only when a token is configured: without one those
/// routes are open. Reads and `POST /write` are not in that group.
///
/// Stateless and `Sendable`: it runs on whichever task serves the request.
struct AdminTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The `Authorization` header value that passes.
    private let expected: String

    /// A middleware that passes requests bearing `token`.
    init(token: String) {
        expected = "Bearer \(token)"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.authorization] == expected else {
            throw APIError(.unauthorized, "this endpoint needs the admin token: Authorization: Bearer TOKEN")
        }
        return try await next(request, context)
    }
}
