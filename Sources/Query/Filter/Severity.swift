/// The syslog severities a filter names: `0 emerg` … `7 debug`. A lower number is more severe.
enum Severity {
    /// Each accepted name and its number; `err`/`error` and `warning`/`warn` are synonyms.
    static let names: [(String, UInt8)] = [
        ("emerg", 0), ("alert", 1), ("crit", 2), ("err", 3), ("error", 3), ("warning", 4), ("warn", 4),
        ("notice", 5), ("info", 6), ("debug", 7),
    ]

    /// The number for a name (case-insensitive) or a digit 0-7, `nil` for anything else.
    static func number(_ text: String) -> UInt8? {
        if let n = UInt8(text), n <= 7 { return n }
        let lower = text.lowercased()
        return names.first { $0.0 == lower }?.1
    }

    /// The canonical name of a severity number (`err`, `warning`, …), or the number itself.
    static func name(_ number: UInt8) -> String {
        let canonical = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]
        return number < 8 ? canonical[Int(number)] : String(number)
    }
}
