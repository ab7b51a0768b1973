public import Platform
import WAL
import Logging
import NIOCore

/// The record sink of one event loop, as a value: decoders write into it through `inout`, so
/// the per-record path touches a local struct (no class exclusivity checks, no retains).
///
/// Encodes decoded records straight into per-shard batch buffers and hands each sealed batch
/// to its shard's writer: one thread hop per batch. A batch seals at
/// ``IngestLimits/batchBytes`` or ``IngestLimits/lingerNanoseconds`` after its first record.
/// Counters are plain integers, published to ``IngestStats`` once a second. Sources are counted
/// in a table bounded like the statistics (``IngestStats/maxSources``).
public struct BatchingSink: RecordSink {
    let writers: [ShardWriter]
    let gate: InFlightGate
    let stats: IngestStats
    let limits: IngestLimits
    let pool: PayloadPool
    let logger: Logger
    var payloads: ShardedPayloads

    /// Set before decoding a read: where the bytes came from.
    public var listener: ListenerKind = .syslogTCP
    /// The sending peer's address, used when a record names no host.
    public var peer: [UInt8] = []
    /// Wall-clock time of the current read (ns), for records without a timestamp.
    public var receivedAt: Int64 = 0
    /// Monotonic time of the current read (ns), for linger.
    public var now: UInt64 = 0

    private var counters = [ListenerCounters](repeating: ListenerCounters(), count: ListenerKind.allCases.count)
    private var native = NativeBatchCounters()
    /// This loop's sources, bounded by ``IngestStats/maxSources`` (the `max_sources` setting).
    private(set) var sources: SourceTable
    private var openSource = 0
    private var rejectLogsThisSecond = 0

    init(writers: [ShardWriter], gate: InFlightGate, stats: IngestStats, limits: IngestLimits, pool: PayloadPool, logger: Logger) {
        self.writers = writers
        self.gate = gate
        self.stats = stats
        self.limits = limits
        self.pool = pool
        self.logger = logger
        sources = SourceTable(limit: stats.maxSources)
        payloads = ShardedPayloads(shardCount: writers.count)
        for shard in 0 ..< writers.count { payloads.replaceBuffer(shard: shard, with: pool.take()) }
    }

    // MARK: RecordSink

    // An empty source key means the sending peer. A record with its own key does not touch
    // `peer`: reading the array while `self` is mutated costs a retain and a release.

    public mutating func beginLog(timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView) {
        guard host.isEmpty else {
            payloads.beginLog(shard: route(host), timestamp: timestamp, severity: severity, facility: facility, host: host, app: app, message: message, now: now)
            return
        }
        let peer = self.peer
        unsafe peer.withUnsafeBytes { raw in
            let h = unsafe ByteView(raw)
            payloads.beginLog(shard: route(h), timestamp: timestamp, severity: severity, facility: facility, host: h, app: app, message: message, now: now)
        }
    }

    public mutating func beginMetric(timestamp: Int64, name: ByteView, value: Double, source: ByteView) {
        guard source.isEmpty else {
            payloads.beginMetric(shard: route(source), timestamp: timestamp, name: name, value: value, now: now)
            return
        }
        let peer = self.peer
        unsafe peer.withUnsafeBytes { raw in
            let key = unsafe ByteView(raw)
            payloads.beginMetric(shard: route(key), timestamp: timestamp, name: name, value: value, now: now)
        }
    }

    public mutating func field(key: ByteView, value: ByteView) { payloads.field(key: key, value: value) }

    public mutating func finishRecord() {
        let (shard, bytes) = payloads.finishRecord()
        counters[listener.rawValue].records &+= 1
        counters[listener.rawValue].bytes &+= bytes
        sources.count(openSource, records: 1, bytes: bytes, at: receivedAt)
        if payloads.shards[shard].byteCount >= limits.batchBytes { seal(shard) }
    }

    public mutating func reject(_ reason: StaticString, sample: ByteView) {
        counters[listener.rawValue].rejects &+= 1
        let peer = self.peer
        let slot = unsafe peer.withUnsafeBytes { raw in
            let view = unsafe ByteView(raw)
            return sources.slot(hash: SourceHash.hash(view), name: view, listener: listener)
        }
        sources.reject(slot, at: receivedAt)
        guard rejectLogsThisSecond < 5 else { return }
        rejectLogsThisSecond += 1
        let text = String(decoding: sample.bytes.prefix(200), as: UTF8.self)
        logger.info("rejected input", metadata: [
            "ingest.listener": "\(listener)", "ingest.peer": "\(String(decoding: peer, as: UTF8.self))",
            "ingest.reason": "\(reason)", "ingest.sample": "\(text)",
        ])
    }

