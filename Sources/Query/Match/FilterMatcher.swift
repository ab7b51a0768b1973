import Platform

/// A ``LogFilter`` ready to test encoded records: its regular expressions compiled, its
/// values as bytes. It tests a record's bytes where they lie (the payload of a batch),
/// decoding no text: a phrase is a `memmem` over the message bytes.
///
/// Not thread-safe (compiled regular expressions are not): make one per scanning thread.
final class FilterMatcher {
    private indirect enum Node {
        case all
        case and(Node, Node)
        case or(Node, Node)
        case not(Node)
        case contains([UInt8])
        case glob(Field, GlobPattern)
        case regex(Field, POSIXRegex)
        case severity(Comparison, UInt8)
        case facility(Comparison, UInt8)
        case number([UInt8], Comparison, Double)
    }

    private enum Field {
        case host, app, message
        case field([UInt8])
    }

    private let root: Node

    /// Compiles `filter`. Its regular expressions were checked when it was parsed.
    init(_ filter: LogFilter) {
        root = Self.compile(filter.expression)
    }

    /// Whether the log record in `body` (laid out as `layout`) matches.
    @inline(__always)
    func matches(_ body: ByteView, _ layout: LogLayout) -> Bool {
        Self.evaluate(root, body, layout)
    }

    private static func evaluate(_ node: Node, _ body: ByteView, _ layout: LogLayout) -> Bool {
        switch node {
        case .all: return true
        case .and(let a, let b): return evaluate(a, body, layout) && evaluate(b, body, layout)
        case .or(let a, let b): return evaluate(a, body, layout) || evaluate(b, body, layout)
        case .not(let a): return !evaluate(a, body, layout)
        case .contains(let needle): return body[layout.message].firstIndex(of: needle) != nil
        case .glob(let field, let pattern): return test(field, body, layout) { pattern.matches($0) }
        case .regex(let field, let regex): return test(field, body, layout) { regex.matches($0) }
        case .severity(let comparison, let threshold):
            // "As severe as": a lower number is more severe, so the threshold goes first.
            return layout.severity <= 7 && comparison.holds(threshold, layout.severity)
        case .facility(let comparison, let threshold):
            return layout.facility <= 23 && comparison.holds(layout.facility, threshold)
        case .number(let key, let comparison, let threshold):
            return layout.firstField(in: body) { k, v in
                guard bytesEqual(k, key), let number = v.parseDouble() else { return false }
                return comparison.holds(number, threshold)
            }
        }
    }

    /// Whether `test` holds for the field's value (for `field.X`, for any field named X).
    @inline(__always)
    private static func test(_ field: Field, _ body: ByteView, _ layout: LogLayout, _ test: (ByteView) -> Bool) -> Bool {
        switch field {
        case .host: return test(body[layout.host])
        case .app: return test(body[layout.app])
        case .message: return test(body[layout.message])
        case .field(let key): return layout.firstField(in: body) { k, v in bytesEqual(k, key) && test(v) }
        }
    }

    private static func compile(_ expression: FilterExpression) -> Node {
        switch expression {
        case .all: return .all
        case .and(let a, let b): return .and(compile(a), compile(b))
        case .or(let a, let b): return .or(compile(a), compile(b))
        case .not(let a): return .not(compile(a))
        case .contains(let needle): return .contains(needle)
        case .glob(let field, let pattern): return .glob(compile(field), pattern)
        case .regex(let field, let pattern):
            // Checked by RegexDialect when the filter was parsed.
            guard let regex = try? POSIXRegex(pattern) else { return .not(.all) }
            return .regex(compile(field), regex)
        case .level(.severity, let comparison, let value): return .severity(comparison, value)
        case .level(.facility, let comparison, let value): return .facility(comparison, value)
        case .number(let key, let comparison, let value): return .number(Array(key.utf8), comparison, value)
        }
    }

    private static func compile(_ field: TextField) -> Field {
        switch field {
        case .host: .host
        case .app: .app
        case .message: .message
        case .field(let key): .field(Array(key.utf8))
        }
    }
}
