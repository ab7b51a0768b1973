// Helpers of this target's WAL and listener tests; what every target shares is in TestSupport.
import Foundation
import Ingest
import Platform
import WAL
import Wire
import NIOCore
import Workload
import TestSupport

/// Small, test-sized WAL options.
func testOptions(shards: Int = 1, segmentSize: Int = 256 << 10, durability: Durability = .none) -> WALOptions {
    WALOptions(shardCount: shards, segmentSize: segmentSize, durability: durability, retention: .unlimited)
}

/// A batch of `count` distinct log records, returned with the records for comparison.
func makeBatch(_ count: Int, tag: String, codec: WALCodec = .lz4, time: Int64 = 1_800_000_000_000_000_000) -> (BatchDraft, [Record]) {
    var payload: [UInt8] = []
    var records: [Record] = []
    for i in 0 ..< count {
        let r = LogRecord(
            timestamp: time + Int64(i), severity: UInt8(i % 8), facility: 3, host: "host-\(i % 3)", app: "app",
            message: "\(tag) message number \(i) with some repeated text repeated text", fields: [("k", "v\(i)")])
        RecordEncoder.append(r, to: &payload)
        records.append(.log(r))
    }
    return (BatchDraft(payload: payload, recordCount: count, minTimestamp: time, maxTimestamp: time + Int64(count - 1), codec: codec), records)
}

/// Every record of a shard with its sequence, read back with ``WALReader``.
func readAll(_ directory: String, shard: Int = 0) throws -> [(UInt64, Record)] {
    let reader = try WALReader(dataDirectory: directory)
    var out: [(UInt64, Record)] = []
    try reader.forEachBatch(shard: shard) { batch in
        var cursor = try reader.records(of: batch)
        var seq = batch.header.baseSequence
        while let r = try cursor.next() {
            out.append((seq, r))
            seq += 1
        }
        return true
    }
    return out
}

/// Appends a batch and returns its base sequence.
@discardableResult
func appendOK(_ shard: ShardLog, _ draft: BatchDraft) throws -> UInt64 {
    guard case .appended(let base, _, _) = try shard.append(draft) else { fatalError("unexpected duplicate") }
    return base
}

/// Overwrites bytes of a file in place.
func patch(_ path: String, at offset: Int, _ transform: (UInt8) -> UInt8) {
    let handle = FileHandle(forUpdatingAtPath: path)!
    try! handle.seek(toOffset: UInt64(offset))
    let byte = try! handle.read(upToCount: 1)![0]
    try! handle.seek(toOffset: UInt64(offset))
    try! handle.write(contentsOf: [transform(byte)])
    try! handle.close()
}

func segmentPaths(_ directory: String, shard: Int = 0) -> [String] {
    let dir = WALLayout(dataDirectory: directory).shardDirectory(shard)
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".seg") }.sorted().map { dir + "/" + $0 }
}

/// Starts an IngestServer on 127.0.0.1 with one event loop over a new WAL in `directory`,
/// serving only the listeners given a port (0: any free one); returns what `start()` bound.
/// In `interval` mode a flusher runs until the returned `stop` is called.
func startIngestServer(
    directory: String, options: WALOptions = testOptions(), native: Int? = nil, syslog: Int? = nil, nodeID: String,
    control: (any DaemonControl)? = nil, heartbeatMilliseconds: UInt32 = 5000
) async throws -> (server: IngestServer, wal: WriteAheadLog, bound: [String: SocketAddress], stop: @Sendable () async throws -> Void) {
    let wal = try WriteAheadLog.open(dataDirectory: directory, options: options, logger: quietLogger)
    let writers = ShardWriters(wal: wal, limits: IngestLimits(), threads: 1, logger: quietLogger)
    let flusher = options.durability == .interval
        ? WALFlusher(wal: wal, logger: quietLogger) { writers.durable(shard: $0, upTo: $1) } : nil
    var ports = ListenerPorts()
    ports.native = native
    ports.syslog = syslog
    ports.json = nil
    ports.influx = nil
    ports.graphite = nil
    let server = IngestServer(
        writers: writers, stats: IngestStats(shardCount: wal.shardCount), limits: IngestLimits(), bindHost: "127.0.0.1",
        ports: ports, tokens: [], nodeID: nodeID, observer: nil, control: control, heartbeatMilliseconds: heartbeatMilliseconds,
        threads: 1, logger: quietLogger)
    let bound = try await server.start()
    return (server, wal, bound, {
        try await server.shutdown()
        flusher?.stop()
        try wal.close()
    })
}
