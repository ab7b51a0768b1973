import Foundation
import Platform
import WAL
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// Settings of one crash-recovery measurement (`hypha bench recovery`).
public struct RecoveryOptions: Sendable {
    /// About how many bytes of WAL (batch headers + compressed payloads) to write.
    public var targetBytes: Int
    public var shards: Int
    /// `lz4`, `zstd` or `none`.
    public var codec: String
    /// Uncompressed size of each native BATCH (= one WAL batch).
    public var batchBytes = 256 << 10
    /// Unacknowledged batches allowed per connection.
    public var window = 16
    /// Distinct pre-generated batches the senders cycle through.
    public var distinctBatches = 64
    /// The `hypha` binary to run as the server.
    public var binary = ServerProcess.currentBinary
    /// Where to put the data directory; a fresh temporary one when `nil`.
    public var dataDirectory: String?
    /// Keep the data directory afterwards.
    public var keep = false
    /// Flush dirty pages to disk (`sync`) between the kill and the restart.
    public var syncBeforeRestart = false
    /// Seconds to wait between the kill (and the sync) and the restart.
    public var restartDelay = 0.0

    public init(targetBytes: Int = 1 << 30, shards: Int = 4, codec: String = "lz4") {
        self.targetBytes = targetBytes
        self.shards = shards
        self.codec = codec
    }
}

/// What `hypha bench recovery` measured; encoded with snake_case keys for `--json`.
public struct RecoveryResult: Codable, Sendable {
    public var targetBytes: Int
    public var shards: Int
    public var codec: String
    public var durability = "interval"
    public var connections: Int
    /// Filling the WAL through the server with acknowledged native batches.
    public var fillSeconds: Double
    public var fillRecordsPerSecond: Double
    public var fillMBPerSecond: Double
    /// What the restarted node had to recover (offline scan after the run).
    public var walBytes: Int
    public var walStoredBytes: Int
    public var walUncompressedBytes: Int
    public var walRecords: Int
    public var walBatches: Int
    public var walSegments: Int
    /// From launching the restarted `hypha serve` until a TCP connect to its native port succeeds.
    public var secondsToAccept: Double
    /// From launching it until its `{"event":"ready"}` line (every listener up).
    public var secondsToReady: Double
    /// `walBytes` (10^6 B) and `walRecords` per `secondsToAccept`.
    public var recoveryMBPerSecond: Double
    public var recoveryRecordsPerSecond: Double
    /// VmHWM of the restarted server right after its ready line.
    public var peakRSSBytes: Int
    /// CPU seconds the restarted server used until ready.
    public var recoveryCPUSeconds: Double
    public var acknowledgedBatches: Int
    public var acknowledgedRecords: Int
    public var presentBatches: Int
    /// Acknowledged records found in the WAL with the content that was sent.
    public var presentRecords: Int
    public var missingRecords: Int
    /// Records in the WAL that no acknowledgement covers (expected 0).
    public var unacknowledgedRecords: Int
    public var walProblems: Int
    public var verifySeconds: Double
    /// Every acknowledged record is present, with nothing else and no damage.
    public var verified: Bool
}

