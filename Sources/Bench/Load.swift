import Platform
import Foundation
import Histogram

/// What `hypha bench load` does: which protocol, where, how much, how fast.
public struct LoadOptions: Sendable {
    public var proto: LoadProtocol
    public var host: String
    public var port: Int
    public var connections: Int
    /// Records in total, split evenly over the connections (samples for Influx).
    public var records: Int
    /// Bytes per record on the wire (see ``LoadProtocol/honoursSize``).
    public var size: Int
    public var seed: UInt64
    /// Native HELLO token (ignored by the line protocols).
    public var token: String
    /// Records per second over all connections; nil = as fast as possible.
    public var rate: Double?
    /// Native: most batches sent and not yet acknowledged, per connection.
    public var window: Int
    /// Native: records per BATCH.
    public var batchRecords: Int
    /// Distinct pre-generated data per connection is capped at about this many bytes; the rest
    /// repeats it (see ``LinePlan``).
    public var poolBytes: Int
    /// Line protocols: bytes per write.
    public var chunkBytes: Int
    /// Seconds a single write or read may block before the run fails.
    public var ioTimeoutSeconds: Int

    public init(
        proto: LoadProtocol, host: String = "127.0.0.1", port: Int, connections: Int = 2, records: Int, size: Int = 200,
        seed: UInt64 = 42, token: String = "", rate: Double? = nil, window: Int = 8, batchRecords: Int = 500,
        poolBytes: Int = 16 << 20, chunkBytes: Int = 256 << 10, ioTimeoutSeconds: Int = 120
    ) {
        self.proto = proto
        self.host = host
        self.port = port
        self.connections = connections
        self.records = records
        self.size = size
        self.seed = seed
        self.token = token
        self.rate = rate
        self.window = window
        self.batchRecords = batchRecords
        self.poolBytes = poolBytes
        self.chunkBytes = chunkBytes
        self.ioTimeoutSeconds = ioTimeoutSeconds
    }
}

/// The one JSON line `hypha bench load` prints when it is done.
///
/// Keys: `protocol`, `connections`, `records` (records sent: lines, or Influx samples, or native
/// records), `lines` (lines sent; native: batches), `bytes` (bytes written to the sockets,
/// framing included), `seconds` (first byte sent → last byte written, or for native → last
/// ACK), `records_per_second`, `start_unix_ns`/`end_unix_ns` (CLOCK_REALTIME of those two
/// instants), `generate_seconds` (pre-generation, not measured), `distinct_records`,
/// `cpu_seconds` (the loader's own CPU while sending), and for native `acked_records`,
/// `duplicate_batches`, `window`, `batch_records` and `latency_us` (ACK latency per batch:
/// `count`, `p50`, `p90`, `p99`, `p999`, `max`, `mean`, microseconds).
public struct LoadResult: Codable, Sendable {
    public var proto: LoadProtocol
    public var connections: Int
    public var records: Int
    public var lines: Int
    public var bytes: Int
    public var seconds: Double
    public var recordsPerSecond: Double
    public var startUnixNanoseconds: Int64
    public var endUnixNanoseconds: Int64
    public var generateSeconds: Double
    public var distinctRecords: Int
    public var cpuSeconds: Double
    public var ackedRecords: Int?
    public var duplicateBatches: Int?
    public var window: Int?
    public var batchRecords: Int?
    public var latency: LatencySummary?

    enum CodingKeys: String, CodingKey {
        case proto = "protocol", connections, records, lines, bytes, seconds
        case recordsPerSecond = "records_per_second", startUnixNanoseconds = "start_unix_ns", endUnixNanoseconds = "end_unix_ns"
        case generateSeconds = "generate_seconds", distinctRecords = "distinct_records", cpuSeconds = "cpu_seconds"
        case ackedRecords = "acked_records", duplicateBatches = "duplicate_batches", window, batchRecords = "batch_records"
        case latency = "latency_us"
    }

