public import Platform
/// Timestamp parsing for the wire decoders: RFC 3339 and the BSD syslog (RFC 3164) form, to
/// nanoseconds since the Unix epoch (UTC). The inverse of ``RecordJSON/rfc3339(_:)``.
///
/// - Limits: results must fit `Int64` nanoseconds (years 1678…2261); anything outside is `nil`.
/// - Complexity: O(length of the view), no allocation.
/// - Thread: stateless, callable from any thread.
public enum Timestamps {
    static let nanosPerSecond: Int64 = 1_000_000_000
    static let nanosPerDay: Int64 = 86_400 * 1_000_000_000

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]` followed by `Z` or `±HH:MM`, filling the whole view.
    ///
    /// The `T` may also be `t` or a space, `Z` may be `z`; the fraction has 1…9 digits; seconds
    /// may be 60 (a leap second, counted as the first second of the next minute). Dates are
    /// checked against the calendar (no February 30th).
    /// - Returns: nanoseconds since the epoch (UTC), or `nil` when malformed or out of range.
    public static func parseRFC3339(_ v: ByteView) -> Int64? {
        let n = v.count
        guard n >= 20,
              let year = digits(v, 0, 4), v[4] == ASCII.minus,
              let month = digits(v, 5, 2), v[7] == ASCII.minus,
              let day = digits(v, 8, 2),
              v[10] == 0x54 || v[10] == 0x74 || v[10] == ASCII.space,  // T t space
              let hour = digits(v, 11, 2), v[13] == ASCII.colon,
              let minute = digits(v, 14, 2), v[16] == ASCII.colon,
              let second = digits(v, 17, 2)
        else { return nil }
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var i = 19
        var fraction: Int64 = 0
        if v[i] == ASCII.dot {
            i += 1
            let start = i
            while i < n, ASCII.isDigit(v[i]) {
                guard i - start < 9 else { return nil }
                fraction = fraction * 10 + Int64(v[i] &- 0x30)
                i += 1
            }
            guard i > start else { return nil }
            for _ in 0 ..< 9 - (i - start) { fraction *= 10 }
        }
        guard i < n else { return nil }
        var offset: Int64 = 0
        switch v[i] {
        case 0x5A, 0x7A:  // Z z
            guard i + 1 == n else { return nil }
        case ASCII.plus, ASCII.minus:
            guard i + 6 == n, let oh = digits(v, i + 1, 2), v[i + 3] == ASCII.colon, let om = digits(v, i + 4, 2),
                  oh <= 23, om <= 59
            else { return nil }
            offset = (oh * 60 + om) * 60
            if v[i] == ASCII.minus { offset = -offset }
        default:
            return nil
        }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return nanoseconds(seconds: seconds, fraction: fraction)
    }

    /// Parses the BSD syslog timestamp `Mmm dd hh:mm:ss` / `Mmm  d hh:mm:ss` (15 bytes; also the
    /// non-standard `Mmm d hh:mm:ss`, 14 bytes), filling the whole view, as UTC.
    ///
    /// The year is not on the wire: it is the UTC year of `receivedAt`, or the year before when
    /// that would put the time more than one day after `receivedAt` (a December message received
    /// in January). Month names are matched case-insensitively.
    /// - Returns: nanoseconds since the epoch, or `nil` when malformed or the day does not exist
    ///   in the chosen year.
    public static func parseRFC3164(_ v: ByteView, receivedAt: Int64) -> Int64? {
        let n = v.count
        guard n == 14 || n == 15, let month = monthNumber(v, at: 0), v[3] == ASCII.space else { return nil }
        let day: Int64
        let timeStart: Int
        if n == 15 {
            if v[4] == ASCII.space {
                guard let d = digits(v, 5, 1) else { return nil }
                day = d
            } else {
                guard let d = digits(v, 4, 2) else { return nil }
                day = d
            }
            timeStart = 7
        } else {
            guard let d = digits(v, 4, 1) else { return nil }
            day = d
            timeStart = 6
        }
        guard v[timeStart - 1] == ASCII.space,
              let hour = digits(v, timeStart, 2), v[timeStart + 2] == ASCII.colon,
              let minute = digits(v, timeStart + 3, 2), v[timeStart + 5] == ASCII.colon,
              let second = digits(v, timeStart + 6, 2),
              day >= 1, day <= 31, hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var year = utcYear(of: receivedAt)
        let secondsOfDay = hour * 3600 + minute * 60 + second
        func at(_ year: Int64) -> Int64? {
            nanoseconds(seconds: CivilDate(year: year, month: month, day: day).daysSinceEpoch * 86_400 + secondsOfDay, fraction: 0)
        }
        guard var result = at(year) else { return nil }
        if result > receivedAt, result - receivedAt > nanosPerDay {
            year -= 1
            guard let earlier = at(year) else { return nil }
            result = earlier
        }
        guard day <= daysInMonth(year: year, month: month) else { return nil }
        return result
    }

    // MARK: - Helpers

    /// `count` decimal digits at `start` (bounds-checked), or `nil`.
    @inline(__always)
    static func digits(_ v: ByteView, _ start: Int, _ count: Int) -> Int64? {
        guard start >= 0, start + count <= v.count else { return nil }
        var value: Int64 = 0
        for i in start ..< start + count {
            let d = v[i] &- 0x30
            guard d < 10 else { return nil }
            value = value * 10 + Int64(d)
        }
        return value
    }

    static func isLeap(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `seconds * 1e9 + fraction`, or `nil` on overflow.
    static func nanoseconds(seconds: Int64, fraction: Int64) -> Int64? {
        let (ns, o1) = seconds.multipliedReportingOverflow(by: nanosPerSecond)
        let (total, o2) = ns.addingReportingOverflow(fraction)
        return o1 || o2 ? nil : total
    }

    /// The proleptic Gregorian UTC year containing `ns`.
    static func utcYear(of ns: Int64) -> Int64 {
        var days = ns / nanosPerDay
        if ns % nanosPerDay < 0 { days -= 1 }
        return CivilDate(daysSinceEpoch: days).year
    }

    /// The month 1…12 of a three-letter English abbreviation at `start` (any case), or `nil`.
    static func monthNumber(_ v: ByteView, at start: Int) -> Int64? {
        guard start + 3 <= v.count else { return nil }
        let a = ASCII.lower(v[start]), b = ASCII.lower(v[start + 1]), c = ASCII.lower(v[start + 2])
        let key = UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)
        func k(_ s: Unicode.Scalar, _ t: Unicode.Scalar, _ u: Unicode.Scalar) -> UInt32 {
            s.value << 16 | t.value << 8 | u.value
        }
        switch key {
        case k("j", "a", "n"): return 1
        case k("f", "e", "b"): return 2
        case k("m", "a", "r"): return 3
        case k("a", "p", "r"): return 4
        case k("m", "a", "y"): return 5
        case k("j", "u", "n"): return 6
        case k("j", "u", "l"): return 7
        case k("a", "u", "g"): return 8
        case k("s", "e", "p"): return 9
        case k("o", "c", "t"): return 10
        case k("n", "o", "v"): return 11
        case k("d", "e", "c"): return 12
        default: return nil
        }
    }
}
