import Platform
import Synchronization

/// One shard's log: its segments, the active segment it appends to, its sequence counter and
/// its producers' high-water marks.
///
/// Thread safety: every method may be called from any thread. Two locks keep readers off the
/// write path: appends (one writer per shard is the intended use) hold the *writer* lock while
/// they compress, write, roll to a new segment (create, `fallocate`, header sync, directory
/// sync) and apply retention; what readers see (``segments``, ``durableSequence``, sync lag,
/// `/metrics`) sits behind a second lock that is only ever held for a few field updates. The
/// flusher's `msync` runs under neither.
public final class ShardLog: Sendable {
    public let shard: Int
    let layout: WALLayout
    public let options: WALOptions
    private let faults: (any WALFaults)?
    private let writer: Mutex<Writer>
    private let published: Mutex<Published>

    /// The appender's state: only appends, rolls, retention and close touch it.
    struct Writer {
        var active: SegmentFile?
        var writeOffset = 0
        var producers: [UInt64: ProducerMark]
        let context: CodecContext
    }

    /// What everyone else reads, and what the flusher updates.
    struct Published {
        var segments: [SegmentSummary]
        /// The segment being appended to, its end and how much of it is synced.
        var active: SegmentFile?
        var writeOffset = 0
        var syncedOffset = 0
        var releasedOffset = 0
        var nextSequence: UInt64
        /// Every sequence below this is durable.
        var durableSequence: UInt64
        var syncs = SyncStats()
        /// Monotonic time of the oldest write not yet synced, 0 when none.
        var oldestUnsynced: Int64 = 0
        /// Set by the first failed sync; from then on appends and syncs throw it.
        var failure: WALError?
        var closed = false
    }

    init(shard: Int, layout: WALLayout, options: WALOptions, recovered: ShardScanResult, faults: (any WALFaults)?) {
        self.shard = shard
        self.layout = layout
        self.options = options
        self.faults = faults
        var writer = Writer(producers: recovered.producers, context: CodecContext(zstdLevel: options.zstdLevel))
        var published = Published(
            segments: recovered.segments, nextSequence: recovered.nextSequence, durableSequence: recovered.nextSequence)
        // Continue the last segment when recovery left it writable; otherwise the first append
        // rolls to a new one.
        if let active = recovered.active, let last = recovered.segments.last, last.path == active.path {
            writer.active = active
            writer.writeOffset = last.dataEnd
            published.active = active
            published.writeOffset = last.dataEnd
            published.syncedOffset = last.dataEnd
            published.releasedOffset = last.dataEnd & ~4095
        }
        self.writer = Mutex(writer)
        self.published = Mutex(published)
    }

    /// Appends one batch, compressing it into the writer's scratch buffer and writing it to the
    /// active segment (``SegmentFile/writeBatch(_:header:at:context:)``), rolling to a new
    /// segment when it does not fit. In `batch` mode the batch is synced before returning.
    ///
    /// A batch whose producer sequence is not above the producer's stored high-water mark is
    /// not written (``AppendOutcome/duplicate(highWaterMark:)``).
    /// - Throws: ``WALError`` when the batch exceeds a segment or the disk fails.
    public func append(_ draft: BatchDraft) throws(WALError) -> AppendOutcome {
        try append(draft, deferSync: false)
    }

