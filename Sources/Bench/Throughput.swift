import Foundation

/// What `hypha bench throughput` measures and how.
public struct ThroughputOptions: Sendable {
    public var proto: LoadProtocol
    public var connections = 2
    public var records = 2_000_000
    public var size = 200
    public var durability = "interval"
    public var codec = "lz4"
    public var shards = 4
    /// `host:port` of an external listener: only the load runs (no local node).
    public var target: String?
    public var seed: UInt64 = 42
    public var token = ""
    public var rate: Double?
    public var window = 8
    public var batchRecords = 500
    public var poolMiB = 16
    /// The whole run fails past this many seconds.
    public var timeoutSeconds = 600.0
    /// Fails when the durable-record counter stops moving this long after the load has ended.
    public var stallSeconds = 30.0
    /// Where to write the SVG plot.
    public var plotPath: String?
    /// Progress on standard error: nil = when it is a terminal.
    public var progress: Bool?
    /// Extra `hypha serve` arguments.
    public var serverArguments: [String] = []
    /// The `hypha` binary that runs the node and the load.
    public var binary = ServerProcess.currentBinary

    public init(proto: LoadProtocol) { self.proto = proto }
}

/// The outcome of a throughput run; `--json` prints it as one object with these keys:
///
/// | key | meaning |
/// |---|---|
/// | `benchmark` | `"throughput"` |
/// | `protocol` | native, syslog, json, influx, graphite |
/// | `mode` | `local` (a node started for the run) or `target` (an external listener; loader timing only) |
/// | `target` | `host:port` in target mode |
/// | `durable_confirmed` | whether the time covers durability (local: always; target: native acks only) |
/// | `connections`, `records`, `size_bytes` | the load: records are lines, native records or Influx samples |
/// | `durability`, `codec`, `shards` | the node's settings (local mode) |
/// | `payload_bytes`, `bytes_per_record` | bytes written to the sockets, framing included |
/// | `seconds` | the load's first byte → the node's answer that showed every record durable (native: the last ACK) |
/// | `records_per_second`, `mb_per_second` | records / seconds; payload bytes / 10^6 / seconds |
/// | `server_cpu_seconds` | the node's user + system CPU from just before the load to the end |
/// | `server_cpu_seconds_per_million_records`, `server_cpu_us_per_record` | the same figure per record (equal numbers in two units) |
/// | `server_peak_rss_mib` | the node's peak resident memory (VmHWM), MiB |
/// | `durable_records` | the node's durable-record counter at the end |
/// | `load_seconds`, `load_cpu_seconds`, `generate_seconds` | the loader's own send time, CPU while sending, and pre-generation time (not measured) |
/// | `acked_records`, `window`, `batch_records` | native only |
/// | `ack_latency_p50_us`, `…_p90_us`, `…_p99_us`, `…_p999_us` (p99.9), `…_max_us`, `…_mean_us` | native only: per batch, send → ACK, HdrHistogram |
/// | `timeline_samples`, `peak_sample_records_per_second` | the 100 ms samples of the durable counter |
/// | `plot` | the SVG written, if any |
public struct ThroughputResult: Codable, Sendable {
    public var benchmark = "throughput"
    public var proto: LoadProtocol
    public var mode: String
    public var target: String?
    public var durableConfirmed: Bool
    public var connections: Int
    public var records: Int
    public var sizeBytes: Int
    public var durability: String?
    public var codec: String?
    public var shards: Int?
    public var payloadBytes: Int
    public var bytesPerRecord: Double
    public var seconds: Double
    public var recordsPerSecond: Double
    public var mbPerSecond: Double
    public var serverCPUSeconds: Double?
    public var serverCPUSecondsPerMillionRecords: Double?
    public var serverCPUMicrosecondsPerRecord: Double?
    public var serverPeakRSSMiB: Double?
    public var durableRecords: Int?
    public var loadSeconds: Double
    public var loadCPUSeconds: Double
    public var generateSeconds: Double
    public var ackedRecords: Int?
    public var window: Int?
    public var batchRecords: Int?
    public var ackLatencyP50: Double?
    public var ackLatencyP90: Double?
    public var ackLatencyP99: Double?
    public var ackLatencyP999: Double?
    public var ackLatencyMax: Double?
    public var ackLatencyMean: Double?
    public var timelineSamples: Int
    public var peakSampleRecordsPerSecond: Double?
    public var plot: String?
    /// The latency summary behind the `ack_latency_*` keys (not encoded).
    public var latencyForPlot: LatencySummary? = nil
    /// When the load's first byte was sent (CLOCK_REALTIME ns; not encoded).
    public var loadStartUnixNanoseconds: Int64? = nil

