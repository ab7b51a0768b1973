import Query
import Testing

@Suite struct QueryTimeTests {
    static let now: Int64 = 1_796_198_131_000_000_000  // 2026-12-02T07:55:31Z

    static let cases: [(String, Int64)] = [
        ("now", now),
        ("now-2h", now - 7_200_000_000_000),
        ("-15m", now - 900_000_000_000),
        ("now+30s", now + 30_000_000_000),
        ("-1d", now - 86_400_000_000_000),
        ("-250ms", now - 250_000_000),
        ("2026-12-02T07:55:31Z", now),
        ("2026-12-02t07:55:31z", now),
        ("2026-12-02 07:55:31Z", now),
        ("2026-12-02T07:55:31.123Z", now + 123_000_000),
        ("2026-12-02T07:55:31.123456789Z", now + 123_456_789),
        ("2026-12-02T09:55:31+02:00", now),
        ("2026-12-02T02:25:31.5-05:30", now + 500_000_000),
        ("2026-12-02", now - (7 * 3600 + 55 * 60 + 31) * 1_000_000_000),
        ("1796198131000000000", now),
    ]

    @Test(arguments: cases)
    func parses(text: String, expected: Int64) throws {
        let produced = try QueryTime.parse(text, now: Self.now)
        #expect(produced == expected, "\(text): produced \(produced), expected \(expected)")
    }

    @Test(arguments: ["", "yesterday", "now-2", "now-2w", "-m", "2026-13-01", "2026-12-02T07:55Z", "2026-12-02T07:55:31", "2026-12-02T07:55:31+2"])
    func refuses(text: String) {
        #expect(throws: QueryTimeError.self, "\(text)") { try QueryTime.parse(text, now: Self.now) }
    }
}
