public import Platform
/// One batch handed to a ``WALReader`` visitor. Valid only inside the visit.
public struct ReadBatch {
    public let header: BatchHeader
    /// The segment file and offset the batch starts at.
    public let path: String
    public let offset: Int
    let file: SegmentFile
}

/// Reads a WAL's batches in sequence order, shard by shard, skipping by sequence and by time.
///
/// Works offline on a data directory (the `hypha wal` commands) and beside a running writer
/// (it reads only up to the first batch not yet complete). Damaged ranges are skipped: the
/// reader resynchronises on the next valid batch, so everything valid on either side of a
/// quarantined range stays readable.
///
/// Not thread-safe: it reuses one decompression context and one payload buffer.
public final class WALReader {
    public let layout: WALLayout
    public let shardCount: Int
    private let context = CodecContext()
    private var buffer: [UInt8] = []

    /// Opens the WAL under `dataDirectory` for reading.
    /// - Throws: ``WALError`` when the directory holds no WAL.
    public init(dataDirectory: String) throws(WALError) {
        layout = WALLayout(dataDirectory: dataDirectory)
        guard let count = try layout.recordedShardCount() else {
            throw WALError(.invalidArgument, "no write-ahead log here (missing \(layout.walDirectory)/meta)", path: dataDirectory)
        }
        shardCount = count
    }

    /// Visits the valid batches of `shard` in sequence order.
    /// - Parameters:
    ///   - fromSequence: skip batches that end at or before this sequence (whole segments are
    ///     skipped by their file names without being read).
    ///   - timeRange: skip batches whose [min, max] record time (ns) misses this range, using
    ///     only the header (no decompression).
    ///   - verifyPayload: check payload CRCs (recovery has already done so for a live log).
    ///   - visit: return `false` to stop.
    public func forEachBatch(
        shard: Int, fromSequence: UInt64 = 0, timeRange: ClosedRange<Int64>? = nil, verifyPayload: Bool = true,
        _ visit: (ReadBatch) throws -> Bool
    ) throws {
        let files = try layout.segmentFiles(shard: shard)
        for (index, segment) in files.enumerated() {
            if index + 1 < files.count, files[index + 1].base <= fromSequence { continue }
            let file: SegmentFile
            do { file = try SegmentFile.open(path: segment.path, writable: false) } catch { continue }
            guard let header = file.header(), header.baseSequence == segment.base else { continue }
            file.adviseSequential()
            var stop = false
            struct Stop: Error {}
            do {
                _ = try file.scanBatches(verifyPayload: verifyPayload) { item in
                    guard case .batch(let offset, let h) = item else { return }
                    if h.endSequence <= fromSequence { return }
                    if let timeRange, h.recordCount > 0,
                        h.maxTimestamp < timeRange.lowerBound || h.minTimestamp > timeRange.upperBound
                    {
                        return
                    }
                    if try !visit(ReadBatch(header: h, path: segment.path, offset: offset, file: file)) { throw Stop() }
                }
            } catch is Stop {
                stop = true
            }
            if stop { return }
        }
    }

    /// The batch's payload as stored (compressed with ``BatchHeader/codec``, `storedLength`
    /// bytes), copied out: for sending a batch on without recompressing it.
    public func storedPayload(of batch: ReadBatch) -> [UInt8] {
        batch.file.read(at: batch.offset + BatchHeader.size, count: Int(batch.header.storedLength))
    }

    /// Decompresses `batch` and calls `body` with a view of its payload: the encoded records
    /// back to back (docs/wal-format.md, "Records"), for scans that look at record bytes
    /// without decoding them. The view is valid only inside `body`.
    /// - Throws: ``BatchDamage/badPayload`` when the payload does not decode, or what `body`
    ///   throws.
    public func withPayload<R>(of batch: ReadBatch, _ body: (ByteView) throws -> R) throws -> R {
        let count = try batch.file.decodePayload(of: batch.header, at: batch.offset, context: context, into: &buffer)
        return try unsafe buffer.withUnsafeBytes { all in
            try body(unsafe ByteView(UnsafeRawBufferPointer(rebasing: all[0 ..< count])))
        }
    }

    /// Decompresses `batch` and returns a cursor over its records.
    /// - Throws: ``BatchDamage/badPayload`` when the payload does not decode.
    public func records(of batch: ReadBatch) throws(BatchDamage) -> RecordCursor {
        let count = try batch.file.decodePayload(of: batch.header, at: batch.offset, context: context, into: &buffer)
        return RecordCursor(buffer, count: count)
    }
}