    enum CodingKeys: String, CodingKey {
        case benchmark, proto = "protocol", mode, target, durableConfirmed = "durable_confirmed", connections, records
        case sizeBytes = "size_bytes", durability, codec, shards, payloadBytes = "payload_bytes", bytesPerRecord = "bytes_per_record"
        case seconds, recordsPerSecond = "records_per_second", mbPerSecond = "mb_per_second"
        case serverCPUSeconds = "server_cpu_seconds", serverCPUSecondsPerMillionRecords = "server_cpu_seconds_per_million_records"
        case serverCPUMicrosecondsPerRecord = "server_cpu_us_per_record", serverPeakRSSMiB = "server_peak_rss_mib"
        case durableRecords = "durable_records", loadSeconds = "load_seconds", loadCPUSeconds = "load_cpu_seconds"
        case generateSeconds = "generate_seconds", ackedRecords = "acked_records", window, batchRecords = "batch_records"
        case ackLatencyP50 = "ack_latency_p50_us", ackLatencyP90 = "ack_latency_p90_us", ackLatencyP99 = "ack_latency_p99_us"
        case ackLatencyP999 = "ack_latency_p999_us", ackLatencyMax = "ack_latency_max_us", ackLatencyMean = "ack_latency_mean_us"
        case timelineSamples = "timeline_samples", peakSampleRecordsPerSecond = "peak_sample_records_per_second", plot
    }

    /// One JSON object with sorted keys, on one line.
    public func jsonLine() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// A few aligned lines for a human.
    public func humanReport() -> String {
        var lines: [String] = []
        let settings = mode == "local"
            ? "local node: durability \(durability ?? "?"), codec \(codec ?? "?"), \(shards ?? 0) shards"
            : "external listener \(target ?? "?")"
        lines.append("hypha bench throughput: \(proto.rawValue), \(connections) connections, \(sizeBytes) B records → \(settings)")
        if mode == "target" {
            lines.append(durableConfirmed
                ? "  note: against an external listener: loader timing only (every batch acknowledged); no server CPU or memory figures"
                : "  note: against an external listener: loader timing only (bytes written, NOT confirmed durable); no server CPU or memory figures")
        }
        lines.append("  records          \(Format.grouped(records)) in \(Format.fixed(seconds, 3)) s (\(Format.fixed(bytesPerRecord, 1)) B per record on the wire)")
        lines.append("  throughput       \(Format.grouped(Int(recordsPerSecond.rounded()))) records/s, \(Format.fixed(mbPerSecond, 1)) MB/s")
        if let cpu = serverCPUSeconds, let per = serverCPUMicrosecondsPerRecord {
            lines.append("  server CPU       \(Format.fixed(cpu, 2)) s: \(Format.fixed(per, 3)) µs per record (\(Format.fixed(per, 3)) s per million)")
        }
        if let rss = serverPeakRSSMiB { lines.append("  server peak RSS  \(Format.fixed(rss, 1)) MiB") }
        if let p50 = ackLatencyP50, let p99 = ackLatencyP99, let p999 = ackLatencyP999, let mx = ackLatencyMax {
            lines.append("  ACK latency      p50 \(ThroughputPlot.duration(p50)), p99 \(ThroughputPlot.duration(p99)), p99.9 \(ThroughputPlot.duration(p999)), max \(ThroughputPlot.duration(mx)) (window \(window ?? 0) × \(batchRecords ?? 0) records)")
        }
        lines.append("  loader           \(Format.fixed(loadCPUSeconds, 2)) s CPU while sending (\(Format.fixed(generateSeconds, 1)) s pre-generating, not measured)")
        if let plot { lines.append("  plot             \(plot)") }
        return lines.joined(separator: "\n")
    }
}

