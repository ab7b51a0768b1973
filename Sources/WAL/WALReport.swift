import Platform
/// What one segment holds, as found by a scan.
public struct SegmentSummary: Sendable, Equatable {
    public var path: String
    public var baseSequence: UInt64
    /// One past the last sequence stored (equal to `baseSequence` when empty).
    public var endSequence: UInt64
    /// Offset just past the last valid batch.
    public var dataEnd: Int
    public var batches: Int = 0
    public var records: Int = 0
    /// Bytes of batch headers and stored payloads.
    public var storedBytes: Int = 0
    public var uncompressedBytes: Int = 0
    public var minTimestamp: Int64 = .max
    public var maxTimestamp: Int64 = .min
    /// Batches per codec, indexed by `WALCodec.rawValue`.
    public var codecBatches: [Int] = [0, 0, 0]
    /// When the segment was created (its header), nanoseconds since the epoch: when its first
    /// batch could arrive, and when the segment before it was closed.
    public var createdNanoseconds: Int64

    init(path: String, baseSequence: UInt64, createdNanoseconds: Int64) {
        self.path = path
        self.baseSequence = baseSequence
        self.endSequence = baseSequence
        self.dataEnd = SegmentHeader.size
        self.createdNanoseconds = createdNanoseconds
    }

    mutating func add(_ h: BatchHeader) {
        batches += 1
        records += Int(h.recordCount)
        storedBytes += h.totalSize
        uncompressedBytes += Int(h.uncompressedLength)
        if h.recordCount > 0 {
            minTimestamp = min(minTimestamp, h.minTimestamp)
            maxTimestamp = max(maxTimestamp, h.maxTimestamp)
        }
        endSequence = max(endSequence, h.endSequence)
        codecBatches[Int(h.codec.rawValue)] += 1
    }

    /// Whether any record in the segment may fall in `range` (nanoseconds).
    func overlaps(_ range: ClosedRange<Int64>) -> Bool {
        records == 0 ? false : !(maxTimestamp < range.lowerBound || minTimestamp > range.upperBound)
    }
}

/// A damaged place in the log.
public struct WALProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Action: String, Sendable {
        /// Reported only (offline verify).
        case found
        /// Recorded in the shard's quarantine.log and skipped by readers.
        case quarantined
        /// A torn tail cut back to the last valid batch and zeroed.
        case truncated
        /// A whole segment moved into the shard's quarantine/ directory.
        case segmentMovedAside = "moved aside"
        /// An empty segment left by an interrupted roll, removed.
        case removedEmpty = "removed empty"
    }

    public var path: String
    public var offset: Int
    public var length: Int
    public var reason: String
    public var action: Action
    /// Already recorded in quarantine.log by an earlier recovery.
    public var known: Bool = false

    public var description: String {
        "\(path) offset \(offset) length \(length): \(reason) [\(action.rawValue)\(known ? ", known" : "")]"
    }
}

/// Everything a scan of all shards found.
public struct WALScanReport: Sendable {
    public var shards: [[SegmentSummary]]
    public var problems: [WALProblem]

    /// Problems not already quarantined by an earlier recovery.
    public var newProblems: [WALProblem] { problems.filter { !$0.known } }
}
