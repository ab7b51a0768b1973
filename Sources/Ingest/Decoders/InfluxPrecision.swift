public import Platform
/// The unit of timestamps in InfluxDB line protocol (the `precision` query parameter of `/write`).
///
/// - Thread: a plain value, `Sendable`.
public enum InfluxPrecision: Sendable, Equatable, CaseIterable {
    case ns, us, ms, s, m, h

    /// Nanoseconds in one unit.
    public var nanosecondsPerUnit: Int64 {
        switch self {
        case .ns: 1
        case .us: 1000
        case .ms: 1_000_000
        case .s: 1_000_000_000
        case .m: 60_000_000_000
        case .h: 3_600_000_000_000
        }
    }

    /// Parses a `precision` value: `n`/`ns`, `u`/`us`/`µ`/`µs`, `ms`, `s`, `m`, `h`; `nil` for
    /// anything else (including empty: the caller picks the default, `.ns`).
    public init?(query: String) {
        switch query {
        case "n", "ns": self = .ns
        case "u", "us", "µ", "µs": self = .us
        case "ms": self = .ms
        case "s": self = .s
        case "m": self = .m
        case "h": self = .h
        default: return nil
        }
    }

    /// Parses a `precision` value from bytes, like the `String` initializer, without allocation.
    public init?(query: ByteView) {
        if query.equals("n") || query.equals("ns") {
            self = .ns
        } else if query.equals("u") || query.equals("us") || query.equals("µ") || query.equals("µs") {
            self = .us
        } else if query.equals("ms") {
            self = .ms
        } else if query.equals("s") {
            self = .s
        } else if query.equals("m") {
            self = .m
        } else if query.equals("h") {
            self = .h
        } else {
            return nil
        }
    }
}