    /// Appends like ``append(_:)``; with `deferSync` in `batch` mode the sync is left to the
    /// caller, who group-commits several appends with one ``sync()`` before acknowledging any.
    public func append(_ draft: BatchDraft, deferSync: Bool) throws(WALError) -> AppendOutcome {
        try writer.withLock { (w: inout Writer) throws(WALError) -> AppendOutcome in
            let (base, failure, closed) = published.withLock { ($0.nextSequence, $0.failure, $0.closed) }
            guard !closed else { throw WALError(.closed, "shard \(shard) is closed") }
            if let failure { throw failure }
            guard draft.recordCount > 0, draft.recordCount <= Int(UInt32.max) else {
                throw WALError(.invalidArgument, "a batch must hold between 1 and \(UInt32.max) records, got \(draft.recordCount)")
            }
            if draft.producerID != 0, let mark = w.producers[draft.producerID], draft.producerSequence <= mark.sequence {
                return .duplicate(highWaterMark: mark.sequence)
            }
            if let injected = faults?.appendFailure(shard: shard) { throw injected }
            var header = BatchHeader(
                codec: draft.codec, shard: UInt32(shard), recordCount: UInt32(draft.recordCount), baseSequence: base,
                minTimestamp: draft.minTimestamp, maxTimestamp: draft.maxTimestamp, producerID: draft.producerID,
                producerSequence: draft.producerSequence)
            var written: Int? = nil
            if let active = w.active {
                written = try active.writeBatch(draft.payload, header: &header, at: w.writeOffset, context: w.context)
            }
            if written == nil {
                try roll(&w)
                written = try w.active!.writeBatch(draft.payload, header: &header, at: w.writeOffset, context: w.context)
                guard written != nil else {
                    throw WALError(
                        .batchTooLarge,
                        "a batch of \(draft.payload.count) bytes does not fit in a \(options.segmentSize)-byte segment")
                }
            }
            let offset = w.writeOffset
            w.writeOffset += written!
            if draft.producerID != 0 {
                w.producers[draft.producerID] = ProducerMark(sequence: draft.producerSequence, lastSeen: WallClock.nanoseconds() / 1_000_000_000)
            }
            let syncNow = options.durability == .batch && !deferSync
            if syncNow {
                let started = MonotonicClock.nanoseconds()
                try syncOrStop(w.active!, offset: offset, length: written!)
                let took = MonotonicClock.nanoseconds() - started
                published.withLock { $0.syncs.record(took) }
            }
            let end = w.writeOffset
            published.withLock { p in
                p.segments[p.segments.count - 1].add(header)
                p.segments[p.segments.count - 1].dataEnd = end
                p.writeOffset = end
                p.nextSequence = header.endSequence
                switch options.durability {
                case .none:
                    p.durableSequence = p.nextSequence
                    Self.releaseBehind(&p, upTo: end)
                case .batch where syncNow:
                    p.syncedOffset = end
                    p.durableSequence = p.nextSequence
                    Self.releaseBehind(&p, upTo: end)
                case .batch, .interval:
                    if p.oldestUnsynced == 0 { p.oldestUnsynced = MonotonicClock.nanoseconds() }
                }
            }
            return .appended(baseSequence: header.baseSequence, count: draft.recordCount, durable: options.durability == .none || syncNow)
        }
    }

    /// Syncs what was appended since the last sync (the group commit of `interval` mode).
    /// - Returns: the shard's durable sequence afterwards (every sequence below it is durable).
    @discardableResult
    public func sync() throws(WALError) -> UInt64 {
        let due = try published.withLock { (p: inout Published) throws(WALError) -> (SegmentFile, Int, Int, UInt64)? in
            if let failure = p.failure { throw failure }
            guard let active = p.active, p.writeOffset > p.syncedOffset else { return nil }
            return (active, p.syncedOffset, p.writeOffset, p.nextSequence)
        }
        guard let (file, from, to, sequence) = due else { return durableSequence }
        let started = MonotonicClock.nanoseconds()
        try syncOrStop(file, offset: from, length: to - from)
        let took = MonotonicClock.nanoseconds() - started
        return published.withLock { p in
            p.syncs.record(took)
            if p.active === file {
                p.syncedOffset = max(p.syncedOffset, to)
                Self.releaseBehind(&p, upTo: p.syncedOffset)
                if p.syncedOffset >= p.writeOffset { p.oldestUnsynced = 0 }
            }
            p.durableSequence = max(p.durableSequence, sequence)
            return p.durableSequence
        }
    }

    /// How long the oldest write not yet synced has waited (0 when everything is synced): the
    /// shard's WAL sync lag.
    public var syncLagNanoseconds: Int64 {
        let oldest = published.withLock { $0.oldestUnsynced }
        return oldest == 0 ? 0 : max(0, MonotonicClock.nanoseconds() - oldest)
    }

    /// How long syncs of this shard took.
    public var syncStats: SyncStats { published.withLock { $0.syncs } }

    /// Every sequence below this one is durable under the configured mode.
    public var durableSequence: UInt64 { published.withLock { $0.durableSequence } }

    /// The sequence the next appended record will get.
    public var nextSequence: UInt64 { published.withLock { $0.nextSequence } }

    /// The highest stored producer sequence of `producerID`, if any. Waits for an append in
    /// progress.
    public func highWaterMark(producerID: UInt64) -> UInt64? { writer.withLock { $0.producers[producerID]?.sequence } }

    /// A copy of every producer's high-water mark and when it was last seen. Waits for an
    /// append in progress.
    public var highWaterMarks: [UInt64: ProducerMark] { writer.withLock { $0.producers } }

    /// The shard's segments, oldest first (the last one is the active segment).
    public var segments: [SegmentSummary] { published.withLock { $0.segments } }

    /// Bytes stored in the shard's segments (headers and payloads).
    public var storedBytes: Int { published.withLock { $0.segments.reduce(0) { $0 + $1.dataEnd } } }