/// One 100 ms sample of the node during a run.
public struct ThroughputSample: Sendable {
    /// When the counter was read (the middle of the request to the node), CLOCK_REALTIME ns.
    public var unixNanoseconds: Int64
    /// When the node's answer arrived.
    public var answeredUnixNanoseconds: Int64
    public var durable: Int
    public var cpuSeconds: Double
    public var rssBytes: Int
}

/// Runs `hypha bench throughput`: a node (unless `--target`), a separate load process, 100 ms
/// samples of the node's durable-record counter, CPU and memory, and the report.
///
/// The counter is read from the node's `/metrics` over one kept-alive HTTP connection. With the
/// environment variable `HYPHA_BENCH_TRACE` set, every read is traced on standard error with how
/// long the node took to answer.
public final class ThroughputRunner {
    public let options: ThroughputOptions
    private let progress: ProgressLine
    /// The samples of the last run (for the plot and for tests).
    public private(set) var samples: [ThroughputSample] = []

    public init(options: ThroughputOptions) {
        self.options = options
        progress = ProgressLine(enabled: options.progress)
    }

    public func run() throws -> ThroughputResult {
        guard options.records >= 1 else { throw BenchError("--records must be at least 1") }
        guard options.connections >= 1, options.connections <= 1024 else { throw BenchError("--connections must be 1 to 1024") }
        guard options.size >= 64, options.size <= 60_000 else { throw BenchError("--size must be 64 to 60000 bytes") }
        defer { progress.finish() }
        var result = try options.target == nil ? runLocal() : runAgainstTarget()
        if let path = options.plotPath {
            try plot(result).svg().write(toFile: path, atomically: true, encoding: .utf8)
            result.plot = path
        }
        return result
    }

    // MARK: Local node

