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