    /// The failed sync that stopped this shard, or `nil` while it works.
    ///
    /// After a failed msync the kernel may already have dropped the unsynced pages or marked them
    /// clean, so a later sync that succeeds proves nothing about them. The shard therefore stops
    /// for good (as PostgreSQL does after a failed fsync): batches waiting for that sync fail,
    /// appends and syncs throw this error, and nothing more is acknowledged. Restarting the node
    /// recovers from what is on disk.
    public var failure: WALError? { published.withLock { $0.failure } }

    /// Deletes closed segments past the retention policy, oldest first. Waits for an append in
    /// progress.
    /// - Parameter now: seconds since the epoch, injectable for tests.
    /// - Returns: the paths deleted.
    @discardableResult
    public func applyRetention(now: Int64) throws(WALError) -> [String] {
        try writer.withLock { (w: inout Writer) throws(WALError) -> [String] in try retain(&w, now: now) }
    }

    /// Deletes the closed segments all of whose records are below `sequence` (oldest first,
    /// crash-safe as retention is; the active segment is never deleted): for a log whose
    /// records are consumed, such as the agent's spool once the node acknowledged them.
    /// Producer marks are saved first, as before any deletion. Waits for an append in progress.
    /// - Returns: the paths deleted.
    @discardableResult
    public func deleteSegments(below sequence: UInt64) throws(WALError) -> [String] {
        try writer.withLock { (w: inout Writer) throws(WALError) -> [String] in
            let doomed = published.withLock { p in
                Array(p.segments.dropLast().prefix { $0.endSequence <= sequence })
            }
            return try delete(doomed, &w, survivorCreated: nil, now: WallClock.nanoseconds() / 1_000_000_000)
        }
    }

    /// Syncs everything and unmaps the active segment; later appends throw.
    func close() throws(WALError) {
        try writer.withLock { (w: inout Writer) throws(WALError) in
            let (closed, failure, file, from) = published.withLock { p in
                defer { p.closed = true }
                return (p.closed, p.failure, p.active, p.syncedOffset)
            }
            guard !closed else { return }
            defer {
                w.active = nil
                published.withLock { $0.active = nil }
            }
            // A stopped shard claims nothing more durable; its waiting batches have failed.
            guard failure == nil else { return }
            if let file, w.writeOffset > from { try syncOrStop(file, offset: from, length: w.writeOffset - from) }
            published.withLock { p in
                p.syncedOffset = w.writeOffset
                p.durableSequence = p.nextSequence
                p.oldestUnsynced = 0
            }
        }
    }

    /// Syncs a range of `file`; a failure stops the shard.
    private func syncOrStop(_ file: SegmentFile, offset: Int, length: Int) throws(WALError) {
        do throws(WALError) {
            if let injected = faults?.syncFailure(shard: shard, path: file.path) { throw injected }
            try file.sync(offset: offset, length: length)
        } catch {
            throw published.withLock { stop(&$0, after: error) }
        }
    }

    /// Records that a sync failed; returns the error the shard reports from now on.
    private func stop(_ p: inout Published, after error: WALError) -> WALError {
        if let failure = p.failure { return failure }
        let failure = WALError(
            .shardStopped,
            "shard \(shard) stopped after a failed sync: records not yet synced may be lost, so it accepts and acknowledges nothing more; restart the node to recover from what is on disk",
            path: error.path, cause: error)
        p.failure = failure
        // What was not synced never will be: the sync lag grows from here on (the built-in
        // sync-lag alert fires), even when the failed sync was a new segment's header.
        if p.oldestUnsynced == 0 { p.oldestUnsynced = MonotonicClock.nanoseconds() }
        return failure
    }

    private static func releaseBehind(_ p: inout Published, upTo offset: Int) {
        let step = 4 << 20
        guard let active = p.active, offset - p.releasedOffset >= step else { return }
        let end = offset & ~4095
        active.release(offset: p.releasedOffset, length: end - p.releasedOffset)
        p.releasedOffset = end
    }

