import Foundation
import PromQL

/// Prints a ``QueryResult`` as a table, CSV or the Prometheus API's JSON.
enum QueryMetricsOutput {
    static func render(_ result: QueryResult, format: QueryMetrics.Format) -> String {
        if format == .json { return PrometheusJSON.success(result) + "\n" }
        var rows: [[String]] = []
        switch result {
        case .scalar(let t, let v): rows.append(["scalar", rfc3339(t), PrometheusFormat.value(v)])
        case .vector(let samples): rows = samples.map { [$0.labels.description, rfc3339($0.timestamp), PrometheusFormat.value($0.value)] }
        case .matrix(let series):
            for s in series { rows += s.points.map { [s.labels.description, rfc3339($0.timestamp), PrometheusFormat.value($0.value)] } }
        }
        let header = ["series", "time", "value"]
        if format == .csv {
            return ([header] + rows).map { $0.map(csv).joined(separator: ",") }.joined(separator: "\n") + "\n"
        }
        let widths = (0 ..< 3).map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { c, cell in c == 2 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    private static func csv(_ cell: String) -> String {
        cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : cell
    }

    private static func rfc3339(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}

/// Reads the Prometheus API's JSON answer back into a ``QueryResult``.
enum PrometheusResponse {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func result(from body: Data) throws -> QueryResult {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw Failure(description: "the server's answer is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        if object["status"] as? String == "error" {
            let kind = PromQLError.Kind(rawValue: object["errorType"] as? String ?? "") ?? .execution
            throw PromQLError(kind, object["error"] as? String ?? "unknown error")
        }
        guard let data = object["data"] as? [String: Any], let type = data["resultType"] as? String else {
            throw Failure(description: "the server's answer has no data.resultType")
        }
        func labels(_ any: Any?) -> Labels { Labels(((any as? [String: String]) ?? [:]).map { ($0.key, $0.value) }) }
        func point(_ any: Any?) -> (timestamp: Int64, value: Double)? {
            guard let pair = any as? [Any], pair.count == 2, let t = (pair[0] as? NSNumber)?.doubleValue, let v = pair[1] as? String else { return nil }
            let value: Double = switch v { case "+Inf": .infinity; case "-Inf": -.infinity; case "NaN": .nan; default: Double(v) ?? .nan }
            return (Int64((t * 1000).rounded()), value)
        }
        switch type {
        case "scalar":
            guard let p = point(data["result"]) else { throw Failure(description: "malformed scalar") }
            return .scalar(timestamp: p.timestamp, value: p.value)
        case "vector":
            let items = data["result"] as? [[String: Any]] ?? []
            return .vector(items.compactMap { item in point(item["value"]).map { InstantSample(labels: labels(item["metric"]), timestamp: $0.timestamp, value: $0.value) } })
        default:
            let items = data["result"] as? [[String: Any]] ?? []
            return .matrix(items.map { RangeSeries(labels: labels($0["metric"]), points: (($0["values"] as? [Any]) ?? []).compactMap(point)) })
        }
    }
}
