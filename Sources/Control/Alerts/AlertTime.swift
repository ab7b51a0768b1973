/// Durations in alert rules: parsing `30s`, `5m`, `1h30m`, `250ms` and printing them back.
///
/// Every time in the alerting code is an `Int64` count of nanoseconds (instants since the Unix
/// epoch, durations as plain spans), so the pure parts never touch a clock.
public enum AlertDuration {
    /// Nanoseconds in one second.
    public static let second: Int64 = 1_000_000_000

    /// Parses a duration: one or more `<digits><unit>` groups with the units `ms`, `s`, `m`, `h`,
    /// `d` and `w`, largest first (`1h30m`, `90s`, `250ms`). `0` alone is zero.
    ///
    /// - Returns: nanoseconds, or `nil` for anything else (no sign, no fractions, no spaces,
    ///   no unit repeated or out of order, nothing past about 292 years).
    public static func parse(_ text: String) -> Int64? {
        if text == "0" { return 0 }
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var i = 0
        var total: Int64 = 0
        var lastRank = Int.max
        while i < bytes.count {
            var number: Int64 = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = number.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
                guard !o1, !o2 else { return nil }
                number = a
                i += 1
            }
            guard i > start, i < bytes.count else { return nil }
            let unit: Int64
            let rank: Int
            switch bytes[i] {
            case UInt8(ascii: "m") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "s"):
                unit = 1_000_000; rank = 0; i += 2
            case UInt8(ascii: "s"): unit = second; rank = 1; i += 1
            case UInt8(ascii: "m"): unit = 60 * second; rank = 2; i += 1
            case UInt8(ascii: "h"): unit = 3600 * second; rank = 3; i += 1
            case UInt8(ascii: "d"): unit = 86_400 * second; rank = 4; i += 1
            case UInt8(ascii: "w"): unit = 7 * 86_400 * second; rank = 5; i += 1
            default: return nil
            }
            guard rank < lastRank else { return nil }
            lastRank = rank
            let (part, o1) = number.multipliedReportingOverflow(by: unit)
            let (sum, o2) = total.addingReportingOverflow(part)
            guard !o1, !o2 else { return nil }
            total = sum
        }
        return total
    }

    /// The shortest form ``parse(_:)`` reads back to the same value: `0s`, `90s` → `1m30s`, `1500ms` → `1s500ms`.
    public static func format(_ nanoseconds: Int64) -> String {
        guard nanoseconds > 0 else { return "0s" }
        var rest = nanoseconds
        var out = ""
        let units: [(Int64, String)] = [
            (7 * 86_400 * second, "w"), (86_400 * second, "d"), (3600 * second, "h"), (60 * second, "m"),
            (second, "s"), (1_000_000, "ms"),
        ]
        for (size, name) in units where rest >= size {
            out += "\(rest / size)\(name)"
            rest %= size
        }
        if rest > 0 { out += "\(rest)ns" }  // sub-millisecond rests never come from parse(_:)
        return out
    }
}