    private func runLocal() throws -> ThroughputResult {
        let o = options
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        progress.update("\(o.proto.rawValue): starting hypha serve …")
        let server = try ServerProcess(
            binary: o.binary, dataDirectory: directory,
            arguments: ["--durability", o.durability, "--codec", o.codec, "--shards", "\(o.shards)"] + o.serverArguments)
        var stopped = false
        defer { if !stopped { server.stop(SIGKILL) } }
        guard let port = server.ports[o.proto.listener], let httpPort = server.ports["http"] else {
            throw BenchError("the node has no \(o.proto.listener) or http listener: \(server.ports)")
        }
        let node = NodeProbe(port: httpPort)
        let baseline = try node.durableRecords()
        let cpuBefore = server.cpuSeconds()

        let loader = try LoaderProcess(binary: o.binary, arguments: loaderArguments(host: "127.0.0.1", port: port))
        defer { loader.kill() }
        let deadline = LoadClock.monotonic() + UInt64(o.timeoutSeconds * 1e9)
        let started = LoadClock.monotonic()
        samples = []
        var durable = 0
        let trace = ProcessInfo.processInfo.environment["HYPHA_BENCH_TRACE"] != nil
        func sample() throws {
            guard server.process.isRunning else { throw BenchError("hypha serve exited (status \(server.process.terminationStatus)) during the run") }
            let asked = LoadClock.realtime()
            durable = try node.durableRecords() - baseline
            let answered = LoadClock.realtime()
            if trace { FileHandle.standardError.write(Data("probe \(Format.fixed(Double(answered - asked) / 1e6, 1)) ms at \(Format.fixed(Double(LoadClock.monotonic() - started) / 1e9, 3)) s: \(durable)\n".utf8)) }
            // A saturated node answers late (its HTTP API shares the ingest event loops): the
            // counter was read somewhere between asking and the answer; take the middle.
            let s = ThroughputSample(
                unixNanoseconds: asked + (answered - asked) / 2, answeredUnixNanoseconds: answered, durable: durable,
                cpuSeconds: server.cpuSeconds(), rssBytes: ProcessStats.memory(pid: server.pid).resident)
            samples.append(s)
            showProgress(started: started)
        }
        func checkDeadline(_ what: @autoclosure () -> String) throws {
            if LoadClock.monotonic() > deadline {
                throw BenchError("timed out after \(Int(o.timeoutSeconds)) s \(what()): \(Format.grouped(durable)) of \(Format.grouped(o.records)) records durable\(node.rejectSummary())")
            }
        }

        // While the loader runs: sample every 100 ms, watch for its exit every 10 ms.
        var nextSample = LoadClock.monotonic()
        while loader.isRunning {
            if LoadClock.monotonic() >= nextSample {
                try sample()
                // The node may answer late under load: never catch up with a burst of samples.
                nextSample = max(nextSample + 100_000_000, LoadClock.monotonic() + 50_000_000)
            }
            try checkDeadline("with the load still running")
            LoadClock.sleep(until: min(nextSample, LoadClock.monotonic() + 10_000_000))
        }
        let load = try loader.result()

        // Then until every record is durable: poll every 5 ms, fail if the counter stalls.
        var lastMove = LoadClock.monotonic()
        var lastDurable = -1
        try sample()
        while durable < o.records {
            if durable != lastDurable {
                lastDurable = durable
                lastMove = LoadClock.monotonic()
            } else if Double(LoadClock.monotonic() - lastMove) / 1e9 > o.stallSeconds {
                throw BenchError("the durable-record counter stopped at \(Format.grouped(durable)) of \(Format.grouped(o.records)) records for \(Int(o.stallSeconds)) s after the load ended\(node.rejectSummary())")
            }
            try checkDeadline("waiting for durability")
            LoadClock.sleep(until: LoadClock.monotonic() + 5_000_000)
            try sample()
        }
        // The end is when the answer that showed every record durable arrived (an upper bound).
        let doneWall = samples.last?.answeredUnixNanoseconds ?? LoadClock.realtime()
        // CPU from the last sample before the load's first byte (the node idles while the loader
        // generates its data; this leaves out the polls of that time too).
        let idleCPU = samples.last(where: { $0.unixNanoseconds <= load.startUnixNanoseconds })?.cpuSeconds ?? cpuBefore
        let cpu = server.cpuSeconds() - max(cpuBefore, idleCPU)
        let peak = server.peakRSS()
        progress.update("\(o.proto.rawValue): all \(Format.grouped(o.records)) records durable; stopping the node …")
        Self.stopGracefully(server)
        stopped = true

        let seconds = o.proto == .native ? load.seconds : Double(doneWall - load.startUnixNanoseconds) / 1e9
        var r = makeResult(load: load, seconds: seconds, mode: "local", durableConfirmed: true)
        r.durability = o.durability
        r.codec = o.codec
        r.shards = o.shards
        r.serverCPUSeconds = cpu
        r.serverCPUSecondsPerMillionRecords = cpu / Double(load.records) * 1e6
        r.serverCPUMicrosecondsPerRecord = cpu / Double(load.records) * 1e6
        r.serverPeakRSSMiB = Double(peak) / 1_048_576
        r.durableRecords = durable
        let timeline = timeline(start: load.startUnixNanoseconds)
        r.timelineSamples = timeline.count
        r.peakSampleRecordsPerSecond = timeline.map(\.recordsPerSecond).max()
        return r
    }

    /// SIGTERM, then SIGKILL if the node has not drained within 60 s.
    static func stopGracefully(_ server: ServerProcess) {
        guard server.process.isRunning else { return }
        kill(server.pid, SIGTERM)
        let deadline = LoadClock.monotonic() + 60_000_000_000
        while server.process.isRunning, LoadClock.monotonic() < deadline { LoadClock.sleep(until: LoadClock.monotonic() + 20_000_000) }
        let status = server.stop(SIGKILL)
        if status != 0 { FileHandle.standardError.write(Data("warning: hypha serve exited with status \(status)\n".utf8)) }
    }

