import Platform

/// Reads one shard's batches forward from a sequence, keeping its place between calls, beside
/// a running writer: the spool sender of the agent and live tails.
///
/// It reads only complete batches (both CRCs checked) below a limit the caller passes, usually
/// the shard's durable sequence, so it never hands out a batch a crash could still take back.
/// It moves to the next segment when the current one ends, skips damaged ranges the way
/// ``WALReader`` does, and tolerates segments deleted behind it.
///
/// Not thread-safe: one owner at a time.
public final class ShardCursor {
    public let layout: WALLayout
    public let shard: Int
    /// The sequence of the next record to hand out.
    public private(set) var position: UInt64
    private var file: SegmentFile?
    private var segmentBase: UInt64 = 0
    private var offset = 0
    /// Pages of the mapping below this offset were released from the resident set.
    private var releasedOffset = 0
    private let context = CodecContext()
    private var buffer: [UInt8] = []

    /// A cursor at `sequence` of `shard` in the WAL under `dataDirectory`.
    public init(dataDirectory: String, shard: Int, from sequence: UInt64) {
        layout = WALLayout(dataDirectory: dataDirectory)
        self.shard = shard
        position = sequence
    }

    /// Goes back (or forward) to `sequence`: the next batch handed out is the one holding it.
    public func seek(to sequence: UInt64) {
        position = sequence
        file = nil
    }

    /// The next complete batch whose records end at or below `limit`, or `nil` when there is
    /// none yet. Batches that end at or before ``position`` are skipped.
    public func next(upTo limit: UInt64) throws(WALError) -> ReadBatch? {
        while position < limit {
            if file == nil, !(try open()) { return nil }
            guard let current = file else { return nil }
            switch current.checkBatch(at: offset, verifyPayload: true) {
            case .valid(let header):
                guard header.endSequence <= limit else { return nil }
                let batch = ReadBatch(header: header, path: current.path, offset: offset, file: current)
                // What was read before this batch is not read again: keep RSS flat.
                if offset - releasedOffset >= 1 << 20 {
                    current.release(offset: releasedOffset, length: offset - releasedOffset)
                    releasedOffset = offset
                }
                offset += header.totalSize
                guard header.endSequence > position else { continue }
                position = header.endSequence
                return batch
            case .end, .truncated:
                // Nothing more here yet, unless the writer rolled to a segment that starts at
                // our position.
                guard try hasSegment(startingAt: position) else { return nil }
                file = nil
            case .damaged:
                guard let next = current.resync(from: offset + 1) else {
                    guard try hasSegment(startingAt: position) else { return nil }
                    file = nil
                    continue
                }
                offset = next
            }
        }
        return nil
    }

    /// The batch's payload as stored (compressed with its codec), copied out.
    public func storedPayload(of batch: ReadBatch) -> [UInt8] {
        batch.file.read(at: batch.offset + BatchHeader.size, count: Int(batch.header.storedLength))
    }

    /// The batch's records in the WAL payload encoding, decompressed and copied out.
    public func payload(of batch: ReadBatch) throws(BatchDamage) -> [UInt8] {
        let count = try batch.file.decodePayload(of: batch.header, at: batch.offset, context: context, into: &buffer)
        return Array(buffer[..<count])
    }

    /// Decompresses `batch` (handed out by this cursor) and returns a cursor over its records,
    /// valid until the next call.
    public func records(of batch: ReadBatch) throws(BatchDamage) -> RecordCursor {
        let count = try batch.file.decodePayload(of: batch.header, at: batch.offset, context: context, into: &buffer)
        return RecordCursor(buffer, count: count)
    }

    /// Opens the segment holding ``position`` and scans to the first batch at or past it.
    private func open() throws(WALError) -> Bool {
        let segments = try layout.segmentFiles(shard: shard)
        guard let segment = segments.last(where: { $0.base <= position }) ?? segments.first else { return false }
        let opened: SegmentFile
        do { opened = try SegmentFile.open(path: segment.path, writable: false) } catch { return false }
        guard let header = opened.header(), header.baseSequence == segment.base else { return false }
        opened.adviseSequential()
        file = opened
        segmentBase = segment.base
        offset = SegmentHeader.size
        releasedOffset = 0
        if segment.base > position { position = segment.base }
        return true
    }

    private func hasSegment(startingAt sequence: UInt64) throws(WALError) -> Bool {
        try layout.segmentFiles(shard: shard).contains { $0.base > segmentBase && $0.base <= sequence }
    }
}