    /// One line of JSON with sorted keys.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// Clocks for the loader and the runner.
public enum LoadClock {
    /// Monotonic nanoseconds (for intervals).
    public static func monotonic() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Wall-clock nanoseconds since the epoch (comparable across processes on one machine).
    public static func realtime() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Sleeps until the monotonic clock reaches `deadline`.
    static func sleep(until deadline: UInt64) {
        let now = monotonic()
        guard deadline > now else { return }
        let d = deadline - now
        var request = timespec(tv_sec: Int(d / 1_000_000_000), tv_nsec: Int(d % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0, errno == EINTR { request = remaining }
    }
}

/// The load generator behind `hypha bench load`: pre-generates every connection's data, then
/// sends it over `connections` TCP connections, one thread each (plus one ACK reader per native
/// connection), and measures.
///
/// ```swift
/// let result = try LoadGenerator(options: LoadOptions(proto: .syslog, port: 5514, records: 1_000_000)).run()
/// print(result.jsonLine())
/// ```
public struct LoadGenerator: Sendable {
    public let options: LoadOptions

    public init(options: LoadOptions) { self.options = options }

    /// Records each connection sends: an even split, the first ones taking the remainder.
    public static func split(_ records: Int, over connections: Int) -> [Int] {
        let n = max(1, min(connections, records))
        return (0 ..< n).map { records / n + ($0 < records % n ? 1 : 0) }
    }

    /// A daemon id for connection `i` whose FNV-1a 64 hash is `i` modulo 8, so that with 1, 2, 4
    /// or 8 shards the connections land on different shards (docs/protocol.md section 7), as a
    /// fleet of daemons would.
    public static func daemonID(connection i: Int, seed: UInt64) -> String {
        for k in 0 ..< 10_000 {
            let id = "bench-\(seed)-\(i)-\(k)"
            if fnv1a(id) % 8 == UInt64(i % 8) { return id }
        }
        return "bench-\(seed)-\(i)"
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return h
    }

    public func run() throws -> LoadResult {
        let o = options
        guard o.records >= 1 else { throw BenchError("--records must be at least 1") }
        guard o.connections >= 1 else { throw BenchError("--connections must be at least 1") }
        let shares = Self.split(o.records, over: o.connections)
        let poolPerConnection = max(1 << 20, o.poolBytes)

        // 1. Pre-generate everything (not measured), in parallel.
        let generateStart = LoadClock.monotonic()
        let producerBase = UInt64.random(in: 1 ... (UInt64.max >> 2))
        let plans = ResultBox<Plan>(count: shares.count)
        DispatchQueue.concurrentPerform(iterations: shares.count) { i in
            let seed = Datasets.seed(o.seed, connection: i)
            if o.proto == .native {
                plans.set(i, .native(Datasets.nativePlan(
                    records: shares[i], size: o.size, recordsPerBatch: o.batchRecords, seed: seed,
                    producerID: producerBase + UInt64(i), poolBytes: poolPerConnection)))
            } else {
                plans.set(i, .lines(Datasets.linePlan(o.proto, records: shares[i], size: o.size, seed: seed, poolBytes: poolPerConnection)))
            }
        }
        let generateSeconds = Double(LoadClock.monotonic() - generateStart) / 1e9

        // 2. Connect (and HELLO) every connection before the clock starts.
        var sockets: [LoadSocket] = []
        for i in shares.indices {
            let socket = try LoadSocket(host: o.host, port: o.port, noDelay: o.proto == .native, timeoutSeconds: o.ioTimeoutSeconds)
            if o.proto == .native {
                let maxFrame = try NativeSession.hello(socket, daemonID: Self.daemonID(connection: i, seed: o.seed), token: o.token)
                if case .native(let plan)? = plans.values[i], plan.largestFrame > maxFrame {
                    throw BenchError("a BATCH of \(plan.recordsPerBatch) records is \(plan.largestFrame) bytes, above the server's max_frame_size \(maxFrame): lower --batch-records")
                }
            }
            sockets.append(socket)
        }

        // 3. Send on one thread per connection.
        let outcomes = ResultBox<ConnectionOutcome>(count: shares.count)
        let group = DispatchGroup()
        let cpuStart = ProcessStats.cpuSeconds(pid: getpid())
        let startWall = LoadClock.realtime()
        let start = LoadClock.monotonic()
        for i in shares.indices {
            guard let plan = plans.values[i] else { continue }
            let socket = sockets[i]
            let ratePerConnection = o.rate.map { $0 / Double(shares.count) }
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    switch plan {
                    case .lines(let p):
                        outcomes.set(i, try LineSession.send(p, on: socket, chunkBytes: o.chunkBytes, rate: ratePerConnection, start: start))
                    case .native(let p):
                        outcomes.set(i, try NativeSession.send(p, on: socket, window: o.window, rate: ratePerConnection, start: start))
                    }
                } catch {
                    outcomes.fail(i, "\(error)")
                }
            }
            thread.name = "load-\(i)"
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        let end = LoadClock.monotonic()
        let endWall = LoadClock.realtime()
        let cpu = ProcessStats.cpuSeconds(pid: getpid()) - cpuStart
        if let failure = outcomes.failures.first(where: { $0 != nil }) ?? nil {
            throw BenchError("connection failed: \(failure)")
        }

        var result = LoadResult(
            proto: o.proto, connections: shares.count, records: 0, lines: 0, bytes: 0,
            seconds: Double(end - start) / 1e9, recordsPerSecond: 0, startUnixNanoseconds: startWall,
            endUnixNanoseconds: endWall, generateSeconds: generateSeconds, distinctRecords: 0, cpuSeconds: cpu)
        var histogram = LatencyHistogram.make()
        for (i, outcome) in outcomes.values.enumerated() {
            guard let outcome else { throw BenchError("connection \(i) reported nothing") }
            result.records += outcome.records
            result.lines += outcome.lines
            result.bytes += outcome.bytes
            if let p = plans.values[i] { result.distinctRecords += p.distinctRecords }
            if let h = outcome.histogram {
                histogram.add(h)
                result.ackedRecords = (result.ackedRecords ?? 0) + outcome.ackedRecords
                result.duplicateBatches = (result.duplicateBatches ?? 0) + outcome.duplicateBatches
            }
        }
        result.recordsPerSecond = result.seconds > 0 ? Double(result.records) / result.seconds : 0
        if o.proto == .native {
            result.latency = LatencySummary(histogram)
            result.window = o.window
            result.batchRecords = o.batchRecords
        }
        return result
    }
}

/// One connection's pre-generated data.
enum Plan: Sendable {
    case lines(LinePlan)
    case native(NativePlan)

