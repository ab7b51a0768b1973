/// What a scan read and skipped, summed over every shard: the proof that time ranges skip
/// batches without reading them.
public struct ScanStatistics: Sendable, Equatable {
    /// Shards scanned.
    public var shards = 0
    /// Batches decompressed and looked at.
    public var batchesRead = 0
    /// Batches passed over from their header alone: outside the time range, or unable to
    /// change a bounded answer (newer ones already fill a newest-first limit).
    public var batchesSkipped = 0
    /// Batches read whose payload lacks a phrase every match must contain: ruled out by one
    /// search over the payload, their records not walked.
    public var batchesRuledOut = 0
    /// Records looked at in the batches read and not ruled out (log and metric).
    public var recordsScanned = 0
    /// Log records that matched the filter and the time range.
    public var recordsMatched = 0
    /// Uncompressed payload bytes of the batches read.
    public var bytesScanned = 0

    public init() {}

    /// Adds `other`'s counts to these.
    public mutating func add(_ other: ScanStatistics) {
        shards += other.shards
        batchesRead += other.batchesRead
        batchesSkipped += other.batchesSkipped
        batchesRuledOut += other.batchesRuledOut
        recordsScanned += other.recordsScanned
        recordsMatched += other.recordsMatched
        bytesScanned += other.bytesScanned
    }
}