    // MARK: External target

    private func runAgainstTarget() throws -> ThroughputResult {
        guard let target = options.target, let (host, port) = Self.parseHostPort(target) else {
            throw BenchError("--target must be HOST:PORT (e.g. 127.0.0.1:5514 or [::1]:7400)")
        }
        progress.update("\(options.proto.rawValue): loading \(target) (generating data first) …")
        let loader = try LoaderProcess(binary: options.binary, arguments: loaderArguments(host: host, port: port))
        defer { loader.kill() }
        let deadline = LoadClock.monotonic() + UInt64(options.timeoutSeconds * 1e9)
        while loader.isRunning {
            if LoadClock.monotonic() > deadline { throw BenchError("timed out after \(Int(options.timeoutSeconds)) s with the load still running") }
            LoadClock.sleep(until: LoadClock.monotonic() + 20_000_000)
        }
        let load = try loader.result()
        var r = makeResult(load: load, seconds: load.seconds, mode: "target", durableConfirmed: options.proto == .native)
        r.target = target
        return r
    }

    /// Splits `host:port`, `[v6]:port`.
    public static func parseHostPort(_ s: String) -> (String, Int)? {
        if s.hasPrefix("["), let close = s.firstIndex(of: "]") {
            let host = String(s[s.index(after: s.startIndex) ..< close])
            let rest = s[s.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1 ... 65535).contains(port) else { return nil }
            return (host, port)
        }
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (1 ... 65535).contains(port), colon > s.startIndex else { return nil }
        return (String(s[..<colon]), port)
    }

    // MARK: Pieces

    private func loaderArguments(host: String, port: Int) -> [String] {
        let o = options
        var args = [
            "bench", "load", "--protocol", o.proto.rawValue, "--host", host, "--port", "\(port)",
            "--connections", "\(o.connections)", "--records", "\(o.records)", "--size", "\(o.size)", "--seed", "\(o.seed)",
            "--window", "\(o.window)", "--batch-records", "\(o.batchRecords)", "--pool-mib", "\(o.poolMiB)",
        ]
        if !o.token.isEmpty { args += ["--token", o.token] }
        if let rate = o.rate { args += ["--rate", "\(rate)"] }
        return args
    }

    private func makeResult(load: LoadResult, seconds: Double, mode: String, durableConfirmed: Bool) -> ThroughputResult {
        let s = max(seconds, 1e-9)
        var r = ThroughputResult(
            proto: load.proto, mode: mode, durableConfirmed: durableConfirmed, connections: load.connections,
            records: load.records, sizeBytes: options.size, payloadBytes: load.bytes,
            bytesPerRecord: Double(load.bytes) / Double(max(1, load.records)), seconds: seconds,
            recordsPerSecond: Double(load.records) / s, mbPerSecond: Double(load.bytes) / 1e6 / s,
            loadSeconds: load.seconds, loadCPUSeconds: load.cpuSeconds, generateSeconds: load.generateSeconds,
            timelineSamples: 0)
        if let l = load.latency {
            r.ackedRecords = load.ackedRecords
            r.window = load.window
            r.batchRecords = load.batchRecords
            r.ackLatencyP50 = l.p50
            r.ackLatencyP90 = l.p90
            r.ackLatencyP99 = l.p99
            r.ackLatencyP999 = l.p999
            r.ackLatencyMax = l.max
            r.ackLatencyMean = l.mean
        }
        r.latencyForPlot = load.latency
        r.loadStartUnixNanoseconds = load.startUnixNanoseconds
        return r
    }

