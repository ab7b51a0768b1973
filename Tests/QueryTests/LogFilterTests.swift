import Query
import Testing
import WAL

/// Each filter operator against records, and the parse errors with their columns.
@Suite struct LogFilterTests {
    static let nginx = LogRecord(
        timestamp: 1, severity: 4, facility: 16, host: "web-01", app: "nginx",
        message: "GET /api/users 503 connection reset by peer after timeout after 250ms",
        fields: [("status", "503"), ("path", "/api/users"), ("bytes", "1200")])
    static let postgres = LogRecord(
        timestamp: 2, severity: 6, facility: 3, host: "db-1", app: "postgres", message: "checkpoint complete",
        fields: [("status", "200")])
    static let bare = LogRecord(timestamp: 3, host: "edge", app: "sshd", message: "Accepted publickey for root")

    static let cases: [(String, [Bool])] = [
        // filter, matches (nginx, postgres, bare)
        ("", [true, true, true]),
        ("host:web-01", [true, false, false]),
        ("host=web-01", [true, false, false]),
        ("host:web-*", [true, false, false]),
        ("host:*-1", [false, true, false]),
        ("host:web", [false, false, false]),
        ("app:nginx", [true, false, false]),
        ("severity>=warning", [true, false, false]),
        ("severity>=info", [true, true, false]),
        ("severity<warning", [false, true, false]),
        ("severity<=warn", [true, true, false]),
        ("severity>err", [false, false, false]),
        ("severity:4", [true, false, false]),
        ("severity=info", [false, true, false]),
        ("facility:3", [false, true, false]),
        ("facility>=10", [true, false, false]),
        ("field.status:5*", [true, false, false]),
        ("field.status:?*", [false, false, false]),
        ("field.status:*", [true, true, false]),
        ("field.status>=500", [true, false, false]),
        ("field.status<300", [false, true, false]),
        ("field.path:\"/api/*\"", [true, false, false]),
        ("field.missing:*", [false, false, false]),
        ("not field.status:*", [false, false, true]),
        ("checkpoint", [false, true, false]),
        ("Checkpoint", [false, false, false]),
        ("\"connection reset\"", [true, false, false]),
        ("\"reset connection\"", [false, false, false]),
        ("~\"timeout after \\d+ms\"", [true, false, false]),
        ("~\"^GET \"", [true, false, false]),
        ("~\"[[:upper:]]ccepted\"", [false, false, true]),
        ("~\"\\w+ complete$\"", [false, true, false]),
        ("host~\"^(web|db)-\"", [true, true, false]),
        ("field.path~\"^/api\"", [true, false, false]),
        ("message:GET*", [true, false, false]),
        ("host:web-01 app:nginx", [true, false, false]),
        ("host:web-01 and app:postgres", [false, false, false]),
        ("host:web-01 or app:postgres", [true, true, false]),
        ("not host:web-01", [false, true, true]),
        ("NOT host:web-01 AND NOT app:postgres", [false, false, true]),
        ("host:edge or host:db-1 app:postgres", [false, true, true]),
        ("(host:edge or host:db-1) app:postgres", [false, true, false]),
        ("not (host:edge or host:db-1)", [true, false, false]),
        ("not not app:sshd", [false, false, true]),
        ("12:30", [false, false, false]),
    ]

    @Test(arguments: cases)
    func operatorMatches(filter: String, expected: [Bool]) throws {
        let parsed = try LogFilter(filter)
        let produced = [Self.nginx, Self.postgres, Self.bare].map(parsed.matches)
        #expect(produced == expected, "\(filter): produced \(produced), expected \(expected)")
    }

    static let errors: [(String, Int, String)] = [
        ("(host:web-01 or app:nginx", 26, "expected ')' to close the '(' at column 1"),
        ("host:web-01 )", 13, "unexpected ')'"),
        ("host:web-01 and", 16, "expected a term after 'and'"),
        ("or app:nginx", 1, "expected a term, found 'or'"),
        ("status:500", 1, "unknown field 'status'"),
        ("severity>=warnx", 11, "unknown severity 'warnx'"),
        ("host:", 6, "expected a value after 'host:'"),
        ("\"unterminated", 1, "unterminated quoted string"),
        ("~timeout", 2, "expected a quoted regular expression after '~'"),
        ("~\"(unclosed\"", 3, "invalid regular expression"),
        ("host>web", 5, "compares numbers and severities"),
        ("field.status>=abc", 15, "'>=' compares numbers"),
        ("facility:99", 10, "facility must be a number from 0 to 23"),
        ("app:x ()", 8, "expected a term inside"),
    ]

    @Test(arguments: errors)
    func parseErrorsPointAtTheColumn(filter: String, column: Int, message: String) {
        do {
            let parsed = try LogFilter(filter)
            Issue.record("\(filter) parsed as \(parsed)")
        } catch {
            #expect(error.column == column, "\(filter): column \(error.column), expected \(column) (\(error))")
            #expect(error.message.contains(message), "\(filter): \(error.message), expected to contain \(message)")
            #expect(error.description.hasPrefix("column \(error.column): "))
        }
    }

    @Test func globsEscapeStarsAndBackslashes() throws {
        let record = LogRecord(timestamp: 1, host: "a*b", app: "x\\y", message: "m")
        #expect(try LogFilter("host:a\\*b").matches(record))
        #expect(try !LogFilter("host:a\\*b").matches(LogRecord(timestamp: 1, host: "axxb", app: "", message: "")))
        #expect(try LogFilter("host:a*b").matches(LogRecord(timestamp: 1, host: "axxb", app: "", message: "")))
        #expect(try LogFilter("app:\"x\\\\y\"").matches(record))
        #expect(try LogFilter("host:**").matches(record))
        #expect(try LogFilter("host:a**b").matches(record))
        #expect(try !LogFilter("host:ab*ab").matches(LogRecord(timestamp: 1, host: "ab", app: "", message: "")))
    }
}