    var distinctRecords: Int {
        switch self {
        case .lines(let p): min(p.records, p.pool.records + p.tail.records)
        case .native(let p): min(p.records, p.poolFrames * p.recordsPerBatch + p.tailRecords)
        }
    }
}

extension NativePlan {
    var largestFrame: Int {
        var m = tail.count
        for k in 0 ..< poolFrames { m = max(m, frameOffsets[k + 1] - frameOffsets[k]) }
        return m - 4
    }
}

/// What one connection did.
struct ConnectionOutcome: Sendable {
    var records = 0
    var lines = 0
    var bytes = 0
    var ackedRecords = 0
    var duplicateBatches = 0
    var histogram: Histogram<UInt64>?
}

/// Per-connection slots written by worker threads and read after they are joined.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [T?]
    private var errors: [String?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
        errors = Array(repeating: nil, count: count)
    }

    func set(_ i: Int, _ value: T) { lock.withLock { slots[i] = value } }
    func fail(_ i: Int, _ message: String) { lock.withLock { errors[i] = message } }
    var values: [T?] { lock.withLock { slots } }
    var failures: [String?] { lock.withLock { errors } }
}

// MARK: - Line protocols

enum LineSession {
    /// Writes the plan's pool `cycles` times and then its tail, in `chunkBytes` writes, paced to
    /// `rate` records per second when given; then closes the sending side.
    static func send(_ plan: LinePlan, on socket: LoadSocket, chunkBytes: Int, rate: Double?, start: UInt64) throws -> ConnectionOutcome {
        let bytesPerSecond = rate.map { $0 * Double(max(1, plan.bytes)) / Double(max(1, plan.records)) }
        let chunk = bytesPerSecond.map { max(4096, min(chunkBytes, Int($0 / 100))) } ?? chunkBytes
        var sent = 0
        func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    if let bps = bytesPerSecond {
                        LoadClock.sleep(until: start + UInt64(Double(sent) / bps * 1e9))
                    }
                    let n = min(chunk, raw.count - offset)
                    try socket.writeAll(raw.baseAddress! + offset, n)
                    offset += n
                    sent += n
                }
            }
        }
        for _ in 0 ..< plan.cycles { try write(plan.pool.bytes) }
        try write(plan.tail.bytes)
        socket.shutdownWrite()
        return ConnectionOutcome(
            records: plan.records, lines: plan.cycles * plan.pool.lineCount + plan.tail.lineCount, bytes: plan.bytes)
    }
}

// MARK: - Native protocol