    private func showProgress(started: UInt64) {
        guard progress.enabled, let last = samples.last else { return }
        var rate = 0.0
        if let prev = samples.last(where: { last.unixNanoseconds - $0.unixNanoseconds >= 90_000_000 }) {
            rate = Double(last.durable - prev.durable) / (Double(last.unixNanoseconds - prev.unixNanoseconds) / 1e9)
        }
        let elapsed = Double(LoadClock.monotonic() - started) / 1e9
        if last.durable == 0 {
            progress.update("\(options.proto.rawValue): the load process is generating its data, then sending …  \(Format.fixed(elapsed, 1)) s")
            return
        }
        progress.update(ProgressLine.throughputText(label: options.proto.rawValue, durable: last.durable, total: options.records, rate: rate, elapsed: elapsed))
    }

    /// Records/s per interval of at least 90 ms between samples (the polls every 5 ms at the end
    /// are merged), from the first sample after `start` (the load's first byte).
    public func timeline(start: Int64) -> [(seconds: Double, recordsPerSecond: Double)] {
        var out: [(seconds: Double, recordsPerSecond: Double)] = []
        var previous: ThroughputSample?
        for (i, s) in samples.enumerated() {
            guard s.unixNanoseconds > start, let p = previous else {
                previous = s
                continue
            }
            let from = max(p.unixNanoseconds, start)
            let dt = Double(s.unixNanoseconds - from) / 1e9
            guard dt >= 0.09 || (i == samples.count - 1 && dt > 0) else { continue }
            out.append((Double(s.unixNanoseconds - start) / 1e9, Double(s.durable - p.durable) / dt))
            previous = s
        }
        return out
    }

    private func plot(_ r: ThroughputResult) -> ThroughputPlot {
        let start = LoadClock.realtime() - Int64(r.seconds * 1e9)
        let origin = samples.isEmpty ? start : (r.loadStartUnixNanoseconds ?? start)
        var subtitle = "\(Format.grouped(r.records)) records, \(r.connections) connections, \(r.sizeBytes) B"
        if let d = r.durability, let c = r.codec { subtitle += ", durability \(d), \(c), \(r.shards ?? 0) shards" }
        subtitle += ": \(Format.rate(r.recordsPerSecond)) records/s"
        if let us = r.serverCPUMicrosecondsPerRecord { subtitle += ", \(Format.fixed(us, 3)) µs server CPU per record" }
        if r.mode == "target" { subtitle += " (external target \(r.target ?? ""): loader timing only)" }
        return ThroughputPlot(
            title: "hypha bench throughput: \(r.proto.rawValue)", subtitle: subtitle,
            timeline: samples.isEmpty ? [] : timeline(start: origin), meanRate: r.recordsPerSecond, latency: r.latencyForPlot)
    }

    /// A new empty directory under the system's temporary directory, named `label-XXXXXX`.
    static func temporaryDirectory(_ label: String = "hypha-bench") throws -> String {
        var template = Array((NSTemporaryDirectory() + "\(label)-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw BenchError("cannot create a temporary directory") }
        return String(cString: p)
    }
}

extension ThroughputResult {
    init(
        proto: LoadProtocol, mode: String, durableConfirmed: Bool, connections: Int, records: Int, sizeBytes: Int,
        payloadBytes: Int, bytesPerRecord: Double, seconds: Double, recordsPerSecond: Double, mbPerSecond: Double,
        loadSeconds: Double, loadCPUSeconds: Double, generateSeconds: Double, timelineSamples: Int
    ) {
        self.proto = proto
        self.mode = mode
        self.durableConfirmed = durableConfirmed
        self.connections = connections
        self.records = records
        self.sizeBytes = sizeBytes
        self.payloadBytes = payloadBytes
        self.bytesPerRecord = bytesPerRecord
        self.seconds = seconds
        self.recordsPerSecond = recordsPerSecond
        self.mbPerSecond = mbPerSecond
        self.loadSeconds = loadSeconds
        self.loadCPUSeconds = loadCPUSeconds
        self.generateSeconds = generateSeconds
        self.timelineSamples = timelineSamples
    }
}

// MARK: - The node's counters

/// Reads the node's `/metrics` (durable-record counter, rejects) with HTTP/1.1 GETs over
/// one kept-alive plain socket: cheap enough to poll every few milliseconds.
final class NodeProbe {
    let port: Int
    private var socket: LoadSocket?

    init(port: Int) { self.port = port }

    func get(_ path: String) throws -> String {
        do {
            return try attempt(path)
        } catch {
            socket = nil  // the node may have closed an idle keep-alive connection: retry once
            return try attempt(path)
        }
    }

    /// Sends a request with a JSON body and returns the response body (any status).
    func send(_ method: String, _ path: String, json: String) throws -> String {
        socket = nil
        return try attempt(path, method: method, body: Array(json.utf8))
    }

    private func attempt(_ path: String, method: String = "GET", body: [UInt8] = []) throws -> String {
        let s = try socket ?? LoadSocket(host: "127.0.0.1", port: port, noDelay: true, timeoutSeconds: 120)
        socket = s
        let head = body.isEmpty
            ? "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            : "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        try s.writeAll(Array(head.utf8) + body)
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try s.read(into: $0.baseAddress!, capacity: $0.count) }
            if n == 0 { break }
            response += buffer[0 ..< n]
            if let body = Self.completeBody(response) { return body }
        }
        socket = nil
        guard let body = Self.completeBody(response, atEnd: true) else { throw BenchError("bad HTTP response from the node's \(path)") }
        return body
    }