    /// Closes the active segment (synced unless the mode is `none`) and starts a new one whose
    /// base is the next sequence. The new file is preallocated, its header synced and its
    /// directory entry made durable before any batch goes in. Runs under the writer lock only.
    private func roll(_ w: inout Writer) throws(WALError) {
        let (base, syncedOffset) = published.withLock { ($0.nextSequence, $0.syncedOffset) }
        if let old = w.active {
            if options.durability != .none, w.writeOffset > syncedOffset {
                try syncOrStop(old, offset: syncedOffset, length: w.writeOffset - syncedOffset)
            }
            published.withLock { p in
                p.durableSequence = p.nextSequence
                p.syncedOffset = w.writeOffset
                p.oldestUnsynced = 0
            }
            old.release(offset: 0, length: old.size)
            w.active = nil
        }
        let path = layout.segmentPath(shard: shard, base: base)
        if FileSystem.exists(path) {
            // An empty segment with this base (no batch ever landed in it): start it afresh.
            try io { () throws(SystemError) in try FileSystem.remove(path) }
            published.withLock { $0.segments.removeAll { $0.path == path } }
        }
        let file = try SegmentFile.create(path: path, size: options.segmentSize)
        let header = SegmentHeader(shard: UInt32(shard), baseSequence: base, createdNanoseconds: WallClock.nanoseconds())
        try file.write(header.encoded(), at: 0)
        try syncOrStop(file, offset: 0, length: SegmentHeader.size)
        try io { () throws(SystemError) in try FileSystem.syncDirectory(layout.shardDirectory(shard)) }
        w.active = file
        w.writeOffset = SegmentHeader.size
        published.withLock { p in
            p.active = file
            p.writeOffset = SegmentHeader.size
            p.syncedOffset = SegmentHeader.size
            p.releasedOffset = 0
            p.segments.append(SegmentSummary(path: path, baseSequence: base, createdNanoseconds: header.createdNanoseconds))
        }
        _ = try retain(&w, now: WallClock.nanoseconds() / 1_000_000_000)
    }

    /// Deletes the oldest closed segments while the shard is over its size limit or they were
    /// closed longer ago than the age limit. A segment counts as closed when the next one was
    /// created (its header says when), so the timestamps senders put in their records never
    /// age a segment, and the active (last) segment is never deleted.
    ///
    /// Before anything is deleted, the producers' high-water marks are saved
    /// (``ProducerMarksFile``): a resend of a batch whose segment is gone is still a duplicate
    /// after a restart. A mark is forgotten (in memory and in the file) once its producer has
    /// been silent past ``RetentionPolicy/producerExpirySeconds`` and none of its batches can be
    /// left (it was last seen before the oldest remaining segment was created).
    ///
    /// Crash-safe: each file is renamed to `.deleting` (atomic, and ignored by readers) and the
    /// directory synced before it is unlinked; recovery finishes any deletion a crash
    /// interrupted. Oldest first, so the log stays contiguous. The file work runs under the
    /// writer lock only; readers see a segment go once it is renamed.
    private func retain(_ w: inout Writer, now: Int64) throws(WALError) -> [String] {
        let policy = options.retention
        let (doomed, survivorCreated) = published.withLock { p -> ([SegmentSummary], Int64) in
            var total = p.segments.reduce(0) { $0 + $1.dataEnd }
            var count = 0
            while p.segments.count - count > 1 {
                let oldest = p.segments[count]
                let closed = p.segments[count + 1].createdNanoseconds / 1_000_000_000
                let overSize = policy.maxBytesPerShard.map { total > $0 } ?? false
                let overAge = policy.maxAgeSeconds.map { now - closed > $0 } ?? false
                guard overSize || overAge else { break }
                total -= oldest.dataEnd
                count += 1
            }
            return (Array(p.segments.prefix(count)), p.segments[count].createdNanoseconds / 1_000_000_000)
        }
        return try delete(doomed, &w, survivorCreated: survivorCreated, now: now)
    }

    /// Saves the producer marks (forgetting the expired ones, when the oldest survivor's
    /// creation time is known) and deletes `doomed`, a prefix of the segments, oldest first.
    private func delete(_ doomed: [SegmentSummary], _ w: inout Writer, survivorCreated: Int64?, now: Int64) throws(WALError) -> [String] {
        guard !doomed.isEmpty else { return [] }
        if let expiry = options.retention.producerExpirySeconds, let survivorCreated {
            w.producers = w.producers.filter { now - $0.value.lastSeen <= expiry || $0.value.lastSeen >= survivorCreated }
        }
        try ProducerMarksFile(path: layout.producerMarksPath(shard: shard)).write(w.producers)
        var deleted: [String] = []
        for segment in doomed {
            let renamed = segment.path + ".deleting"
            try io { () throws(SystemError) in try FileSystem.rename(segment.path, renamed) }
            published.withLock { _ = $0.segments.removeFirst() }
            try io { () throws(SystemError) in try FileSystem.syncDirectory(layout.shardDirectory(shard)) }
            try io { () throws(SystemError) in try FileSystem.remove(renamed) }
            deleted.append(segment.path)
        }
        return deleted
    }
}