/// Writes a WAL through a real `hypha serve` with acknowledged native batches, SIGKILLs the
/// server, restarts it on the same data directory and measures the recovery; then checks
/// offline that every acknowledged record is in the log.
///
/// ```swift
/// let result = try RecoveryBenchmark.run(RecoveryOptions(targetBytes: 8 << 20, shards: 2))
/// precondition(result.verified)
/// ```
public enum RecoveryBenchmark {
    /// Runs the whole measurement. `progress` receives one-line status messages.
    public static func run(_ options: RecoveryOptions, progress: (String) -> Void = { _ in }) throws -> RecoveryResult {
        guard let codec = WALCodec(name: options.codec) else { throw BenchError("unknown codec \(options.codec) (lz4, zstd or none)") }
        guard options.shards >= 1, options.shards <= 1024 else { throw BenchError("--shards must be between 1 and 1024") }
        guard options.targetBytes >= 1 << 20 else { throw BenchError("--size must be at least 1 MiB") }
        let directory = try options.dataDirectory ?? ThroughputRunner.temporaryDirectory("hypha-bench-recovery")
        defer { if !options.keep { try? FileManager.default.removeItem(atPath: directory) } }
        let arguments = [
            "--shards", "\(options.shards)", "--durability", "interval", "--codec", codec.description,
            "--retention-mib", "0", "--retention-hours", "0",
            "--syslog-port", "off", "--json-port", "off", "--influx-port", "off", "--graphite-port", "off",
        ]

        progress("generating \(options.distinctBatches) distinct batches of \(options.batchBytes >> 10) KiB")
        let pool = try RecoveryPool(distinct: options.distinctBatches, batchBytes: options.batchBytes, codec: codec)

        // 1. Fill through the server: one connection per shard, every batch acknowledged.
        let server = try ServerProcess(binary: options.binary, dataDirectory: directory, arguments: arguments)
        var serverRunning = true
        defer { if serverRunning { server.stop(SIGKILL) } }
        guard let nativePort = server.ports["native"] else { throw BenchError("the server reported no native port") }
        let daemons = daemonIDs(shards: options.shards, connections: min(options.shards, 64))
        let quota = options.targetBytes / daemons.count
        let senders = daemons.enumerated().map { i, daemon in
            RecoveryNativeSender(
                daemonID: daemon.id, shard: daemon.shard, port: nativePort, pool: pool, slot: i, stride: daemons.count,
                quotaBytes: quota, window: options.window)
        }
        progress("filling \(formatBytes(options.targetBytes)) of WAL through the server over \(senders.count) connection(s)")
        let fillStart = ContinuousClock.now
        let done = DispatchGroup()
        for sender in senders {
            done.enter()
            let thread = Thread {
                sender.run()
                done.leave()
            }
            thread.start()
        }
        while done.wait(timeout: .now() + 0.5) == .timedOut {
            let acked = senders.reduce(0) { $0 + $1.ackedStoredBytes }
            progress("filling: \(formatBytes(acked)) of \(formatBytes(options.targetBytes)) acknowledged")
        }
        let fillSeconds = seconds(ContinuousClock.now - fillStart)
        if let failure = senders.compactMap(\.failure).first { throw BenchError("filling the WAL failed: \(failure)") }
        let acked = senders.flatMap(\.acked)
        let ackedRecords = acked.reduce(0) { $0 + $1.count }
        let ackedPayload = acked.reduce(0) { $0 + pool.batches[pool.place($1.index).batch].walPayloadBytes }

        // 2. Crash, then restart on the same directory and the same native port.
        server.stop(SIGKILL)
        serverRunning = false
        progress("killed the server (SIGKILL); restarting it on the same data directory")
        if options.syncBeforeRestart { sync() }
        if options.restartDelay > 0 { usleep(UInt32(options.restartDelay * 1e6)) }
        let probe = RecoveryAcceptProbe(port: nativePort)
        let launched = ContinuousClock.now
        probe.start()
        let restarted: ServerProcess
        do {
            restarted = try ServerProcess(
                binary: options.binary, dataDirectory: directory, arguments: arguments + ["--native-port", "\(nativePort)"], timeout: 600)
        } catch {
            probe.cancel()
            throw error
        }
        let peakRSS = restarted.peakRSS()
        let recoveryCPU = restarted.cpuSeconds()
        let accepted = probe.wait(timeout: 5)
        restarted.stop(SIGTERM)
        guard let accepted else { throw BenchError("the restarted server printed its ready line but refused connections on port \(nativePort)") }
        let secondsToAccept = seconds(accepted - launched)

        // 3. What recovery scanned, and whether every acknowledged record is there.
        progress("verifying \(ackedRecords) acknowledged records offline")
        let scan = try WALVerifier.scan(dataDirectory: directory)
        let segments = Array(scan.shards.joined())
        let walBytes = segments.reduce(0) { $0 + $1.dataEnd }
        let walRecords = segments.reduce(0) { $0 + $1.records }
        let verifyStart = ContinuousClock.now
        let check = try verify(directory: directory, acked: acked, pool: pool)
        let verifySeconds = seconds(ContinuousClock.now - verifyStart)
        let recoverySeconds = max(secondsToAccept, 1e-9)
        return RecoveryResult(
            targetBytes: options.targetBytes, shards: options.shards, codec: codec.description, connections: senders.count,
            fillSeconds: fillSeconds, fillRecordsPerSecond: Double(ackedRecords) / fillSeconds,
            fillMBPerSecond: Double(ackedPayload) / 1e6 / fillSeconds,
            walBytes: walBytes, walStoredBytes: segments.reduce(0) { $0 + $1.storedBytes },
            walUncompressedBytes: segments.reduce(0) { $0 + $1.uncompressedBytes }, walRecords: walRecords,
            walBatches: segments.reduce(0) { $0 + $1.batches }, walSegments: segments.count,
            secondsToAccept: secondsToAccept, secondsToReady: restarted.secondsToReady,
            recoveryMBPerSecond: Double(walBytes) / 1e6 / recoverySeconds,
            recoveryRecordsPerSecond: Double(walRecords) / recoverySeconds,
            peakRSSBytes: peakRSS, recoveryCPUSeconds: recoveryCPU,
            acknowledgedBatches: acked.count, acknowledgedRecords: ackedRecords,
            presentBatches: check.presentBatches, presentRecords: check.presentRecords,
            missingRecords: ackedRecords - check.presentRecords, unacknowledgedRecords: check.unacknowledgedRecords,
            walProblems: scan.problems.count, verifySeconds: verifySeconds,
            verified: check.presentRecords == ackedRecords && check.unacknowledgedRecords == 0 && scan.problems.isEmpty)
    }