    /// The body once the whole response is in (Content-Length), or at end of stream.
    static func completeBody(_ r: [UInt8], atEnd: Bool = false) -> String? {
        let text = String(decoding: r, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<split.lowerBound].lowercased()
        let body = String(text[split.upperBound...])
        if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        {
            return body.utf8.count >= length ? body : nil
        }
        return atEnd ? body : nil
    }

    /// `hypha_wal_durable_records_total` from `/metrics`.
    func durableRecords() throws -> Int {
        let body = try get("/metrics")
        let name = "hypha_wal_durable_records_total "
        guard let line = body.split(separator: "\n").first(where: { $0.hasPrefix(name) }), let n = Double(line.dropFirst(name.count))
        else { throw BenchError("no hypha_wal_durable_records_total in the node's /metrics: \(body.prefix(200))") }
        return Int(n)
    }

    /// `; rejects: syslog 12, …` from `/metrics`, or "" when there are none (or it cannot be read).
    func rejectSummary() -> String {
        guard let text = try? get("/metrics") else { return "" }
        var parts: [String] = []
        for line in text.split(separator: "\n") where line.hasPrefix("hypha_listener_rejects_total{") || line.hasPrefix("hypha_listener_dropped_total{") {
            guard let value = line.split(separator: " ").last, let v = Double(value), v > 0 else { continue }
            parts.append("\(line.split(separator: " ").first ?? "") = \(Int(v))")
        }
        return parts.isEmpty ? "" : "; the node refused input: " + parts.joined(separator: ", ")
    }
}

// MARK: - The load process

/// `hypha bench load` run as a child process, its output collected in the background.
final class LoaderProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var stdout = Data()
    private var stderr = Data()
    private let readers = DispatchGroup()

    init(binary: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        for (pipe, isOut) in [(out, true), (err, false)] {
            readers.enter()
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread { [self] in
                let data = handle.readDataToEndOfFile()
                lock.withLock {
                    if isOut { stdout = data } else { stderr = data }
                }
                readers.leave()
            }
        }
    }

    var isRunning: Bool { process.isRunning }

    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    /// The loader's JSON result once it has exited; its error output when it failed.
    func result() throws -> LoadResult {
        process.waitUntilExit()
        readers.wait()
        let (out, err) = lock.withLock { (stdout, stderr) }
        let errText = String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            throw BenchError("the load process failed (status \(process.terminationStatus)): \(errText.isEmpty ? "no output" : errText)")
        }
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        for line in lines.reversed() {
            if let r = try? JSONDecoder().decode(LoadResult.self, from: Data(line.utf8)) { return r }
        }
        throw BenchError("the load process printed no result: \(String(decoding: out, as: UTF8.self)) \(errText)")
    }
}
