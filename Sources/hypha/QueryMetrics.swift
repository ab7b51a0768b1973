import ArgumentParser
import Foundation
import Platform
import PromQL

/// `hypha query-metrics` (to become `hypha query metrics`): a PromQL query over a data
/// directory, offline, or through a node's Prometheus API.
struct QueryMetrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Evaluate a PromQL query over the stored metric samples and print the result.",
        discussion: """
            The supported subset and how sample names and labels map to series are in \
            docs/promql.md. Without --from/--to the query is an instant query at --time (default \
            now); with them, a range query every --step. Times: RFC 3339, Unix seconds, now, or \
            relative (-15m, now-2h). With --server the query goes to a node's /api/v1/query or \
            /api/v1/query_range; otherwise the data directory's WAL is read directly (it may be \
            in use by a running node).
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, csv }

    @Argument(help: "The PromQL expression, e.g. 'sum by (host) (rate(m[5m]))'.") var query: String
    @Option(help: "The data directory to read (when no --server is given).") var data: String = "hypha-data"
    @Option(help: "A node's HTTP API, e.g. http://127.0.0.1:7401.") var server: String?
    @Option(help: "Instant query time (default now).") var time: String?
    @Option(help: "Range query start.") var from: String?
    @Option(help: "Range query end (default now).") var to: String?
    @Option(help: "Range query step: seconds or a duration (default 60s).") var step: String = "60s"
    @Option(help: "Output: table, json (the Prometheus API's body) or csv.") var format: Format = .table

    func run() throws {
        let now = WallClock.nanoseconds() / 1_000_000
        func time(_ text: String?, _ name: String, default fallback: Int64) throws -> Int64 {
            guard let text else { return fallback }
            guard let t = QueryTime.parse(text, nowMilliseconds: now) else { throw ValidationError("cannot read --\(name) '\(text)' as a time") }
            return t
        }
        let isRange = from != nil || to != nil
        let start = try time(from, "from", default: now - 3_600_000)
        let end = try time(to, "to", default: now)
        let at = try time(self.time, "time", default: now)
        guard let stepMilliseconds = QueryTime.duration(step) else { throw ValidationError("cannot read --step '\(step)' as a duration") }
        let result: QueryResult
        do {
            if let server {
                result = try Self.remote(server, query: query, range: isRange ? (start, end, stepMilliseconds) : nil, at: at)
            } else {
                let engine = MetricsQueryEngine(dataDirectory: data)
                result = isRange
                    ? try engine.rangeQuery(query, start: start, end: end, step: stepMilliseconds) : try engine.instantQuery(query, at: at)
            }
        } catch let error as PromQLError {
            FileHandle.standardError.write(Data("error (\(error.kind.rawValue)): \(error.message)\n".utf8))
            throw ExitCode(1)
        }
        print(QueryMetricsOutput.render(result, format: format), terminator: "")
    }

    /// Asks a node's API and reads its answer back into a result.
    static func remote(_ server: String, query: String, range: (Int64, Int64, Int64)?, at: Int64) throws -> QueryResult {
        var parameters = [("query", query)]
        if let (start, end, step) = range {
            parameters += [("start", PrometheusFormat.time(start)), ("end", PrometheusFormat.time(end)), ("step", PrometheusFormat.time(step))]
        } else {
            parameters.append(("time", PrometheusFormat.time(at)))
        }
        let path = range == nil ? "/api/v1/query" : "/api/v1/query_range"
        guard var components = URLComponents(string: server), let host = components.host else {
            throw ValidationError("--server must be a URL such as http://127.0.0.1:7401, not '\(server)'")
        }
        components.path = path
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = parameters.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        let (_, body) = try HTTPGet.fetch(host: host, port: components.port ?? 80, target: components.percentEncodedPath + "?" + query)
        return try PrometheusResponse.result(from: body)
    }
}
