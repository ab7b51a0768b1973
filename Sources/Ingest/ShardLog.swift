import Synchronization

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

/// One shard's log: its segments, the active segment it appends to, its sequence counter and
/// its producers' high-water marks.
///
/// Thread safety: every method may be called from any thread; a mutex serialises appends (one
/// writer per shard is the intended use) and the flusher's syncs of the active segment.
public final class ShardLog: Sendable {
    public let shard: Int
    let layout: WALLayout
    let options: WALOptions
    private let state: Mutex<State>

    struct State {
        var segments: [SegmentSummary]
        var active: SegmentFile?
        var writeOffset = 0
        var syncedOffset = 0
        var releasedOffset = 0
        var nextSequence: UInt64
        /// Every sequence below this is durable.
        var durableSequence: UInt64
        var producers: [UInt64: UInt64]
        let context: CodecContext
        var closed = false
        var syncs = SyncStats()
        /// Monotonic time of the oldest write not yet synced (interval mode), 0 when none.
        var oldestUnsynced: Int64 = 0
        /// Set by the first failed sync; from then on appends and syncs throw it.
        var failure: WALError?
        /// ``ShardLog/failNextSync(with:)``: the next sync throws this instead of syncing.
        var injectedSyncFailure: WALError?

        /// The injected failure for the sync about to run, cleared.
        mutating func takeInjectedSyncFailure() -> WALError? {
            defer { injectedSyncFailure = nil }
            return injectedSyncFailure
        }
    }

