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
        router.post("/write") { request, context -> HTTPResponse.Status in
            try await write(request, context: context)
            return .noContent
        }
    }

    /// InfluxDB 1.x `/write`: returns once every sample is durable (answered `204`).
    /// - Throws: `400` with `accepted` and `dropped` naming the first bad line (the good lines
    ///   are still stored: a partial write), or for an unknown precision; `413` past the body
    ///   limit; `500` when the WAL could not take the samples.
    private func write(_ request: Request, context: HyphaRequestContext) async throws(APIError) {
        let precisionName = request.uri.queryParameters.get("precision") ?? "ns"
        guard let precision = InfluxPrecision(query: precisionName) else {
            throw APIError(.badRequest, "invalid precision \(precisionName): use ns, u, ms, s, m or h")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, "request body exceeds \(configuration.maxBodyBytes) bytes")
        }
        let peer = context.remoteAddress?.ipAddress ?? "http"
        let outcome = await ingest.context.writeInflux(body: body, precision: precision, peer: peer)
        if let failure = outcome.failure {
            throw APIError(.internalServerError, "write failed: \(failure)")
        }
        guard let first = outcome.rejects.first else { return }
        let message = "\(outcome.accepted > 0 ? "partial write: " : "")unable to parse line \(first.line) '\(first.text)': \(first.reason) dropped=\(outcome.rejects.count)"
        throw APIError(.badRequest, body: .init(error: message, accepted: outcome.accepted, dropped: outcome.rejects.count))
    }
}
