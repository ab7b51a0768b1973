import ArgumentParser
import Foundation
import Query
import WAL

/// `hypha query --server URL`: asks a node's `/api/v1/logs/…` endpoints (docs/query.md) over
/// plain HTTP/1.1 and turns the JSON answers back into the values a local scan returns, so
/// both print the same.
struct RemoteQuery {
    let server: String

    func logs(_ parameters: [(String, String)]) async throws -> [LogMatch] {
        let object = try await get("/api/v1/logs/query", parameters)
        let records = object["records"] as? [[String: Any]] ?? []
        return records.map { r in
            let fields = (r["fields"] as? [String: String] ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            let record = LogRecord(
                timestamp: (r["ts"] as? NSNumber)?.int64Value ?? 0,
                severity: (r["severity"] as? NSNumber)?.uint8Value ?? LogRecord.unknownLevel,
                facility: (r["facility"] as? NSNumber)?.uint8Value ?? LogRecord.unknownLevel,
                host: r["host"] as? String ?? "", app: r["app"] as? String ?? "", message: r["message"] as? String ?? "",
                fields: fields)
            return LogMatch(shard: r["shard"] as? Int ?? 0, sequence: (r["seq"] as? NSNumber)?.uint64Value ?? 0, record: record)
        }
    }

    func top(_ parameters: [(String, String)]) async throws -> TopResult {
        let o = try await get("/api/v1/logs/top", parameters)
        let rows = (o["values"] as? [[String: Any]] ?? []).map {
            TopRow(
                value: $0["value"] as? String ?? "", count: $0["count"] as? Int ?? 0, share: $0["share"] as? Double ?? 0,
                perSecond: $0["perSecond"] as? Double ?? 0)
        }
        return TopResult(
            rows: rows, total: o["total"] as? Int ?? 0, distinct: o["distinct"] as? Int ?? 0,
            windowSeconds: o["windowSeconds"] as? Double ?? 0, statistics: ScanStatistics())
    }

    func histogram(_ parameters: [(String, String)]) async throws -> HistogramResult {
        let o = try await get("/api/v1/logs/histogram", parameters)
        let buckets = (o["buckets"] as? [[String: Any]] ?? []).map {
            HistogramBucket(start: ($0["start"] as? NSNumber)?.int64Value ?? 0, count: $0["count"] as? Int ?? 0)
        }
        return HistogramResult(
            width: (o["width"] as? NSNumber)?.int64Value ?? 1, buckets: buckets, total: o["total"] as? Int ?? 0,
            statistics: ScanStatistics())
    }

    /// GETs `path` with `parameters`; the JSON object answered, or the node's `error` as a
    /// failure of the command.
    private func get(_ path: String, _ parameters: [(String, String)]) async throws -> [String: Any] {
        guard var components = URLComponents(string: server), let host = components.host else {
            throw ValidationError("--server must be a URL such as http://127.0.0.1:7401, not '\(server)'")
        }
        components.path = path
        components.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        // '+' would read as a space on the node's side.
        let target = (components.percentEncodedPath) + "?" + (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let (status, body) = try HTTPGet.fetch(host: host, port: components.port ?? 80, target: target)
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        guard status == 200, let object else {
            let message = object?["error"] as? String ?? String(decoding: body, as: UTF8.self)
            throw QueryFailure(description: "\(server) answered \(status): \(message)")
        }
        return object
    }
}

/// A query the node refused or could not answer.
struct QueryFailure: Error, CustomStringConvertible {
    let description: String
}

/// One HTTP/1.1 GET over a blocking socket, `Connection: close`, body read to the end
/// (de-chunked when the answer is chunked). Enough for the CLI to ask its own node.
enum HTTPGet {
    static func fetch(host: String, port: Int, target: String) throws -> (Int, Data) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, "\(port)", &hints, &list) == 0, let first = list else {
            throw QueryFailure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw QueryFailure(description: "socket failed: errno \(errno)") }
        defer { close(fd) }
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw QueryFailure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        let request = Array("GET \(target) HTTP/1.1\r\nHost: \(host):\(port)\r\nAccept: application/json\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw QueryFailure(description: "send to \(host):\(port) failed: errno \(errno)") }
            sent += n
        }
        var response = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            response.append(contentsOf: chunk[0 ..< n])
        }
        guard let split = response.range(of: Data("\r\n\r\n".utf8)) else {
            throw QueryFailure(description: "\(host):\(port) sent no HTTP answer")
        }
        let head = String(decoding: response[..<split.lowerBound], as: UTF8.self).lowercased()
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var body = Data(response[split.upperBound...])
        if head.contains("transfer-encoding: chunked") { body = dechunked(body) }
        return (status, body)
    }

    private static func dechunked(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let line = rest.range(of: Data("\r\n".utf8)) {
            let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
            guard size > 0, rest.distance(from: line.upperBound, to: rest.endIndex) >= size else { break }
            let start = line.upperBound
            let end = rest.index(start, offsetBy: size)
            out.append(rest[start ..< end])
            rest = rest[rest.index(end, offsetBy: min(2, rest.distance(from: end, to: rest.endIndex)))...]
        }
        return out
    }
}
