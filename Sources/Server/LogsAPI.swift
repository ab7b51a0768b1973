import Hummingbird
import NIOCore
import Platform
import Query
import Synchronization

/// The log query part of the HTTP API (docs/query.md, "HTTP API"): `GET /api/v1/logs/query`,
/// `/api/v1/logs/top` and `/api/v1/logs/histogram`, over the live WAL.
///
/// Scans run on threads of their own at nice 10 (``LogScanner``), never on the event loop; at
/// most `query.concurrency` at once (more: `503` with `Retry-After: 1`), each bounded in
/// time (`503`), rows (`422`) and answer bytes (`413`); a filter or time that does not parse
/// is a `400` naming the column.
struct LogsAPI: Sendable {
    let scanner: LogScanner
    let limits: QueryLimits
    let gate: QueryGate

    init(dataDirectory: String, limits: QueryLimits) {
        scanner = LogScanner(dataDirectory: dataDirectory, threads: limits.threads, niceness: 10, timeLimit: limits.timeout)
        self.limits = limits
        gate = QueryGate(limit: limits.concurrency)
    }

    func add(to router: Router<HyphaRequestContext>) {
        router.get("/api/v1/logs/query") { request, _ -> Response in
            let parameters = request.uri.queryParameters
            let query = try logQuery(parameters)
            let limit = try integer(parameters.get("limit"), name: "limit", default: 100)
            guard limit <= limits.maxRows else {
                throw APIError(.unprocessableContent, "limit \(limit) is more than query.max_rows (\(limits.maxRows)) allows")
            }
            let order: LogOrder = try flag(parameters.get("reverse"), name: "reverse") ? .oldestFirst : .newestFirst
            let result = try await run { try await scanner.search(query, order: order, limit: limit) }
            return try answer(QueryJSON.search(result))
        }
        router.get("/api/v1/logs/top") { request, _ -> Response in
            let parameters = request.uri.queryParameters
            let by = parameters.get("by") ?? ""
            guard let field = TopField(by) else {
                throw APIError(.badRequest, "by must be host, app, severity or field.NAME, not '\(by)'")
            }
            let limit = try integer(parameters.get("limit"), name: "limit", default: 10)
            guard limit <= limits.maxRows else {
                throw APIError(.unprocessableContent, "limit \(limit) is more than query.max_rows (\(limits.maxRows)) allows")
            }
            let query = try logQuery(parameters)
            let result = try await run { try await scanner.top(query, by: field, limit: limit) }
            return try answer(QueryJSON.top(result, by: by))
        }
        router.get("/api/v1/logs/histogram") { request, _ -> Response in
            let parameters = request.uri.queryParameters
            let buckets: HistogramBuckets
            if let width = parameters.get("bucket") {
                guard let ns = try? QueryTime.parse("-" + width, now: 0), ns < 0 else {
                    throw APIError(.badRequest, "bucket must be a number and s, m, h or d (30s, 1m), not '\(width)'")
                }
                buckets = .width(-ns)
            } else {
                let count = try integer(parameters.get("buckets"), name: "buckets", default: 30)
                guard (1 ... 10_000).contains(count) else { throw APIError(.badRequest, "buckets must be between 1 and 10000") }
                buckets = .count(count)
            }
            let query = try logQuery(parameters)
            let result = try await run { try await scanner.histogram(query, buckets: buckets, maxBuckets: limits.maxRows) }
            return try answer(QueryJSON.histogram(result))
        }
    }

    /// The filter and time range of a request: `query`, `from` (default: the beginning),
    /// `to` (default: now).
    private func logQuery(_ parameters: Parameters) throws(APIError) -> LogQuery {
        let now = WallClock.nanoseconds()
        let filter: LogFilter
        do { filter = try LogFilter(parameters.get("query") ?? "") } catch {
            throw APIError(.badRequest, "query: \(error)")
        }
        do {
            let from = try parameters.get("from").map { text throws(QueryTimeError) in try QueryTime.parse(text, now: now) }
            let to = try parameters.get("to").map { text throws(QueryTimeError) in try QueryTime.parse(text, now: now) }
            return LogQuery(filter: filter, from: from ?? .min, to: to ?? now)
        } catch {
            throw APIError(.badRequest, "\(error)")
        }
    }

    /// Runs `scan` through the gate, turning query failures into answers.
    private func run<T>(_ scan: () async throws -> T) async throws(APIError) -> T {
        guard gate.enter() else {
            var error = APIError(.serviceUnavailable, "\(limits.concurrency) log queries are running (query.concurrency): try again shortly")
            error.retryAfter = 1
            throw error
        }
        defer { gate.leave() }
        do {
            return try await scan()
        } catch let error as LogQueryError {
            switch error.code {
            case .timeLimit: throw APIError(.serviceUnavailable, "\(error.message) (query.timeout_s): narrow the time range or the filter")
            case .sizeLimit: throw APIError(.unprocessableContent, error.message)
            default: throw APIError(.internalServerError, error.message)
            }
        } catch {
            throw APIError(.internalServerError, "\(error)")
        }
    }

    private func answer(_ json: String) throws(APIError) -> Response {
        let size = json.utf8.count
        guard size <= limits.maxResponseBytes else {
            throw APIError(
                .contentTooLarge,
                "the answer is \(size) bytes, more than query.response_mib allows (\(limits.maxResponseBytes)): lower the limit or narrow the query")
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    private func integer(_ text: String?, name: String, default value: Int) throws(APIError) -> Int {
        guard let text else { return value }
        guard let n = Int(text), n >= 0 else { throw APIError(.badRequest, "\(name) must be a whole number, 0 or more, not '\(text)'") }
        return n
    }

    private func flag(_ text: String?, name: String) throws(APIError) -> Bool {
        switch text {
        case nil, "false", "0": return false
        case "", "true", "1": return true
        case let other?: throw APIError(.badRequest, "\(name) must be true or false, not '\(other)'")
        }
    }
}

/// Admits at most `limit` queries at once; the rest are refused at once (the caller answers
/// 503), so queries queue in their clients, never in the node.
///
/// Thread-safe.
final class QueryGate: Sendable {
    private let running = Mutex(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Takes a place, or returns `false` when every place is taken.
    func enter() -> Bool {
        running.withLock { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
    }

    /// Gives a place back.
    func leave() { running.withLock { $0 -= 1 } }

    /// Queries running now.
    var count: Int { running.withLock { $0 } }
}
