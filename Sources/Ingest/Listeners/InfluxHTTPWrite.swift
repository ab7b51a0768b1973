import Platform
import WAL
import Wire
public import NIOCore

/// The outcome of a `POST /write` body.
public struct InfluxWriteOutcome: Sendable {
    /// Samples stored (durable when the call returns).
    public var accepted = 0
    /// Lines refused: 1-based line number, reason, and the start of the line.
    public var rejects: [(line: Int, reason: String, text: String)] = []
    /// Set when the WAL failed to store what was accepted.
    public var failure: String?
}

/// A record sink for one HTTP request: encodes into per-shard payloads and keeps rejects with
/// their line numbers.
struct RequestSink: RecordSink {
    var payloads: ShardedPayloads
    var peer: [UInt8]
    var line = 0
    var records = 0
    var bytes = 0
    var rejects: [(line: Int, reason: String, text: String)] = []

    mutating func route(_ key: ByteView) -> Int {
        ByteView.withKey(key, orElse: peer) { SourceHash.shard(for: SourceHash.hash($0), shardCount: payloads.shardCount) }
    }

    mutating func beginLog(timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView) {
        payloads.beginLog(shard: route(host), timestamp: timestamp, severity: severity, facility: facility, host: host, app: app, message: message, now: 0)
    }

    mutating func beginMetric(timestamp: Int64, name: ByteView, value: Double, source: ByteView) {
        payloads.beginMetric(shard: route(source), timestamp: timestamp, name: name, value: value, now: 0)
    }

    mutating func field(key: ByteView, value: ByteView) { payloads.field(key: key, value: value) }

    mutating func finishRecord() {
        bytes += payloads.finishRecord().bytes
        records += 1
    }

    mutating func reject(_ reason: StaticString, sample: ByteView) {
        rejects.append((line, reason.description, String(decoding: sample.bytes.prefix(200), as: UTF8.self)))
    }
}

extension IngestContext {
    /// Decodes an InfluxDB line-protocol body and stores its samples, returning once they are
    /// durable. Malformed lines are refused one by one (with their line numbers); the good
    /// lines around them are stored (Influx 1.x partial-write semantics).
    public func writeInflux(body: ByteBuffer, precision: InfluxPrecision, peer: String) async -> InfluxWriteOutcome {
        var sink = RequestSink(payloads: ShardedPayloads(shardCount: writers.count), peer: Array(peer.utf8))
        var decoder = InfluxLineDecoder()
        var framer = LineFramer(maxLineLength: limits.maxLineBytes)
        let receivedAt = WallClock.nanoseconds()
        var body = body
        if body.readableBytes > 0, body.getInteger(at: body.writerIndex - 1, as: UInt8.self) != UInt8(ascii: "\n") {
            body.writeInteger(UInt8(ascii: "\n"))
        }
        unsafe body.withUnsafeReadableBytes { raw in
            let all = unsafe ByteView(raw)
            var offset = 0
            while offset < all.count {
                let view = all.suffix(from: offset)
                // Count the line this frame starts on (empty lines are skipped by the framer).
                let step = framer.next(view)
                switch step {
                case .frame(let range, let consumed):
                    sink.line += 1 + countNewlines(view[0 ..< range.lowerBound])
                    _ = decoder.decode(view[range], precision: precision, receivedAt: receivedAt, into: &sink)
                    offset += consumed
                case .rejected(let reason, let consumed):
                    sink.line += 1
                    sink.reject(reason, sample: view[0 ..< min(200, view.count)])
                    offset += max(consumed, 1)
                case .needMore:
                    offset = all.count
                }
            }
        }
        var outcome = InfluxWriteOutcome(accepted: sink.records, rejects: sink.rejects)
        var counters = [ListenerCounters](repeating: ListenerCounters(), count: ListenerKind.allCases.count)
        counters[ListenerKind.influxHTTP.rawValue].records = sink.records
        counters[ListenerKind.influxHTTP.rawValue].bytes = sink.bytes
        counters[ListenerKind.influxHTTP.rawValue].rejects = sink.rejects.count
        stats.publish(listeners: counters, sources: [:])
        var drafts: [(Int, BatchDraft)] = []
        for shard in 0 ..< writers.count {
            if let draft = sink.payloads.take(shard: shard, codec: limits.codec, replacement: []) { drafts.append((shard, draft)) }
        }
        for (shard, draft) in drafts {
            gate.reserve(bytes: draft.payload.count, shard: shard)
            let result = await withCheckedContinuation { (continuation: CheckedContinuation<WriteResult, Never>) in
                writers[shard].submit(draft) { continuation.resume(returning: $0) }
            }
            if case .failed(let message) = result { outcome.failure = message }
        }
        return outcome
    }
}

private func countNewlines(_ view: ByteView) -> Int {
    var n = 0
    for i in 0 ..< view.count where view[i] == UInt8(ascii: "\n") { n += 1 }
    return n
}
