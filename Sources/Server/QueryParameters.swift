import Hummingbird
import NIOCore
import PromQL

/// The parameters of a Prometheus API request, as Prometheus reads them: the form body of a
/// `POST` (`application/x-www-form-urlencoded`) first, then the URL's query string, each
/// `+`-as-space and percent-decoded; a name may repeat (`match[]`).
struct QueryParameters: Sendable {
    private var pairs: [(String, String)] = []

    /// Reads the URL's query and, for a form POST, the body (up to `maxBodyBytes`).
    static func read(_ request: Request, maxBodyBytes: Int) async throws(PromQLError) -> QueryParameters {
        var parameters = QueryParameters()
        if request.method == .post, request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: maxBodyBytes)
            } catch {
                throw PromQLError(.badData, "request body exceeds \(maxBodyBytes) bytes")
            }
            parameters.add(String(buffer: body))
        }
        parameters.add(request.uri.query ?? "")
        return parameters
    }

    mutating func add(_ encoded: String) {
        for part in encoded.split(separator: "&") where !part.isEmpty {
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            pairs.append((Self.decode(kv[0]), kv.count > 1 ? Self.decode(kv[1]) : ""))
        }
    }

    /// The first value of `name`, `nil` when absent or empty.
    subscript(name: String) -> String? {
        pairs.first { $0.0 == name && !$0.1.isEmpty }?.1
    }

    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }

    /// `name` as a time (ms), `default` when absent.
    func time(_ name: String, default fallback: Int64, now: Int64) throws(PromQLError) -> Int64 {
        guard let text = self[name] else { return fallback }
        guard let t = QueryTime.parse(text, nowMilliseconds: now) else {
            throw PromQLError(.badData, "invalid parameter \"\(name)\": cannot parse \"\(text)\" to a valid timestamp")
        }
        return t
    }

    private static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let b = utf8.popFirst() {
            if b == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if b == UInt8(ascii: "%"), utf8.count >= 2, let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
