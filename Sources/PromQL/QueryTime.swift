/// Times and durations as the query API and `hypha query-metrics` accept them.
public enum QueryTime {
    /// A time in milliseconds since the Unix epoch from Unix seconds (`1700000000.5`),
    /// RFC 3339 (`2026-11-21T10:00:00Z`, `…+01:00`, fractions allowed), `now`, or relative to
    /// now (`-15m`, `now-2h`, `now+1h`); `nil` when `text` is none of these.
    public static func parse(_ text: String, nowMilliseconds: Int64) -> Int64? {
        let t = text.trimmingSpaces
        if t == "now" { return nowMilliseconds }
        if t.hasPrefix("now") || t.hasPrefix("-") || t.hasPrefix("+") {
            var rest = t.hasPrefix("now") ? Substring(t.dropFirst(3)) : Substring(t)
            guard let sign = rest.first, sign == "-" || sign == "+" else { return nil }
            rest = rest.dropFirst()
            // "-1700000000" is not a relative time but a (negative) Unix time only when it has no unit.
            guard let d = Lexer.duration(String(rest)) else { return t.hasPrefix("now") ? nil : seconds(t) }
            return sign == "-" ? nowMilliseconds - d : nowMilliseconds + d
        }
        if let s = seconds(t) { return s }
        return rfc3339(t)
    }

    /// A step or timeout: seconds as a float (`15`, `0.5`) or a duration (`15s`, `1m30s`), in
    /// milliseconds; `nil` when it is neither.
    public static func duration(_ text: String) -> Int64? {
        let t = text.trimmingSpaces
        if let d = Double(t), d.isFinite { return Int64((d * 1000).rounded()) }
        return Lexer.duration(t)
    }

    private static func seconds(_ text: String) -> Int64? {
        guard let d = Double(text), d.isFinite, abs(d) < 1e14 else { return nil }
        return Int64((d * 1000).rounded())
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    static func rfc3339(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= c.count else { return nil }
            var n = 0
            for b in c[from ..< from + count] {
                guard b >= 0x30, b <= 0x39 else { return nil }
                n = n * 10 + Int(b - 0x30)
            }
            return n
        }
        guard c.count >= 20, let year = number(0, 4), c[4] == 0x2D, let month = number(5, 2), c[7] == 0x2D, let day = number(8, 2),
            c[10] == 0x54 || c[10] == 0x74 || c[10] == 0x20, let hour = number(11, 2), c[13] == 0x3A, let minute = number(14, 2),
            c[16] == 0x3A, let second = number(17, 2), (1 ... 12).contains(month), (1 ... 31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        var i = 19
        var millis = 0
        if i < c.count, c[i] == 0x2E {
            i += 1
            var digits = 0
            while i < c.count, c[i] >= 0x30, c[i] <= 0x39 {
                if digits < 3 { millis = millis * 10 + Int(c[i] - 0x30) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits ..< 3 where digits < 3 { millis *= 10 }
        }
        guard i < c.count else { return nil }
        var offset = 0
        if c[i] == 0x5A || c[i] == 0x7A {
            i += 1
        } else if c[i] == 0x2B || c[i] == 0x2D, let h = number(i + 1, 2), i + 3 < c.count, c[i + 3] == 0x3A, let m = number(i + 4, 2) {
            offset = (h * 60 + m) * 60 * (c[i] == 0x2B ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == c.count else { return nil }
        // Days from 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let secondsOfDay = hour * 3600 + minute * 60 + second
        return (Int64(days) * 86400 + Int64(secondsOfDay) - Int64(offset)) * 1000 + Int64(millis)
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