    /// Parses a byte size: a number with an optional unit, binary (`KiB`, `MiB`, `GiB`, `TiB`,
    /// and `K`, `M`, `G`, `T`) or decimal (`kB`, `MB`, `GB`, `TB`), case-insensitive, and a
    /// trailing `B` alone meaning bytes. Fractions are allowed (`1.5GiB`).
    /// - Returns: the number of bytes, `nil` when the text is not a size.
    public static func parseByteSize(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let split = trimmed.firstIndex(where: { !(($0.isASCII && $0.isNumber) || $0 == ".") }) ?? trimmed.endIndex
        guard let number = Double(trimmed[..<split]), number >= 0 else { return nil }
        let units: [String: Double] = [
            "": 1, "b": 1,
            "k": 0x1p10, "kib": 0x1p10, "m": 0x1p20, "mib": 0x1p20, "g": 0x1p30, "gib": 0x1p30, "t": 0x1p40, "tib": 0x1p40,
            "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
        ]
        let unit = trimmed[split...].trimmingCharacters(in: .whitespaces).lowercased()
        guard let scale = units[unit] else { return nil }
        let bytes = (number * scale).rounded()
        guard bytes < 9e18 else { return nil }
        return Int(bytes)
    }

    /// One daemon id per shard (up to `connections`), found by hashing candidate names the
    /// way the server routes them (``SourceHash`` of the HELLO's daemon id).
    static func daemonIDs(shards: Int, connections: Int) -> [(id: String, shard: Int)] {
        var chosen: [Int: String] = [:]
        var k = 0
        while chosen.count < connections {
            let id = "bench-recovery-\(k)"
            let shard = SourceHash.shard(for: SourceHash.hash(id), shardCount: shards)
            if chosen[shard] == nil { chosen[shard] = id }
            k += 1
        }
        return chosen.sorted { $0.key < $1.key }.map { ($0.value, $0.key) }
    }

    /// Reads the WAL offline and matches every batch against the acknowledgements: same shard
    /// and first sequence, same producer sequence and count, and record by record the content
    /// that was sent.
    static func verify(directory: String, acked: [RecoveryAckedBatch], pool: RecoveryPool) throws
        -> (presentBatches: Int, presentRecords: Int, unacknowledgedRecords: Int)
    {
        var expected: [[UInt64: RecoveryAckedBatch]] = []
        let reader = try WALReader(dataDirectory: directory)
        expected = Array(repeating: [:], count: reader.shardCount)
        for batch in acked where batch.shard < reader.shardCount { expected[batch.shard][batch.firstSequence] = batch }
        var presentBatches = 0, presentRecords = 0, unacknowledged = 0
        for shard in 0 ..< reader.shardCount {
            try reader.forEachBatch(shard: shard) { batch in
                guard let want = expected[shard][batch.header.baseSequence] else {
                    unacknowledged += Int(batch.header.recordCount)
                    return true
                }
                guard Int(batch.header.recordCount) == want.count, batch.header.producerSequence == want.producerSequence else { return true }
                let (b, shift) = pool.place(want.index)
                let sent = pool.batches[b].records
                var cursor = try reader.records(of: batch)
                var index = 0
                while let record = try cursor.next() {
                    guard index < sent.count, case .log(let log) = record else { break }
                    var original = sent[index]
                    original.timestamp += shift
                    guard log == original else { break }
                    index += 1
                }
                if index == want.count {
                    presentBatches += 1
                    presentRecords += index
                }
                return true
            }
        }
        return (presentBatches, presentRecords, unacknowledged)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func formatBytes(_ n: Int) -> String {
        n >= 1 << 30 ? String(format: "%.2f GiB", Double(n) / Double(1 << 30)) : String(format: "%.1f MiB", Double(n) / Double(1 << 20))
    }
}

/// Polls a TCP port from its own thread until a connect succeeds, and remembers when.
final class RecoveryAcceptProbe: @unchecked Sendable {
    let port: Int
    private let condition = NSCondition()
    private var acceptedAt: ContinuousClock.Instant?
    private var cancelled = false

    init(port: Int) { self.port = port }

    /// Starts polling every 0.5 ms.
    func start() {
        let thread = Thread { [self] in
            while true {
                let stop = condition.withLock { cancelled }
                if stop { return }
                if PlainTCPSocket.accepts(port: port) {
                    let now = ContinuousClock.now
                    condition.withLock {
                        acceptedAt = now
                        condition.broadcast()
                    }
                    return
                }
                usleep(500)
            }
        }
        thread.start()
    }

    func cancel() { condition.withLock { cancelled = true } }

    /// The moment of the first successful connect; `nil` if none within `timeout` seconds.
    func wait(timeout: Double) -> ContinuousClock.Instant? {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while acceptedAt == nil, condition.wait(until: deadline) {}
            if acceptedAt == nil { cancelled = true }
            return acceptedAt
        }
    }
}
