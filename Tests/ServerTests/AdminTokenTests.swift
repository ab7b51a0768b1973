import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing

/// The admin token (docs/api.md, "Authentication"): with one configured, every `PUT` and `POST`
/// under `/api/v1/` needs `Authorization: Bearer TOKEN` and is answered 401 without it; reads
/// and `POST /write` stay open. Without one, everything is open.
@Suite struct AdminTokenTests {
    /// A request and the status it gets on a fresh node when it is let through.
    struct Route: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var uri: String
        var body: String?
        var contentType: String?
        var answer: HTTPResponse.Status

        var description: String { "\(method) \(uri)" }
    }

    static let token = "s3cret"
    static let refusal = "this endpoint needs the admin token: Authorization: Bearer TOKEN"

    static let writes: [Route] = [
        Route(method: .post, uri: "/api/v1/rules/reload", answer: .ok),
        Route(method: .put, uri: "/api/v1/topology", body: #"{"shards":{"0":"eu"}}"#, answer: .ok),
        Route(method: .post, uri: "/api/v1/tasks", body: #"{"kind":"hostmetrics","stream":"host"}"#, answer: .created),
        Route(method: .post, uri: "/api/v1/tasks/t-1/suspend", answer: .notFound),
        Route(method: .put, uri: "/api/v1/config/agent", body: "level: info\n", contentType: "text/yaml", answer: .created),
        Route(method: .post, uri: "/api/v1/rollouts/r-1/pause", answer: .notFound),
    ]

    static let reads: [Route] = [
        Route(method: .get, uri: "/health", answer: .ok),
        Route(method: .get, uri: "/metrics", answer: .ok),
        Route(method: .post, uri: "/write", body: "cpu value=1", answer: .noContent),
        Route(method: .get, uri: "/api/v1/daemons", answer: .ok),
        Route(method: .get, uri: "/api/v1/daemons/d1", answer: .notFound),
        Route(method: .get, uri: "/api/v1/alerts", answer: .ok),
        Route(method: .get, uri: "/api/v1/rules", answer: .ok),
        Route(method: .get, uri: "/api/v1/topology", answer: .ok),
        Route(method: .get, uri: "/api/v1/tasks", answer: .ok),
        Route(method: .get, uri: "/api/v1/tasks/t-1", answer: .notFound),
        Route(method: .get, uri: "/api/v1/config", answer: .ok),
        Route(method: .get, uri: "/api/v1/config/agent", answer: .notFound),
        Route(method: .get, uri: "/api/v1/rollouts", answer: .ok),
        Route(method: .get, uri: "/api/v1/rollouts/r-1", answer: .notFound),
    ]

    @Test(arguments: writes)
    func aWriteWithoutTheTokenIs401AndChangesNothing(route: Route) async throws {
        try await TestNode.run(adminToken: Self.token) { _, client in
            for token in [nil, "wrong", "s3cre", Self.token + "t"] {
                let response = try await client.send(route.method, route.uri, token: token, body: route.body, contentType: route.contentType)
                #expect(response.status == .unauthorized && response.errorMessage == Self.refusal, "token \(token ?? "none"): \(response.text)")
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
            #expect(try await client.send(.get, "/api/v1/topology").text == #"{"shards":{}}"#)
            #expect(try await client.send(.get, "/api/v1/tasks").text == #"{"tasks":[],"total":0}"#)
            #expect(try await client.send(.get, "/api/v1/config").text == #"{"configs":[]}"#)
        }
    }

    @Test(arguments: writes)
    func aWriteWithTheTokenGoesThrough(route: Route) async throws {
        try await TestNode.run(adminToken: Self.token) { _, client in
            let response = try await client.send(route.method, route.uri, token: Self.token, body: route.body, contentType: route.contentType)
            #expect(response.status == route.answer, "\(response.text)")
        }
    }

    @Test(arguments: writes)
    func withoutAConfiguredTokenWritesAreOpen(route: Route) async throws {
        try await TestNode.run { _, client in
            let response = try await client.send(route.method, route.uri, body: route.body, contentType: route.contentType)
            #expect(response.status == route.answer, "\(response.text)")
        }
    }

    @Test(arguments: reads)
    func readsAndInfluxWritesNeedNoToken(route: Route) async throws {
        try await TestNode.run(adminToken: Self.token) { _, client in
            let response = try await client.send(route.method, route.uri, body: route.body, contentType: route.contentType)
            #expect(response.status == route.answer, "\(response.text)")
        }
    }
}
