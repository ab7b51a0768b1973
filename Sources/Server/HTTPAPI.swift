import Control
import WAL
import Hummingbird
import Ingest
import NIOCore

/// The ingest part of the HTTP API: `/metrics` and `POST /write` (Influx 1.x).
struct HTTPAPI: Sendable {
    let ingest: IngestServer
    let wal: WriteAheadLog
    let configuration: ServeConfiguration
    let alerts: AlertsRuntime
    let coordinator: ControlCoordinator

    func add(to router: Router<HyphaRequestContext>) {
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: MetricsExposition.render(ingest: ingest, wal: wal, alerts: alerts, coordinator: coordinator))))
        }
        router.post("/write") { request, context -> Response in
            try await write(request, context: context)
        }
    }

    /// InfluxDB 1.x `/write`: 204 once every sample is durable; 400 with a JSON error naming the
    /// first bad line (the good lines are still stored: a partial write); 413 past the body limit.
    private func write(_ request: Request, context: HyphaRequestContext) async throws -> Response {
        let precisionName = request.uri.queryParameters.get("precision") ?? "ns"
        guard let precision = InfluxPrecision(query: precisionName) else {
            return json(.badRequest, errorBody("invalid precision \(precisionName): use ns, u, ms, s, m or h"))
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            return json(.contentTooLarge, #"{"error":"request body exceeds \#(configuration.maxBodyBytes) bytes"}"#)
        }
        let peer = context.remoteAddress?.ipAddress ?? "http"
        let outcome = await ingest.context.writeInflux(body: body, precision: precision, peer: peer)
        if let failure = outcome.failure {
            return json(.internalServerError, errorBody("write failed: \(failure)"))
        }
        guard let first = outcome.rejects.first else { return Response(status: .noContent) }
        let message = "\(outcome.accepted > 0 ? "partial write: " : "")unable to parse line \(first.line) '\(first.text)': \(first.reason) dropped=\(outcome.rejects.count)"
        return json(.badRequest, "{\"error\":\(RecordJSON.quoted(message)),\"accepted\":\(outcome.accepted),\"dropped\":\(outcome.rejects.count)}")
    }

}

/// The request context of Hypha's HTTP API: Hummingbird's core context plus the peer address.
struct HyphaRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
