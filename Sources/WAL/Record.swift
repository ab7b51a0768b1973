import Platform
/// A log record at the edges (tests, CLI, API). The hot path encodes straight from bytes
/// with ``RecordEncoder`` and never builds one of these.
public struct LogRecord: Sendable, Equatable {
    /// Nanoseconds since the Unix epoch.
    public var timestamp: Int64
    /// Syslog severity 0 (emergency) … 7 (debug); ``unknownLevel`` when not given.
    public var severity: UInt8
    /// Syslog facility 0 … 23; ``unknownLevel`` when not given.
    public var facility: UInt8
    public var host: String
    public var app: String
    public var message: String
    /// Other fields, in the order received.
    public var fields: [(String, String)]

    /// Marks a missing severity or facility.
    public static let unknownLevel: UInt8 = 255

    public init(
        timestamp: Int64, severity: UInt8 = unknownLevel, facility: UInt8 = unknownLevel,
        host: String, app: String, message: String, fields: [(String, String)] = []
    ) {
        self.timestamp = timestamp
        self.severity = severity
        self.facility = facility
        self.host = host
        self.app = app
        self.message = message
        self.fields = fields
    }

    public static func == (a: LogRecord, b: LogRecord) -> Bool {
        a.timestamp == b.timestamp && a.severity == b.severity && a.facility == b.facility && a.host == b.host
            && a.app == b.app && a.message == b.message && a.fields.elementsEqual(b.fields, by: { $0 == $1 })
    }
}

/// A metric sample at the edges.
public struct MetricSample: Sendable, Equatable {
    public var timestamp: Int64
    public var name: String
    public var value: Double
    /// Labels, in the order received.
    public var labels: [(String, String)]

    public init(timestamp: Int64, name: String, value: Double, labels: [(String, String)] = []) {
        self.timestamp = timestamp
        self.name = name
        self.value = value
        self.labels = labels
    }

    public static func == (a: MetricSample, b: MetricSample) -> Bool {
        a.timestamp == b.timestamp && a.name == b.name && a.value.bitPattern == b.value.bitPattern
            && a.labels.elementsEqual(b.labels, by: { $0 == $1 })
    }
}

/// One decoded record.
public enum Record: Sendable, Equatable {
    case log(LogRecord)
    case metric(MetricSample)

    /// Nanoseconds since the Unix epoch.
    public var timestamp: Int64 {
        switch self {
        case .log(let l): l.timestamp
        case .metric(let m): m.timestamp
        }
    }
}

/// The kind byte that starts every record body (docs/wal-format.md, "Records").
public enum RecordKind: UInt8, Sendable {
    case log = 1
    case metric = 2
}
