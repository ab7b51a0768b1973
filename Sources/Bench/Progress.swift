#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A one-line progress display on standard error, rewritten in place with `\r` when standard
/// error is a terminal and silent otherwise (pipes, files, CI logs stay clean).
///
/// Not thread-safe: drive it from the thread that samples.
public final class ProgressLine {
    /// Whether anything is written at all.
    public let enabled: Bool
    private var shown = false

    /// - Parameter enabled: nil (the default) means "when standard error is a terminal".
    public init(enabled: Bool? = nil) { self.enabled = enabled ?? (isatty(2) == 1) }

    /// Replaces the line with `text` (cut to 120 columns).
    public func update(_ text: String) {
        guard enabled else { return }
        write("\r\u{1B}[K" + String(text.prefix(120)))
        shown = true
    }

    /// Clears the line so that the next output starts on a clean one.
    public func finish() {
        guard enabled, shown else { return }
        write("\r\u{1B}[K")
        shown = false
    }

    private func write(_ s: String) {
        var bytes = Array(s.utf8)
        bytes.withUnsafeMutableBytes { raw in
            var off = 0
            while off < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + off, raw.count - off)
                if n <= 0 { break }
                off += n
            }
        }
    }

    /// The text for a throughput run: `syslog  1,234,567 / 4,000,000 durable (30.9%)  1.52 M rec/s  2.1 s`.
    public static func throughputText(label: String, durable: Int, total: Int, rate: Double, elapsed: Double) -> String {
        let pct = total > 0 ? Double(durable) / Double(total) * 100 : 0
        return "\(label)  \(Format.grouped(durable)) / \(Format.grouped(total)) durable (\(Format.fixed(pct, 1))%)  \(Format.rate(rate)) rec/s  \(Format.fixed(elapsed, 1)) s"
    }
}

/// Number formatting without Foundation's locale machinery.
public enum Format {
    /// `1234567` → `1,234,567`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// `x` with exactly `decimals` decimals.
    public static func fixed(_ x: Double, _ decimals: Int) -> String {
        guard x.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0 ..< decimals { scale *= 10 }
        let r = (abs(x) * scale).rounded()
        let whole = Int(r / scale)
        var frac = String(Int(r) - whole * Int(scale))
        while frac.count < decimals { frac = "0" + frac }
        let sign = x < 0 && r > 0 ? "-" : ""
        return decimals == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(frac)"
    }

    /// `1520000` → `1.52 M`, `35200` → `35.2 k`.
    public static func rate(_ x: Double) -> String {
        if x >= 1e6 { return fixed(x / 1e6, 2) + " M" }
        if x >= 1e3 { return fixed(x / 1e3, 1) + " k" }
        return fixed(x, 0)
    }
}
