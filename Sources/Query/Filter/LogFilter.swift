public import WAL
import Platform

/// A parsed filter over log records: the one small language of `hypha query`, `hypha query
/// top`/`histogram` and the `/api/v1/logs/…` endpoints (docs/query.md has the grammar).
///
/// ```text
/// host:web-01 severity>=warning "connection reset"
/// (app:nginx or app:haproxy) and field.status:5* and not host:canary-*
/// ~"timeout after \d+ms"
/// ```
///
/// - Adjacent terms are joined by `and`; `not` binds tightest, then `and`, then `or`.
/// - A bare word or a quoted phrase is a **case-sensitive substring of the message**.
/// - `severity` compares by how severe: lower numbers are more severe (0 emerg … 7 debug), so
///   `severity>=warning` means warning **or worse** (err, crit, …) and `severity<warning`
///   means notice, info or debug. Records without a severity match no severity term.
/// - `host:`, `app:`, `message:` and `field.NAME:` compare the whole value, with `*`
///   wildcards; `field.NAME>=500` compares numbers; `~"re"` and `NAME~"re"` are POSIX
///   extended regular expressions with `\d`, `\w`, `\s` (``RegexDialect``).
/// - The empty filter matches every log record.
///
/// A value, freely shared between threads; matching happens in ``FilterMatcher``, one per
/// scanning thread.
public struct LogFilter: Sendable, Equatable, CustomStringConvertible {
    /// The filter as written.
    public let source: String
    let expression: FilterExpression

    /// Parses `text`.
    /// - Throws: ``FilterSyntaxError`` with the column of the first problem.
    public init(_ text: String) throws(FilterSyntaxError) {
        var parser = try FilterParser(text)
        expression = try parser.parse()
        source = text
    }

    /// The filter that matches every log record.
    public static let all = LogFilter(source: "", expression: .all)

    private init(source: String, expression: FilterExpression) {
        self.source = source
        self.expression = expression
    }

    /// Whether the filter is empty (it matches every log record).
    public var matchesEverything: Bool { expression == .all }

    /// The filter as written.
    public var description: String { source }

    public static func == (a: LogFilter, b: LogFilter) -> Bool { a.expression == b.expression }

    /// Whether `record` matches: encodes it and tests its bytes the way a scan does. For tests
    /// and edges; scans test records in place.
    public func matches(_ record: LogRecord) -> Bool {
        var bytes: [UInt8] = []
        RecordEncoder.append(record, to: &bytes)
        let matcher = FilterMatcher(self)
        return ByteView.with(bytes) { all in
            var reader = ByteReader(all)
            guard let length = reader.varint() else { return false }
            let body = all[reader.offset ..< reader.offset + Int(length)]
            guard let layout = LogLayout.parse(body) else { return false }
            return matcher.matches(body, layout)
        }
    }
}
