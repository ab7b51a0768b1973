import Platform

/// The result of appending one batch.
public enum AppendOutcome: Sendable, Equatable {
    /// Written; the batch holds sequences `baseSequence ..< baseSequence + count`. `durable`
    /// says whether it is already durable under the log's mode (always for `none` and `batch`).
    case appended(baseSequence: UInt64, count: Int, durable: Bool)
    /// Not written: the producer's sequence is at or below `highWaterMark`, which is stored.
    case duplicate(highWaterMark: UInt64)
}

/// One batch to append: encoded records (see ``RecordEncoder``) and what the header needs.
public struct BatchDraft: Sendable {
    public var payload: [UInt8]
    public var recordCount: Int
    public var minTimestamp: Int64
    public var maxTimestamp: Int64
    public var producerID: UInt64
    public var producerSequence: UInt64
    public var codec: WALCodec

    public init(
        payload: [UInt8], recordCount: Int, minTimestamp: Int64, maxTimestamp: Int64,
        producerID: UInt64 = 0, producerSequence: UInt64 = 0, codec: WALCodec = .lz4
    ) {
        self.payload = payload
        self.recordCount = recordCount
        self.minTimestamp = minTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerID = producerID
        self.producerSequence = producerSequence
        self.codec = codec
    }
}

/// Injected failures, for tests: the WAL asks before each sync whether it should fail instead.
///
/// Production code passes none. Implementations must be thread-safe (the flusher and the shard
/// writers ask).
public protocol WALFaults: Sendable {
    /// The error the sync of `shard` about to run should fail with, or `nil` to sync.
    func syncFailure(shard: Int, path: String) -> WALError?
    /// The error the append to `shard` about to run should fail with before writing anything
    /// (as a full disk fails a roll), or `nil` to append.
    func appendFailure(shard: Int) -> WALError?
}

extension WALFaults {
    public func syncFailure(shard: Int, path: String) -> WALError? { nil }
    public func appendFailure(shard: Int) -> WALError? { nil }
}

/// Counts and durations of a shard's syncs.
public struct SyncStats: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var totalNanoseconds: Int64 = 0
    public private(set) var maxNanoseconds: Int64 = 0
    /// Duration of the most recent sync.
    public private(set) var lastNanoseconds: Int64 = 0

    mutating func record(_ ns: Int64) {
        count += 1
        totalNanoseconds += ns
        maxNanoseconds = max(maxNanoseconds, ns)
        lastNanoseconds = ns
    }
}
