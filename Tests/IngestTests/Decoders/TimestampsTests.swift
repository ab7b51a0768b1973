import Ingest
import Platform
import WAL
import Testing

@Suite struct TimestampsDecoderTests {
    typealias H = DecoderHarness

    struct Good: Sendable, CustomTestStringConvertible {
        let text: String
        let expected: Int64
        var testDescription: String { text }
    }

    static let goodRFC3339: [Good] = [
        Good(text: "1970-01-01T00:00:00Z", expected: 0),
        Good(text: "1969-12-31T23:59:59.999999999Z", expected: -1),
        Good(text: "2026-11-21T10:00:00.123456+01:00", expected: H.utc(2026, 11, 21, 9, ns: 123_456_000)),
        Good(text: "2026-11-21t10:00:00z", expected: H.utc(2026, 11, 21, 10)),
        Good(text: "2026-11-21 10:00:00Z", expected: H.utc(2026, 11, 21, 10)),
        Good(text: "2026-11-21T10:00:00.5Z", expected: H.utc(2026, 11, 21, 10, ns: 500_000_000)),
        Good(text: "2026-11-21T10:00:00.000000001Z", expected: H.utc(2026, 11, 21, 10, ns: 1)),
        Good(text: "2026-11-21T04:30:00-05:30", expected: H.utc(2026, 11, 21, 10)),
        Good(text: "2026-01-01T00:30:00+01:00", expected: H.utc(2025, 12, 31, 23, 30)),
        Good(text: "2024-02-29T12:00:00Z", expected: H.utc(2024, 2, 29, 12)),
        Good(text: "2000-02-29T00:00:00-00:00", expected: H.utc(2000, 2, 29)),
        Good(text: "2016-12-31T23:59:60Z", expected: H.utc(2017, 1, 1)),
        Good(text: "2262-04-11T23:47:16.854775807Z", expected: Int64.max),
    ]

    @Test(arguments: goodRFC3339)
    func parsesRFC3339(_ c: Good) {
        let got = ByteView.with(c.text) { Timestamps.parseRFC3339($0) }
        #expect(got == c.expected, "\(c.text): got \(String(describing: got)), want \(c.expected)")
    }

    static let badRFC3339: [String] = [
        "", "2026-11-21", "2026-11-21T10:00:00", "2026-11-21T10:00:00+0100", "2026-11-21T10:00:00 Z",
        "2026-11-21T10:00Z", "2026-11-21X10:00:00Z", "2026/11/21T10:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z", "2026-11-31T00:00:00Z", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
        "2026-11-21T24:00:00Z", "2026-11-21T10:60:00Z", "2026-11-21T10:00:61Z", "2026-11-21T10:00:00.Z",
        "2026-11-21T10:00:00.1234567890Z", "2026-11-21T10:00:00+24:00", "2026-11-21T10:00:00+01:60",
        "2026-11-21T10:00:00Zjunk", "2026-11-21T10:00:00+01:00 ", "２026-11-21T10:00:00Z", "2262-04-11T23:47:17Z",
        "1600-01-01T00:00:00Z", "+2026-11-21T10:00:00Z", "2026-1-21T10:00:00Z",
    ]

    @Test(arguments: badRFC3339)
    func rejectsMalformedRFC3339(_ text: String) {
        let got = ByteView.with(text) { Timestamps.parseRFC3339($0) }
        #expect(got == nil, "\(text.debugDescription): got \(String(describing: got)), want nil")
    }

    @Test func rfc3339RoundTripsRecordJSONFormatting() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0 ..< 2000 {
            let ns = Int64.random(in: -5_000_000_000_000_000_000 ... 9_000_000_000_000_000_000, using: &rng)
            let text = RecordJSON.rfc3339(ns)
            let back = ByteView.with(text) { Timestamps.parseRFC3339($0) }
            #expect(back == ns, "\(text): parsed \(String(describing: back)), formatted from \(ns)")
        }
    }

    @Test(arguments: [
        (1970, 1, 1, Int64(0)), (1969, 12, 31, -1), (2000, 3, 1, 11017), (2026, 11, 21, 20778), (1600, 1, 1, -135_140),
        (2400, 2, 29, 157_113),
    ])
    func civilDatesConvertBothWays(_ year: Int, _ month: Int, _ day: Int, _ expected: Int64) {
        let date = CivilDate(year: Int64(year), month: Int64(month), day: Int64(day))
        let got = date.daysSinceEpoch
        #expect(got == expected, "\(year)-\(month)-\(day): got \(got), want \(expected)")
        #expect(CivilDate(daysSinceEpoch: expected) == date, "and back: \(CivilDate(daysSinceEpoch: expected))")
        #expect(year < 1678 || year > 2261 || got * 86_400 * 1_000_000_000 == H.utc(year, month, day))
    }

    struct BSD: Sendable, CustomTestStringConvertible {
        let text: String
        let receivedAt: Int64
        let expected: Int64?
        var testDescription: String { "\(text) @\(receivedAt)" }
    }

    static let rfc3164Cases: [BSD] = [
        BSD(text: "Nov 21 10:00:00", receivedAt: H.now, expected: H.utc(2026, 11, 21, 10)),
        BSD(text: "Nov  1 09:05:03", receivedAt: H.now, expected: H.utc(2026, 11, 1, 9, 5, 3)),
        BSD(text: "Nov 1 09:05:03", receivedAt: H.now, expected: H.utc(2026, 11, 1, 9, 5, 3)),
        BSD(text: "Nov 01 09:05:03", receivedAt: H.now, expected: H.utc(2026, 11, 1, 9, 5, 3)),
        BSD(text: "nov 21 10:00:00", receivedAt: H.now, expected: H.utc(2026, 11, 21, 10)),
        // Slightly in the future (clock skew) stays in this year.
        BSD(text: "Nov 22 11:00:00", receivedAt: H.now, expected: H.utc(2026, 11, 22, 11)),
        // More than a day in the future: last year.
        BSD(text: "Nov 22 12:00:01", receivedAt: H.now, expected: H.utc(2025, 11, 22, 12, 0, 1)),
        BSD(text: "Dec 31 23:59:59", receivedAt: H.utc(2027, 1, 1, 0, 0, 5), expected: H.utc(2026, 12, 31, 23, 59, 59)),
        BSD(text: "Feb 29 08:00:00", receivedAt: H.utc(2028, 3, 1), expected: H.utc(2028, 2, 29, 8)),
        BSD(text: "Feb 29 08:00:00", receivedAt: H.utc(2026, 3, 1), expected: nil),
        BSD(text: "Nov 31 10:00:00", receivedAt: H.now, expected: nil),
        BSD(text: "Nov 21 24:00:00", receivedAt: H.now, expected: nil),
        BSD(text: "Nov 21 10:00", receivedAt: H.now, expected: nil),
        BSD(text: "Foo 21 10:00:00", receivedAt: H.now, expected: nil),
        BSD(text: "Nov 00 10:00:00", receivedAt: H.now, expected: nil),
        BSD(text: "Nov 21 10:00:00 ", receivedAt: H.now, expected: nil),
        BSD(text: "Nov-21 10:00:00", receivedAt: H.now, expected: nil),
        BSD(text: "Nov 21 10-00-00", receivedAt: H.now, expected: nil),
    ]

    @Test(arguments: rfc3164Cases)
    func parsesRFC3164(_ c: BSD) {
        let got = ByteView.with(c.text) { Timestamps.parseRFC3164($0, receivedAt: c.receivedAt) }
        #expect(got == c.expected, "\(c.text): got \(String(describing: got)), want \(String(describing: c.expected))")
    }
}
