extension DecodingError {
    /// The field the error is about, as a path into the JSON body (`tasks[3].kind`,
    /// `selector.labels`); empty for the body itself.
    var field: String {
        switch self {
        case .keyNotFound(let key, let context): Self.path(context.codingPath + [key])
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): Self.path(context.codingPath)
        @unknown default: ""
        }
    }

    /// What is wrong with ``field``: `missing`, or the decoder's account of it (a wrong type,
    /// a value that is none of the allowed ones).
    var problem: String {
        switch self {
        case .keyNotFound: "missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): context.debugDescription
        @unknown default: "\(self)"
        }
    }

    /// Keys joined with dots, array positions in brackets: `tasks[3].kind`.
    private static func path(_ keys: [any CodingKey]) -> String {
        var path = ""
        for key in keys {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += (path.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return path
    }
}

/// A short account of why a JSON body could not be decoded: `missing field 'selector.region'`,
/// `field 'kind': …`, or `not valid JSON`.
func describe(_ error: any Error) -> String {
    guard let error = error as? DecodingError else { return "\(error)" }
    switch error {
    case .keyNotFound: return "missing field '\(error.field)'"
    case .dataCorrupted where error.field.isEmpty: return "not valid JSON"
    default: return "field '\(error.field)': \(error.problem)"
    }
}
