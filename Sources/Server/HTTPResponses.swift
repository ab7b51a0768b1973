import WAL
import Control
import Foundation
import Hummingbird
import Ingest
import NIOCore

// The pieces every JSON endpoint of the HTTP API shares: bodies and errors.

func encode(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
}

/// A request body that cannot be used, with the reason.
struct RequestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A short account of a JSON decoding error: which field, what was wrong.
func describe(_ error: any Error) -> String {
    switch error as? DecodingError {
    case .keyNotFound(let key, let context)?:
        return "missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'"
    case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
        return "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
    case .dataCorrupted(let context)?:
        return context.codingPath.isEmpty ? "not valid JSON" : "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))': \(context.debugDescription)"
    default:
        return "\(error)"
    }
}

/// The answer to a request the task or configuration book refused.
func refusal(_ failure: ControlRequestFailure, _ message: String) -> Response {
    let status: HTTPResponse.Status = switch failure {
    case .invalid: .badRequest
    case .notFound: .notFound
    case .conflict: .conflict
    case .limit: .tooManyRequests
    }
    return json(status, errorBody(message))
}

func errorBody(_ message: String) -> String { "{\"error\":\(RecordJSON.quoted(message))}" }