/// The batches of one native connection that are sent and not yet answered, shared by its
/// sender and its ACK reader.
final class AckWindow: @unchecked Sendable {
    private let condition = NSCondition()
    private let limit: Int
    private var inFlight = 0
    private var sendTimes: [UInt64]
    private(set) var answered = 0
    private(set) var failure: String?

    init(limit: Int, batches: Int) {
        self.limit = max(1, limit)
        sendTimes = Array(repeating: 0, count: batches)
    }

    /// Blocks until a batch may be sent, then notes its send time. Returns false after a failure.
    func acquire(batch k: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while inFlight >= limit, failure == nil { condition.wait() }
        guard failure == nil else { return false }
        inFlight += 1
        sendTimes[k] = LoadClock.monotonic()
        return true
    }

    /// Marks the oldest batch answered; returns its send time.
    func release() -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        let t = sendTimes[answered]
        answered += 1
        inFlight -= 1
        condition.broadcast()
        return t
    }

    func fail(_ message: String) {
        condition.lock()
        if failure == nil { failure = message }
        condition.broadcast()
        condition.unlock()
    }

    /// Blocks until every batch is answered or the connection failed.
    func waitForAll() -> String? {
        condition.lock()
        defer { condition.unlock() }
        while answered < sendTimes.count, failure == nil { condition.wait() }
        return failure
    }
}

enum NativeSession {
    static let hello: UInt8 = 0x01, helloOK: UInt8 = 0x02, batch: UInt8 = 0x03, ack: UInt8 = 0x04
    static let nack: UInt8 = 0x05, error: UInt8 = 0x0F

    /// Sends HELLO and reads HELLO_OK; returns the server's `max_frame_size`.
    static func hello(_ socket: LoadSocket, daemonID: String, token: String) throws -> Int {
        var body: [UInt8] = []
        body.appendBigEndian(UInt16(1))
        appendString(daemonID, to: &body)
        appendString("", to: &body)  // region: the server's default
        body.appendBigEndian(UInt16(1))
        appendString("role", to: &body)
        appendString("bench", to: &body)
        appendString(token, to: &body)
        appendString("hypha-bench/1", to: &body)
        var frame: [UInt8] = []
        frame.appendBigEndian(UInt32(body.count + 1))
        frame.append(hello)
        frame += body
        try socket.writeAll(frame)
        let (type, reply) = try readFrame(socket)
        switch type {
        case helloOK where reply.count >= 10:
            return Int(reply[...].loadBigEndian(UInt32.self, at: 2))
        case error:
            throw BenchError("the server refused HELLO: \(describeError(reply))")
        default:
            throw BenchError("unexpected answer to HELLO: frame type \(type)")
        }
    }

    static func appendString(_ s: String, to buffer: inout [UInt8]) {
        buffer.appendBigEndian(UInt16(s.utf8.count))
        buffer.append(contentsOf: s.utf8)
    }

    static func readFrame(_ socket: LoadSocket) throws -> (UInt8, [UInt8]) {
        let header = try socket.readExactly(5)
        let length = Int(header[...].loadBigEndian(UInt32.self, at: 0))
        guard length >= 1, length <= 16 << 20 else { throw BenchError("bad frame length \(length) from the server") }
        return (header[4], try socket.readExactly(length - 1))
    }

    static func describeError(_ body: ArraySlice<UInt8>) -> String {
        guard body.count >= 4 else { return "malformed ERROR frame" }
        let code = body.loadBigEndian(UInt16.self, at: 0)
        let n = Int(body.loadBigEndian(UInt16.self, at: 2))
        let text = body.count >= 4 + n ? String(decoding: body.dropFirst(4).prefix(n), as: UTF8.self) : ""
        return "ERROR \(code): \(text)"
    }

    static func describeError(_ body: [UInt8]) -> String { describeError(body[...]) }

    /// Sends the plan's batches pipelined (at most `window` unanswered) while a second thread
    /// reads the ACKs and records each batch's send → ACK latency.
    static func send(_ plan: NativePlan, on socket: LoadSocket, window: Int, rate: Double?, start: UInt64) throws -> ConnectionOutcome {
        let batches = plan.batches
        let acks = AckWindow(limit: window, batches: batches)
        let reader = AckReader(socket: socket, window: acks, batches: batches)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            reader.run()
            done.signal()
        }
        thread.stackSize = 1 << 20
        thread.start()

