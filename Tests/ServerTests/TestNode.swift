import Control
import Foundation
import Ingest
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOEmbedded
@testable import Server
import TestSupport
import WAL
import Wire

/// A node's parts on a temporary data directory, with its HTTP API driven in-process by
/// HummingbirdTesting's router client: no socket is bound.
///
/// Two shards of 1 MiB segments, one ingest thread, `batch` durability (so `POST /write` is answered without the
/// WAL flusher the node's services would run).
struct TestNode: Sendable {
    let parts: NodeParts
    let directory: TemporaryDirectory

    /// Runs `test` against a new node and tears it down afterwards, also when `test` throws.
    /// - Parameters:
    ///   - adminToken: the token mutating routes require, if any.
    ///   - setup: `.router` (in-process, the default) or `.live` (a real server on loopback).
    ///   - configure: changes to the test configuration, applied last; it may write files
    ///     (a rules file, say) into the node's directory.
    ///   - setup: `.router` drives the routes in-process; `.live` serves them on a loopback port.
    static func run<Value: Sendable>(
        adminToken: String? = nil, setup: TestingSetup = .router, configure: (inout ServeConfiguration, TemporaryDirectory) throws -> Void = { _, _ in },
        _ test: @Sendable (TestNode, any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let directory = TemporaryDirectory("hypha-http")
        defer { directory.remove() }
        var configuration = ServeConfiguration()
        configuration.dataDirectory = directory.file("data")
        configuration.httpPort = nil
        configuration.threads = 1
        configuration.wal.shardCount = 2
        configuration.wal.segmentSize = 1 << 20
        configuration.wal.durability = .batch
        configuration.adminToken = adminToken
        try configure(&configuration, directory)
        let node = TestNode(parts: try NodeParts(configuration, logger: quietLogger), directory: directory)
        let application = Application(router: node.parts.router(), logger: quietLogger)
        do {
            let value = try await application.test(setup) { client in try await test(node, client) }
            try await node.shutDown()
            return value
        } catch {
            try? await node.shutDown()
            throw error
        }
    }

    /// Stops what the parts started (in the order the node's services stop them) and closes
    /// the WAL.
    private func shutDown() async throws {
        try await parts.ingest.shutdown()
        try await parts.ingest.group.shutdownGracefully()
        parts.alerts.shutdown()
        parts.coordinator.stop()
        try parts.wal.close()
    }

    /// Makes `id` known to the registry (as its native HELLO would) and online for the control
    /// plane, which then pushes it configuration and places tasks on it. The frames it is sent
    /// stay in a testing channel.
    func connectDaemon(_ id: String, labels: [String: String] = [:]) async throws {
        let hello = NativeHello(daemonID: id, labels: labels, agentVersion: "test")
        parts.control.registry.daemonConnected(hello: hello, peer: "127.0.0.1:50000")
        parts.coordinator.sessionOpened(DaemonSession(hello: hello, channel: NIOAsyncTestingChannel()))
        // The control loop takes events in order: the session is open before this request runs.
        guard try await parts.coordinator.perform({ $0.online[id] != nil }) else { throw TestNodeError("daemon \(id) is not online") }
    }
}

/// A test node that could not be set up as asked.
struct TestNodeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension TestClientProtocol {
    /// Sends one request; `token` goes in `Authorization: Bearer`.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: String? = nil, contentType: String? = nil
    ) async throws -> TestResponse {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let contentType { headers[.contentType] = contentType }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    /// The body as text.
    var text: String { String(buffer: body) }

    /// The body decoded from JSON.
    func decoded<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    /// The `error` of an error body (`{"error": "…"}`), or nil when there is none.
    var errorMessage: String? { (try? decoded(ErrorReply.self))?.error }
}

/// The error body every route answers with (docs/api.md): `{"error": "…"}`, with `kept` for a
/// refused rules reload and `accepted`/`dropped` for a partial `/write`.
struct ErrorReply: Decodable, Equatable {
    var error: String
    var kept: String?
    var accepted: Int?
    var dropped: Int?
}
