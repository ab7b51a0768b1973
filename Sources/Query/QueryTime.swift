import Platform

/// The times `--from`/`--to` and the `from`/`to` query parameters accept, as nanoseconds since
/// the Unix epoch (docs/query.md, "Times").
///
/// - `now`, `now-2h`, `now+30s`, and `-15m` (short for `now-15m`); units `s`, `m`, `h`, `d`
///   (also `ms`), with a whole number before them.
/// - RFC 3339: `2026-12-02T07:55:31Z`, `2026-12-02T07:55:31.123456+02:00` (a space or `t` for
///   `T` and `z` for `Z` are accepted; fractions up to nanoseconds), and a plain date
///   `2026-12-02` (midnight UTC).
/// - An integer of 16 digits or more: nanoseconds since the epoch, as the API returns them.
public enum QueryTime {
    /// `text` as nanoseconds since the epoch, relative times counted from `now` (ns).
    /// - Throws: ``QueryTimeError`` naming the text and the accepted forms.
    public static func parse(_ text: String, now: Int64) throws(QueryTimeError) -> Int64 {
        let t = text.trimmingSpaces
        if t == "now" { return now }
        if t.hasPrefix("now") { return try relative(String(t.dropFirst(3)), now: now, text: text) }
        if t.hasPrefix("-") { return try relative(t, now: now, text: text) }
        if t.count >= 16, t.allSatisfy(\.isASCIIDigit), let ns = Int64(t) { return ns }
        if let ns = rfc3339(Array(t.utf8)) { return ns }
        throw QueryTimeError(text: text)
    }

    /// `±N unit` after `now`.
    private static func relative(_ rest: String, now: Int64, text: String) throws(QueryTimeError) -> Int64 {
        guard let sign = rest.first, sign == "-" || sign == "+" else { throw QueryTimeError(text: text) }
        let body = rest.dropFirst()
        let digits = body.prefix { $0.isASCIIDigit }
        let unit = body.dropFirst(digits.count)
        let scale: Int64? = switch unit {
        case "ms": 1_000_000
        case "s": 1_000_000_000
        case "m": 60_000_000_000
        case "h": 3_600_000_000_000
        case "d": 86_400_000_000_000
        default: nil
        }
        guard let scale, let n = Int64(digits) else { throw QueryTimeError(text: text) }
        let (offset, overflow) = n.multipliedReportingOverflow(by: scale)
        guard !overflow else { throw QueryTimeError(text: text) }
        return sign == "-" ? now &- offset : now &+ offset
    }

    /// `YYYY-MM-DD[(T| )hh:mm:ss[.fraction](Z|±hh:mm)]`.
    private static func rfc3339(_ b: [UInt8]) -> Int64? {
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= b.count else { return nil }
            var v: Int64 = 0
            for i in range {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let year = number(0 ..< 4), let month = number(5 ..< 7), let day = number(8 ..< 10),
            (1 ... 12).contains(month), (1 ... 31).contains(day)
        else { return nil }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        if b.count == 10 { return days * 86_400_000_000_000 }
        guard b.count >= 20, [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(b[10]),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let hour = number(11 ..< 13), let minute = number(14 ..< 16), let second = number(17 ..< 19),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                if digits < 9 { fraction = fraction * 10 + Int64(b[i] - 48) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 9) ..< 9 { fraction *= 10 }
        }
        guard i < b.count else { return nil }
        var offsetSeconds: Int64 = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.count else { return nil }
        } else {
            guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), b.count == i + 6, b[i + 3] == UInt8(ascii: ":"),
                let oh = number(i + 1 ..< i + 3), let om = number(i + 4 ..< i + 6), oh < 24, om < 60
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
        }
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000_000 + fraction
    }
}

/// A time ``QueryTime`` does not accept.
public struct QueryTimeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text as given.
    public let text: String

    public var description: String {
        "invalid time '\(text)': use RFC 3339 (2026-12-02T07:55:31Z, 2026-12-02T09:55:31.5+02:00), "
            + "a date (2026-12-02), now, now-2h, -15m (units s, m, h, d) or nanoseconds since the epoch"
    }
}

extension String {
    /// Without leading and trailing spaces.
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