    init(shard: Int, layout: WALLayout, options: WALOptions, recovered: ShardScanResult) {
        self.shard = shard
        self.layout = layout
        self.options = options
        var state = State(
            segments: recovered.segments, nextSequence: recovered.nextSequence,
            durableSequence: recovered.nextSequence, producers: recovered.producers,
            context: CodecContext(zstdLevel: options.zstdLevel))
        // Continue the last segment when recovery left it writable; otherwise the first append
        // rolls to a new one.
        if let active = recovered.active, let last = recovered.segments.last, last.path == active.path {
            state.active = active
            state.writeOffset = last.dataEnd
            state.syncedOffset = last.dataEnd
            state.releasedOffset = last.dataEnd & ~4095
        }
        self.state = Mutex(state)
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
    func append(_ draft: BatchDraft, deferSync: Bool) throws(WALError) -> AppendOutcome {
        try state.withLock { (s: inout State) throws(WALError) -> AppendOutcome in
            guard !s.closed else { throw WALError(.closed, "shard \(shard) is closed") }
            if let failure = s.failure { throw failure }
            guard draft.recordCount > 0, draft.recordCount <= Int(UInt32.max) else {
                throw WALError(.invalidArgument, "a batch must hold between 1 and \(UInt32.max) records, got \(draft.recordCount)")
            }
            if draft.producerID != 0, let mark = s.producers[draft.producerID], draft.producerSequence <= mark {
                return .duplicate(highWaterMark: mark)
            }
            var header = BatchHeader(
                codec: draft.codec, shard: UInt32(shard), recordCount: UInt32(draft.recordCount),
                baseSequence: s.nextSequence, minTimestamp: draft.minTimestamp, maxTimestamp: draft.maxTimestamp,
                producerID: draft.producerID, producerSequence: draft.producerSequence)
            var written: Int? = nil
            if let active = s.active {
                written = try active.writeBatch(draft.payload, header: &header, at: s.writeOffset, context: s.context)
            }
            if written == nil {
                try roll(&s)
                header.baseSequence = s.nextSequence
                written = try s.active!.writeBatch(draft.payload, header: &header, at: s.writeOffset, context: s.context)
                guard written != nil else {
                    throw WALError(
                        .batchTooLarge,
                        "a batch of \(draft.payload.count) bytes does not fit in a \(options.segmentSize)-byte segment")
                }
            }
            let offset = s.writeOffset
            s.writeOffset += written!
            s.segments[s.segments.count - 1].add(header)
            s.segments[s.segments.count - 1].dataEnd = s.writeOffset
            s.nextSequence = header.endSequence
            if draft.producerID != 0 { s.producers[draft.producerID] = draft.producerSequence }
            switch options.durability {
            case .batch where deferSync:
                if s.oldestUnsynced == 0 { s.oldestUnsynced = Monotonic.nanoseconds() }
            case .batch:
                let started = Monotonic.nanoseconds()
                try syncOrStop(&s, s.active!, offset: offset, length: written!)
                s.syncs.record(Monotonic.nanoseconds() - started)
                s.syncedOffset = s.writeOffset
                s.durableSequence = s.nextSequence
                releaseBehind(&s, upTo: s.syncedOffset)
            case .none:
                s.durableSequence = s.nextSequence
                releaseBehind(&s, upTo: s.writeOffset)
            case .interval:
                if s.oldestUnsynced == 0 { s.oldestUnsynced = Monotonic.nanoseconds() }
            }
            return .appended(
                baseSequence: header.baseSequence, count: draft.recordCount,
                durable: options.durability == .none || (options.durability == .batch && !deferSync))
        }
    }

    /// Syncs what was appended since the last sync (the group commit of `interval` mode).
    /// - Returns: the shard's durable sequence afterwards (every sequence below it is durable).
    @discardableResult
    public func sync() throws(WALError) -> UInt64 {
        let due = try state.withLock { (s: inout State) throws(WALError) -> (SegmentFile, Int, Int, UInt64, WALError?)? in
            if let failure = s.failure { throw failure }
            guard let active = s.active, s.writeOffset > s.syncedOffset else { return nil }
            return (active, s.syncedOffset, s.writeOffset, s.nextSequence, s.takeInjectedSyncFailure())
        }
        guard let (file, from, to, sequence, injected) = due else { return durableSequence }
        let started = Monotonic.nanoseconds()
        do {
            try Self.sync(file, offset: from, length: to - from, injected: injected)
        } catch {
            throw state.withLock { s in stop(&s, after: error) }
        }
        let took = Monotonic.nanoseconds() - started
        return state.withLock { s in
            s.syncs.record(took)
            if s.active === file {
                s.syncedOffset = max(s.syncedOffset, to)
                releaseBehind(&s, upTo: s.syncedOffset)
                if s.syncedOffset >= s.writeOffset { s.oldestUnsynced = 0 }
            }
            s.durableSequence = max(s.durableSequence, sequence)
            return s.durableSequence
        }
    }

    /// How long the oldest write not yet synced has waited (interval mode; 0 otherwise): the
    /// shard's WAL sync lag.
    public var syncLagNanoseconds: Int64 {
        let oldest = state.withLock { $0.oldestUnsynced }
        return oldest == 0 ? 0 : max(0, Monotonic.nanoseconds() - oldest)
    }

    /// How long syncs of this shard took.
    public var syncStats: SyncStats { state.withLock { $0.syncs } }

    /// Every sequence below this one is durable under the configured mode.
    public var durableSequence: UInt64 { state.withLock { $0.durableSequence } }

    /// The sequence the next appended record will get.
    public var nextSequence: UInt64 { state.withLock { $0.nextSequence } }

    /// The highest stored producer sequence of `producerID`, if any.
    public func highWaterMark(producerID: UInt64) -> UInt64? { state.withLock { $0.producers[producerID] } }

    /// A copy of every producer's high-water mark.
    public var highWaterMarks: [UInt64: UInt64] { state.withLock { $0.producers } }

    /// The shard's segments, oldest first (the last one is the active segment).
    public var segments: [SegmentSummary] { state.withLock { $0.segments } }

    /// Bytes stored in the shard's segments (headers and payloads).
    public var storedBytes: Int { state.withLock { $0.segments.reduce(0) { $0 + $1.dataEnd } } }

    /// Deletes closed segments past the retention policy, oldest first.
    /// - Parameter now: seconds since the epoch, injectable for tests.
    /// - Returns: the paths deleted.
    @discardableResult
    public func applyRetention(now: Int64) throws(WALError) -> [String] {
        try state.withLock { (s: inout State) throws(WALError) -> [String] in try retain(&s, now: now) }
    }

    /// Syncs everything and unmaps the active segment; later appends throw.
    func close() throws(WALError) {
        try state.withLock { (s: inout State) throws(WALError) in
            guard !s.closed else { return }
            s.closed = true
            defer { s.active = nil }
            // A stopped shard claims nothing more durable; its waiting batches have failed.
            guard s.failure == nil else { return }
            if let active = s.active, s.writeOffset > s.syncedOffset {
                try syncOrStop(&s, active, offset: s.syncedOffset, length: s.writeOffset - s.syncedOffset)
            }
            s.durableSequence = s.nextSequence
        }
    }

    /// The failed sync that stopped this shard, or `nil` while it works.
    ///
    /// After a failed msync the kernel may already have dropped the unsynced pages or marked them
    /// clean, so a later sync that succeeds proves nothing about them. The shard therefore stops
    /// for good (as PostgreSQL does after a failed fsync): batches waiting for that sync fail,
    /// appends and syncs throw this error, and nothing more is acknowledged. Restarting the node
    /// recovers from what is on disk.
    public var failure: WALError? { state.withLock { $0.failure } }

    /// Test hook: the next sync of this shard fails with `error`, as a failed msync would.
    func failNextSync(with error: WALError) { state.withLock { $0.injectedSyncFailure = error } }

    /// Syncs a range of `file` under the lock; a failure stops the shard.
    private func syncOrStop(_ s: inout State, _ file: SegmentFile, offset: Int, length: Int) throws(WALError) {
        do {
            try Self.sync(file, offset: offset, length: length, injected: s.takeInjectedSyncFailure())
        } catch {
            throw stop(&s, after: error)
        }
    }

    private static func sync(_ file: SegmentFile, offset: Int, length: Int, injected: WALError?) throws(WALError) {
        if let injected { throw injected }
        try file.sync(offset: offset, length: length)
    }

    /// Records that a sync failed; returns the error the shard reports from now on.
    private func stop(_ s: inout State, after error: WALError) -> WALError {
        if let failure = s.failure { return failure }
        let failure = WALError(
            .shardStopped,
            "shard \(shard) stopped after a failed sync (\(error.message)): records not yet synced may be lost, so it accepts and acknowledges nothing more; restart the node to recover from what is on disk",
            path: error.path)
        s.failure = failure
        // What was not synced never will be: the sync lag grows from here on (the built-in
        // sync-lag alert fires), even when the failed sync was a new segment's header.
        if s.oldestUnsynced == 0 { s.oldestUnsynced = Monotonic.nanoseconds() }
        return failure
    }

    private func releaseBehind(_ s: inout State, upTo offset: Int) {
        let step = 4 << 20
        guard let active = s.active, offset - s.releasedOffset >= step else { return }
        let end = offset & ~4095
        active.release(offset: s.releasedOffset, length: end - s.releasedOffset)
        s.releasedOffset = end
    }

    /// Closes the active segment (synced unless the mode is `none`) and starts a new one whose
    /// base is the next sequence. The new file is preallocated, its header synced and its
    /// directory entry made durable before any batch goes in.
    private func roll(_ s: inout State) throws(WALError) {
        if let old = s.active {
            if options.durability != .none, s.writeOffset > s.syncedOffset {
                try syncOrStop(&s, old, offset: s.syncedOffset, length: s.writeOffset - s.syncedOffset)
            }
            s.durableSequence = s.nextSequence
            old.release(offset: 0, length: old.size)
            s.active = nil
        }
        let path = layout.segmentPath(shard: shard, base: s.nextSequence)
        if FileSystem.exists(path) {
            // An empty segment with this base (no batch ever landed in it): start it afresh.
            try FileSystem.remove(path)
            s.segments.removeAll { $0.path == path }
        }
        let file = try SegmentFile.create(path: path, size: options.segmentSize)
        let header = SegmentHeader(
            shard: UInt32(shard), baseSequence: s.nextSequence, createdNanoseconds: WallClock.nanoseconds())
        try file.write(header.encoded(), at: 0)
        try syncOrStop(&s, file, offset: 0, length: SegmentHeader.size)
        try FileSystem.syncDirectory(layout.shardDirectory(shard))
        s.active = file
        s.writeOffset = SegmentHeader.size
        s.syncedOffset = SegmentHeader.size
        s.releasedOffset = 0
        s.segments.append(SegmentSummary(path: path, baseSequence: s.nextSequence))
        _ = try retain(&s, now: WallClock.nanoseconds() / 1_000_000_000)
    }

    /// Deletes the oldest closed segments while the shard is over its size limit or they are
    /// older than the age limit. Crash-safe: each file is renamed to `.deleting` (atomic, and
    /// ignored by readers) and the directory synced before it is unlinked; recovery finishes
    /// any deletion a crash interrupted. Oldest first, so the log stays contiguous.
    private func retain(_ s: inout State, now: Int64) throws(WALError) -> [String] {
        let policy = options.retention
        var deleted: [String] = []
        var total = s.segments.reduce(0) { $0 + $1.dataEnd }
        while s.segments.count > 1 {
            let oldest = s.segments[0]
            let overSize = policy.maxBytesPerShard.map { total > $0 } ?? false
            let newest = oldest.records > 0 ? oldest.maxTimestamp / 1_000_000_000 : (FileSystem.attributes(oldest.path)?.modified ?? now)
            let overAge = policy.maxAgeSeconds.map { now - newest > $0 } ?? false
            guard overSize || overAge else { break }
            let doomed = oldest.path + ".deleting"
            try FileSystem.rename(oldest.path, doomed)
            try FileSystem.syncDirectory(layout.shardDirectory(shard))
            try FileSystem.remove(doomed)
            total -= oldest.dataEnd
            s.segments.removeFirst()
            deleted.append(oldest.path)
        }
        return deleted
    }
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
