public import WAL

/// The text form of `hypha query logs`: one line per record,
/// `2026-12-02T07:55:31.123Z web-01 nginx[warning]: GET /api 503 status=503 path=/api`.
///
/// The time is UTC to the millisecond; `[severity]` is left out when the record has none;
/// fields follow the message as `key=value`, values with spaces, quotes or `=` in JSON quotes.
/// Newlines in a message are shown as `\n`, so every record is one line.
public enum RecordText {
    /// The line for `record`, without a newline.
    public static func line(_ record: LogRecord) -> String {
        var out = time(record.timestamp) + " " + (record.host.isEmpty ? "-" : record.host) + " " + (record.app.isEmpty ? "-" : record.app)
        if record.severity <= 7 { out += "[" + Severity.name(record.severity) + "]" }
        out += ": " + oneLine(record.message)
        for (key, value) in record.fields {
            let plain = !value.isEmpty && !value.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 }
            out += " " + key + "=" + (plain ? value : RecordJSON.quoted(value))
        }
        return out
    }

    /// `2026-12-02T07:55:31.123Z`.
    public static func time(_ ns: Int64) -> String {
        let full = RecordJSON.rfc3339(ns)  // …:31.123456789Z
        return String(full.prefix(full.count - 7)) + "Z"
    }

    /// A width in nanoseconds as `90s`, `1m`, `2h`, `1d` (the largest unit it is a whole number of).
    public static func duration(_ ns: Int64) -> String {
        for (unit, size) in [("d", Int64(86_400_000_000_000)), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000)]
        where ns >= size && ns % size == 0 {
            return "\(ns / size)\(unit)"
        }
        return ns % 1_000_000 == 0 ? "\(ns / 1_000_000)ms" : "\(ns)ns"
    }

    private static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" }) else { return text }
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