    // MARK: Counting, sealing, publishing

    /// Counts datagrams that could not be taken (UDP under backpressure).
    public mutating func countDropped(_ n: Int = 1) { counters[listener.rawValue].dropped &+= n }

    /// Counts an accepted connection.
    public mutating func countConnection() { counters[listener.rawValue].connections &+= 1 }

    /// Counts records that reached the WAL without this sink (native batches).
    public mutating func countRecords(_ records: Int, bytes: Int) {
        counters[listener.rawValue].records &+= records
        counters[listener.rawValue].bytes &+= bytes
    }

    /// Counts a native batch frame of `wireBytes` bytes as it arrived.
    public mutating func countNativeBatch(_ encoding: NativeBatchEncoding, wireBytes: Int) {
        native.batches[encoding.rawValue] &+= 1
        native.wireBytes[encoding.rawValue] &+= wireBytes
    }

    /// Counts a native batch answered as a duplicate.
    public mutating func countDuplicateBatch() { native.duplicates &+= 1 }

    /// Seals every shard whose first record arrived at least a linger ago.
    mutating func sealExpired(now: UInt64) {
        for shard in 0 ..< payloads.shardCount where payloads.shards[shard].count > 0 {
            if now &- payloads.shards[shard].openedAt >= limits.lingerNanoseconds { seal(shard) }
        }
    }

    /// Whether any shard's batch holds records (so the linger timer must be armed).
    var hasOpenBatch: Bool {
        for shard in 0 ..< payloads.shardCount where payloads.shards[shard].count > 0 { return true }
        return false
    }

    /// Seals everything (graceful shutdown).
    mutating func sealAll() {
        for shard in 0 ..< payloads.shardCount { seal(shard) }
    }

    /// Pushes this loop's counters to ``IngestStats`` and starts counting afresh.
    mutating func publish() {
        stats.publish(listeners: counters, native: native, sources: sources.drain())
        for i in counters.indices { counters[i] = ListenerCounters() }
        native = NativeBatchCounters()
        rejectLogsThisSecond = 0
    }

    private mutating func seal(_ shard: Int) {
        guard let draft = payloads.take(shard: shard, codec: limits.codec, replacement: pool.take()) else { return }
        gate.reserve(bytes: draft.payload.count, shard: shard)
        writers[shard].submit(draft)
    }

    @inline(__always)
    private mutating func route(_ host: ByteView) -> Int {
        let h = SourceHash.hash(host)
        openSource = sources.slot(hash: h, name: host, listener: listener)
        return SourceHash.shard(for: h, shardCount: payloads.shardCount)
    }
}

/// Owns an event loop's ``BatchingSink``. Handlers move the sink out for the duration of one
/// read (`withSink`), so the hot path never goes through a class property.
///
/// Thread safety: owned by one event loop; every method runs on that loop.
public final class LoopBatcher {
    /// The loop's compression context, reused for every native BATCH_COMPRESSED decompressed
    /// on it (the zstd context is made at the first zstd batch).
    let codecContext = CodecContext()
    private var sink: BatchingSink?
    private let loop: any EventLoop
    private let linger: TimeAmount
    private var lingerArmed = false

    /// A batcher owned by `loop`, whose open batches seal `linger` after their first record.
    init(_ sink: BatchingSink, loop: any EventLoop, linger: TimeAmount) {
        self.sink = sink
        self.loop = loop
        self.linger = linger
    }

    /// Runs `body` with this loop's sink. Afterwards, if a batch is open and no linger timer is
    /// armed, arms one: an idle loop has no timer at all, instead of waking every linger period.
    @inline(__always)
    public func withSink<R>(_ body: (inout BatchingSink) -> R) -> R {
        guard var local = sink.take() else { preconditionFailure("withSink re-entered on one event loop") }
        let result = body(&local)
        let open = !lingerArmed && local.hasOpenBatch
        sink = local
        if open { armLinger() }
        return result
    }

    private func armLinger() {
        lingerArmed = true
        let bound = NIOLoopBound(self, eventLoop: loop)
        loop.scheduleTask(in: linger) {
            let batcher = bound.value
            batcher.lingerArmed = false
            // Seals what is old enough; re-arms itself if a younger batch is still open.
            batcher.withSink { $0.sealExpired(now: NIODeadline.now().uptimeNanoseconds) }
        }
    }
}

@available(*, unavailable)
extension LoopBatcher: Sendable {}