        let batchesPerSecond = rate.map { $0 / Double(plan.recordsPerBatch) }
        var bytes = 0
        var sendFailure: String?
        // Frames are shared, read-only: each write sends a fresh 25-byte head (with this batch's
        // producer sequence) and the pooled frame's records after it.
        var head = [UInt8](repeating: 0, count: NativePlan.headBytes)
        do {
            for k in 0 ..< batches {
                if let bps = batchesPerSecond { LoadClock.sleep(until: start + UInt64(Double(k) / bps * 1e9)) }
                guard acks.acquire(batch: k) else { break }
                let pooled = k < plan.fullBatches
                let source = pooled ? plan.frames : plan.tail
                let f = pooled ? k % plan.poolFrames : 0
                let lo = pooled ? plan.frameOffsets[f] : 0
                let hi = pooled ? plan.frameOffsets[f + 1] : plan.tail.count
                for i in 0 ..< NativePlan.headBytes { head[i] = source[lo + i] }
                head.storeBigEndian(UInt64(k + 1), at: NativePlan.sequenceOffset)
                try source.withUnsafeBytes { raw in
                    try socket.writeAll(head: head, body: raw.baseAddress! + lo + NativePlan.headBytes, count: hi - lo - NativePlan.headBytes)
                }
                bytes += hi - lo
            }
        } catch {
            sendFailure = "\(error)"
            acks.fail(sendFailure!)
        }
        let failure = acks.waitForAll()
        if failure != nil { socket.shutdownBoth() } else { socket.shutdownWrite() }
        done.wait()
        if let failure = sendFailure ?? failure { throw BenchError(failure) }
        return ConnectionOutcome(
            records: plan.records, lines: batches, bytes: bytes, ackedRecords: reader.ackedRecords,
            duplicateBatches: reader.duplicates, histogram: reader.histogram)
    }
}

/// Reads ACK frames of one native connection and times them.
final class AckReader: @unchecked Sendable {
    let socket: LoadSocket
    let window: AckWindow
    let batches: Int
    private(set) var histogram = LatencyHistogram.make()
    private(set) var ackedRecords = 0
    private(set) var duplicates = 0

    init(socket: LoadSocket, window: AckWindow, batches: Int) {
        self.socket = socket
        self.window = window
        self.batches = batches
    }

    func run() {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var pending: [UInt8] = []
        var answered = 0
        do {
            while answered < batches {
                let n = try buffer.withUnsafeMutableBytes { try socket.read(into: $0.baseAddress!, capacity: $0.count) }
                let now = LoadClock.monotonic()
                if n == 0 {
                    window.fail("the server closed the connection with \(batches - answered) of \(batches) batches unanswered")
                    return
                }
                pending.append(contentsOf: buffer[0 ..< n])
                var offset = 0
                while pending.count - offset >= 5 {
                    let length = Int(pending[...].loadBigEndian(UInt32.self, at: offset))
                    guard length >= 1 else { throw BenchError("frame of length 0 from the server") }
                    guard pending.count - offset >= 4 + length else { break }
                    let type = pending[offset + 4]
                    let body = pending[(offset + 5) ..< (offset + 4 + length)]
                    offset += 4 + length
                    switch type {
                    case NativeSession.ack:
                        guard body.count == 31 else { throw BenchError("ACK body of \(body.count) bytes") }
                        let sequence = body.loadBigEndian(UInt64.self, at: 8)
                        guard sequence == UInt64(answered + 1) else {
                            throw BenchError("ACK for producer_sequence \(sequence), expected \(answered + 1)")
                        }
                        ackedRecords += Int(body.loadBigEndian(UInt32.self, at: 16))
                        if body[body.startIndex + 20] == 1 { duplicates += 1 }
                        let sent = window.release()
                        LatencyHistogram.record(now &- sent, in: &histogram)
                        answered += 1
                    case NativeSession.nack:
                        let sequence = body.loadBigEndian(UInt64.self, at: 8)
                        let rejected = body.count >= 24 ? body.loadBigEndian(UInt32.self, at: 20) : 0
                        throw BenchError("NACK for batch \(sequence): \(rejected) records rejected")
                    case NativeSession.error:
                        throw BenchError("the server sent \(NativeSession.describeError(body))")
                    default:
                        continue  // HEARTBEAT_ACK, reserved control-plane frames
                    }
                }
                if offset > 0 { pending.removeFirst(offset) }
            }
        } catch {
            window.fail("\(error)")
        }
    }
}
