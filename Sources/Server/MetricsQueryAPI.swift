import Hummingbird
import NIOCore
import Platform
import PromQL

/// The read side of the Prometheus HTTP API (docs/promql.md, docs/api.md): instant and range
/// queries, series, label names and values, over the WAL's metric samples, answered in
/// Prometheus' own JSON so that promtool and Grafana's Prometheus data source can use them.
///
/// Every route takes `GET` with a query string or `POST` with a form body. Queries run on the
/// ``QueryRunner``'s threads under the node's query limits; a failure answers
/// `{"status":"error","errorType":…,"error":…}` with 400 (`bad_data`), 422 (`execution`) or
/// 503 (`timeout`). None of these routes changes anything, so none is behind the admin token.
struct MetricsQueryAPI: Sendable {
    let engine: MetricsQueryEngine
    let runner: QueryRunner
    let maxBodyBytes: Int

    func add(to router: Router<HyphaRequestContext>) {
        for path in ["/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/label/{name}/values"] {
            let route: @Sendable (Request, HyphaRequestContext) async throws -> Response = { request, context in
                await answer(path: path, request: request, context: context)
            }
            router.get(RouterPath(path), use: route)
            router.post(RouterPath(path), use: route)
        }
    }

    private func answer(path: String, request: Request, context: HyphaRequestContext) async -> Response {
        do throws(PromQLError) {
            let parameters = try await QueryParameters.read(request, maxBodyBytes: maxBodyBytes)
            let now = WallClock.nanoseconds() / 1_000_000
            let engine = self.engine
            let body: String
            switch path {
            case "/api/v1/query":
                let query = try Self.required("query", parameters)
                let time = try parameters.time("time", default: now, now: now)
                body = PrometheusJSON.success(try await runner.run { () throws(PromQLError) -> QueryResult in try engine.instantQuery(query, at: time) })
            case "/api/v1/query_range":
                let query = try Self.required("query", parameters)
                let start = try parameters.time("start", default: .min, now: now)
                let end = try parameters.time("end", default: .min, now: now)
                guard start != .min, end != .min else { throw PromQLError(.badData, "invalid parameter \"start\"/\"end\": both are required") }
                let stepText = try Self.required("step", parameters)
                guard let step = QueryTime.duration(stepText) else {
                    throw PromQLError(.badData, "invalid parameter \"step\": cannot parse \"\(stepText)\" to a valid duration")
                }
                body = PrometheusJSON.success(try await runner.run { () throws(PromQLError) -> QueryResult in
                    try engine.rangeQuery(query, start: start, end: end, step: step)
                })
            case "/api/v1/series":
                let (selectors, start, end) = try Self.matchRange(parameters, now: now)
                body = PrometheusJSON.success(series: try await runner.run { () throws(PromQLError) -> [Labels] in
                    try engine.series(matching: selectors, start: start, end: end)
                })
            case "/api/v1/labels":
                let (selectors, start, end) = try Self.matchRange(parameters, now: now)
                body = PrometheusJSON.success(strings: try await runner.run { () throws(PromQLError) -> [String] in
                    try engine.labelNames(matching: selectors, start: start, end: end)
                })
            default:
                let name = context.parameters.get("name") ?? ""
                let (selectors, start, end) = try Self.matchRange(parameters, now: now)
                body = PrometheusJSON.success(strings: try await runner.run { () throws(PromQLError) -> [String] in
                    try engine.labelValues(name, matching: selectors, start: start, end: end)
                })
            }
            return Self.response(.ok, body)
        } catch {
            let status: HTTPResponse.Status = switch error.kind {
            case .badData: .badRequest
            case .execution: .unprocessableContent
            case .timeout: .serviceUnavailable
            }
            return Self.response(status, PrometheusJSON.failure(error))
        }
    }

    private static func required(_ name: String, _ parameters: QueryParameters) throws(PromQLError) -> String {
        guard let value = parameters[name] else { throw PromQLError(.badData, "invalid parameter \"\(name)\": parameter is missing") }
        return value
    }

    /// `match[]`, `start` and `end` (default: all time) of the series and label routes.
    private static func matchRange(_ parameters: QueryParameters, now: Int64) throws(PromQLError) -> ([String], Int64, Int64) {
        let start = try parameters.time("start", default: 0, now: now)
        let end = try parameters.time("end", default: Int64.max / 1_000_000 - 1, now: now)
        return (parameters.all("match[]").filter { !$0.isEmpty }, start, end)
    }

    private static func response(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
