import Logging

/// The record sink of one event loop: encodes decoded records straight into per-shard batch
/// buffers and hands each sealed batch to its shard's writer (one thread hop per batch).
///
/// A batch seals at ``IngestLimits/batchBytes`` or after ``IngestLimits/lingerNanoseconds``.
/// Counters are plain integers, published to ``IngestStats`` once a second.
///
/// Thread safety: owned by one event loop; every method runs on that loop.
public final class LoopBatcher: RecordSink {
    let writers: [ShardWriter]
    let gate: InFlightGate
    let stats: IngestStats
    let limits: IngestLimits
    let logger: Logger
    var payloads: ShardedPayloads

    /// Set by a handler before it decodes a read: where the bytes came from.
    public var listener: ListenerKind = .syslogTCP
    /// The sending peer's address, used when a record names no host.
    public var peer: [UInt8] = []
    /// Wall-clock time of the current read (ns), for records without a timestamp.
    public var receivedAt: Int64 = 0
    /// Monotonic time of the current read (ns), for linger.
    public var now: UInt64 = 0

    private var counters = [ListenerCounters](repeating: ListenerCounters(), count: ListenerKind.allCases.count)
    private var sources: [UInt64: SourceStats] = [:]
    private var openSource: UInt64 = 0
    private var rejectSamples: [(ListenerKind, String, String)] = []
    private var rejectLogsThisSecond = 0

    init(writers: [ShardWriter], gate: InFlightGate, stats: IngestStats, limits: IngestLimits, logger: Logger) {
        self.writers = writers
        self.gate = gate
        self.stats = stats
        self.limits = limits
        self.logger = logger
        payloads = ShardedPayloads(shardCount: writers.count, reserve: limits.batchBytes + 65_536)
    }

    // MARK: RecordSink

    public func beginLog(timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView) {
        if host.isEmpty {
            unsafe peer.withUnsafeBytes { raw in
                let h = unsafe ByteView(raw)
                let shard = route(h)
                payloads.beginLog(shard: shard, timestamp: timestamp, severity: severity, facility: facility, host: h, app: app, message: message, now: now)
            }
        } else {
            let shard = route(host)
            payloads.beginLog(shard: shard, timestamp: timestamp, severity: severity, facility: facility, host: host, app: app, message: message, now: now)
        }
    }

    public func beginMetric(timestamp: Int64, name: ByteView, value: Double, source: ByteView) {
        if source.isEmpty {
            unsafe peer.withUnsafeBytes { raw in
                let shard = route(unsafe ByteView(raw))
                payloads.beginMetric(shard: shard, timestamp: timestamp, name: name, value: value, now: now)
            }
        } else {
            payloads.beginMetric(shard: route(source), timestamp: timestamp, name: name, value: value, now: now)
        }
    }

    public func field(key: ByteView, value: ByteView) { payloads.field(key: key, value: value) }

    public func finishRecord() {
        let (shard, bytes) = payloads.finishRecord()
        counters[listener.rawValue].records += 1
        counters[listener.rawValue].bytes += bytes
        sources[openSource]?.records += 1
        sources[openSource]?.bytes += bytes
        if payloads.shards[shard].payload.count >= limits.batchBytes { seal(shard) }
    }

    public func reject(_ reason: StaticString, sample: ByteView) {
        counters[listener.rawValue].rejects += 1
        let key = unsafe peer.withUnsafeBytes { unsafe SourceHash.hash(ByteView($0)) }
        if sources[key] == nil { sources[key] = SourceStats(name: String(decoding: peer, as: UTF8.self), listener: listener) }
        sources[key]!.rejects += 1
        guard rejectLogsThisSecond < 5 else { return }
        rejectLogsThisSecond += 1
        let text = String(decoding: sample.bytes.prefix(200), as: UTF8.self)
        rejectSamples.append((listener, reason.description, text))
        logger.info("rejected input", metadata: [
            "ingest.listener": "\(listener)", "ingest.peer": "\(String(decoding: peer, as: UTF8.self))",
            "ingest.reason": "\(reason)", "ingest.sample": "\(text)",
        ])
    }

    // MARK: Sealing and publishing

    /// Counts a datagram or read that could not be taken (UDP under backpressure).
    public func countDropped(_ n: Int = 1) { counters[listener.rawValue].dropped += n }

    /// Counts an accepted connection.
    public func countConnection() { counters[listener.rawValue].connections += 1 }

    /// Counts records that reached the WAL outside this batcher (native batches).
    public func countRecords(_ records: Int, bytes: Int) {
        counters[listener.rawValue].records += records
        counters[listener.rawValue].bytes += bytes
    }

    /// Seals every shard whose first record arrived at least a linger ago.
    public func sealExpired(now: UInt64) {
        for shard in 0 ..< payloads.shardCount where payloads.shards[shard].count > 0 {
            if now &- payloads.shards[shard].openedAt >= limits.lingerNanoseconds { seal(shard) }
        }
    }

    /// Seals everything (graceful shutdown).
    public func sealAll() {
        for shard in 0 ..< payloads.shardCount { seal(shard) }
    }

    /// Pushes this loop's counters to ``IngestStats`` and starts counting afresh.
    public func publish() {
        stats.publish(listeners: counters, sources: sources, rejects: rejectSamples)
        for i in counters.indices { counters[i] = ListenerCounters() }
        sources.removeAll(keepingCapacity: true)
        rejectSamples.removeAll()
        rejectLogsThisSecond = 0
    }

    private func seal(_ shard: Int) {
        guard let draft = payloads.take(shard: shard, codec: limits.codec, reserve: limits.batchBytes + 65_536) else { return }
        gate.reserve(bytes: draft.payload.count, shard: shard)
        writers[shard].submit(draft)
    }

    @inline(__always)
    private func route(_ host: ByteView) -> Int {
        let h = SourceHash.hash(host)
        openSource = h
        if sources[h] == nil { sources[h] = SourceStats(name: host.string, listener: listener) }
        sources[h]!.lastSeen = receivedAt
        return SourceHash.shard(for: h, shardCount: payloads.shardCount)
    }
}

@available(*, unavailable)
extension LoopBatcher: Sendable {}
