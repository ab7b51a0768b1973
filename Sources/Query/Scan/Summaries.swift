import Platform
import WAL

/// What `hypha query top --by` groups records by.
public enum TopField: Sendable, Equatable, CustomStringConvertible {
    case host
    case app
    case severity
    /// A record field by name (`field.status` → `status`).
    case field(String)

    /// `host`, `app`, `severity` or `field.NAME`; `nil` for anything else.
    public init?(_ text: String) {
        switch text {
        case "host": self = .host
        case "app": self = .app
        case "severity": self = .severity
        default:
            guard text.hasPrefix("field."), text.count > 6 else { return nil }
            self = .field(String(text.dropFirst(6)))
        }
    }

    public var description: String {
        switch self {
        case .host: "host"
        case .app: "app"
        case .severity: "severity"
        case .field(let name): "field.\(name)"
        }
    }
}

/// The value shown for records that have none (no such field, no severity).
let missingValue = "(none)"

/// Counts the matching records of a shard per value of one field.
struct ValueCounter: RecordCollector {
    let field: TopField
    private let key: [UInt8]
    var counts: [[UInt8]: Int] = [:]
    var severities = [Int](repeating: 0, count: 256)
    var missing = 0
    var earliest = Int64.max

    init(field: TopField) {
        self.field = field
        if case .field(let name) = field { key = Array(name.utf8) } else { key = [] }
    }

    mutating func collect(shard: Int, sequence: UInt64, body: ByteView, layout: LogLayout) {
        earliest = min(earliest, layout.timestamp)
        switch field {
        case .host: counts[body[layout.host].bytes, default: 0] += 1
        case .app: counts[body[layout.app].bytes, default: 0] += 1
        case .severity: severities[Int(layout.severity)] += 1
        case .field:
            var found: [UInt8]?
            _ = layout.firstField(in: body) { k, v in
                guard bytesEqual(k, key) else { return false }
                found = v.bytes
                return true
            }
            if let found { counts[found, default: 0] += 1 } else { missing += 1 }
        }
    }

    /// Counts by displayed value.
    var byValue: [String: Int] {
        var out: [String: Int] = [:]
        for (value, count) in counts { out[String(decoding: value, as: UTF8.self), default: 0] += count }
        for (level, count) in severities.enumerated() where count > 0 {
            out[level <= 7 ? Severity.name(UInt8(level)) : missingValue, default: 0] += count
        }
        if missing > 0 { out[missingValue, default: 0] += missing }
        return out
    }
}

/// Counts the matching records of a shard per time bucket (`width` ns, buckets aligned on
/// `origin`).
struct BucketCounter: RecordCollector {
    let origin: Int64
    let width: Int64
    var counts: [Int64: Int] = [:]

    mutating func collect(shard: Int, sequence: UInt64, body: ByteView, layout: LogLayout) {
        counts[Self.bucket(of: layout.timestamp, origin: origin, width: width), default: 0] += 1
    }

    /// The index of the bucket holding `timestamp` (floor division, also before `origin`).
    static func bucket(of timestamp: Int64, origin: Int64, width: Int64) -> Int64 {
        let d = timestamp &- origin
        return d >= 0 ? d / width : -((-d + width - 1) / width)
    }
}

/// One value of a ``TopResult``.
public struct TopRow: Sendable, Equatable {
    /// The value (`(none)` for records without one).
    public var value: String
    /// Matching records with this value.
    public var count: Int
    /// `count` as a fraction of every matching record (0 … 1).
    public var share: Double
    /// `count` per second over the window.
    public var perSecond: Double

    public init(value: String, count: Int, share: Double, perSecond: Double) {
        self.value = value
        self.count = count
        self.share = share
        self.perSecond = perSecond
    }
}

/// The answer of ``LogScanner/top(_:by:limit:)``.
public struct TopResult: Sendable {
    /// The most frequent values, most frequent first (ties by value), at most `limit`.
    public var rows: [TopRow]
    /// Every matching record.
    public var total: Int
    /// Distinct values seen (also those past the limit).
    public var distinct: Int
    /// The window rates are over: from the query's `from` (or the earliest match when it has
    /// none) to its `to`, in seconds.
    public var windowSeconds: Double
    public var statistics: ScanStatistics

    public init(rows: [TopRow], total: Int, distinct: Int, windowSeconds: Double, statistics: ScanStatistics) {
        self.rows = rows
        self.total = total
        self.distinct = distinct
        self.windowSeconds = windowSeconds
        self.statistics = statistics
    }
}

/// One bucket of a ``HistogramResult``.
public struct HistogramBucket: Sendable, Equatable {
    /// Start of the bucket, ns since the epoch; it covers `[start, start + width)`.
    public var start: Int64
    public var count: Int

    public init(start: Int64, count: Int) {
        self.start = start
        self.count = count
    }
}

/// The answer of ``LogScanner/histogram(_:bucket:)``.
public struct HistogramResult: Sendable {
    /// Bucket width, ns.
    public var width: Int64
    /// Consecutive buckets from the first to the last (or the query's range when it is
    /// bounded), empty ones included.
    public var buckets: [HistogramBucket]
    public var total: Int
    public var statistics: ScanStatistics

    public init(width: Int64, buckets: [HistogramBucket], total: Int, statistics: ScanStatistics) {
        self.width = width
        self.buckets = buckets
        self.total = total
        self.statistics = statistics
    }
}
