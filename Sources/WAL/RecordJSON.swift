import Platform
/// Renders records as JSON objects (the `hypha wal dump` and API format).
public enum RecordJSON {
    /// One JSON object for `record` stored at `sequence` in `shard`, without a newline:
    /// `{"shard":0,"seq":12,"time":"2026-11-21T10:00:00.000000000Z","ts":…,"kind":"log",…}`.
    public static func line(shard: Int, sequence: UInt64, record: Record) -> String {
        var out = "{\"shard\":\(shard),\"seq\":\(sequence),\"time\":\"\(rfc3339(record.timestamp))\",\"ts\":\(record.timestamp)"
        switch record {
        case .log(let l):
            out += ",\"kind\":\"log\""
            if l.severity != LogRecord.unknownLevel { out += ",\"severity\":\(l.severity)" }
            if l.facility != LogRecord.unknownLevel { out += ",\"facility\":\(l.facility)" }
            out += ",\"host\":" + quoted(l.host) + ",\"app\":" + quoted(l.app) + ",\"message\":" + quoted(l.message)
            if !l.fields.isEmpty { out += ",\"fields\":" + object(l.fields) }
        case .metric(let m):
            out += ",\"kind\":\"metric\",\"name\":" + quoted(m.name) + ",\"value\":" + number(m.value)
            out += ",\"labels\":" + object(m.labels)
        }
        return out + "}"
    }

    /// A JSON number, or `null` for NaN and infinities (which JSON cannot carry).
    public static func number(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { quoted($0.0) + ":" + quoted($0.1) }.joined(separator: ",") + "}"
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` for nanoseconds since the epoch (UTC).
    public static func rfc3339(_ ns: Int64) -> String {
        var seconds = ns / 1_000_000_000
        var fraction = ns % 1_000_000_000
        if fraction < 0 {
            fraction += 1_000_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var rem = seconds % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        let (year, month, day) = { d in (d.year, d.month, d.day) }(CivilDate(daysSinceEpoch: days))
        func pad(_ v: Int64, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rem / 3600, 2)):\(pad(rem % 3600 / 60, 2)):\(pad(rem % 60, 2)).\(pad(fraction, 9))Z"
    }
}
