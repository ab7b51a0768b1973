public import WAL

/// Which log records a scan looks for: a filter and an inclusive time range (nanoseconds
/// since the Unix epoch). Only log records are considered; metric samples are skipped.
public struct LogQuery: Sendable, Equatable {
    public var filter: LogFilter
    /// The earliest record time wanted (default: the beginning).
    public var from: Int64
    /// The latest record time wanted (default: the end of time; the CLI and API pass now).
    public var to: Int64

    public init(filter: LogFilter = .all, from: Int64 = .min, to: Int64 = .max) {
        self.filter = filter
        self.from = from
        self.to = to
    }

    /// Whether `timestamp` is in the range.
    @inline(__always)
    func contains(_ timestamp: Int64) -> Bool { timestamp >= from && timestamp <= to }
}

/// The order of the records a search returns.
public enum LogOrder: String, Sendable, Equatable {
    /// Latest timestamp first (the default of `hypha query logs`).
    case newestFirst
    /// Earliest timestamp first (`--reverse`).
    case oldestFirst
}

/// One record a search found, with where it is stored.
public struct LogMatch: Sendable, Equatable {
    public var shard: Int
    public var sequence: UInt64
    public var record: LogRecord

    public init(shard: Int, sequence: UInt64, record: LogRecord) {
        self.shard = shard
        self.sequence = sequence
        self.record = record
    }
}

/// The answer of ``LogScanner/search(_:order:limit:)``.
public struct LogSearchResult: Sendable {
    /// At most `limit` records, in the order asked for, across every shard.
    public var records: [LogMatch]
    /// Whether more records matched than were returned.
    public var truncated: Bool
    public var statistics: ScanStatistics
}
