import Foundation
import Glibc
import WAL

/// `hypha bench agent`: a real `hypha agent` tailing a file to a real local node.
///
/// 1. **Throughput**: a file of `lines` 200-byte lines is written first; the agent tails it
///    from the start; measured until the node holds every line: lines/s, the agent's CPU
///    time per line (user + system, /proc), its peak RSS.
/// 2. **Latency**: lines written at `latencyRate` lines/s for `latencySeconds`, each carrying
///    its write time; the benchmark reads the node's WAL as it grows and takes, per line, the
///    time from its write to its batch being in the node's WAL (the node acknowledges after its
///    10 ms group commit, so the acknowledgement comes at most one sync later).
/// 3. **Outage**: lines at `outageRate` lines/s; the node is stopped for `outageSeconds` and
///    started again on the same port; measured: lines lost and doubled (the WAL read at the
///    end), and the time from the node's return until it holds every line.
public enum AgentBenchmark {
    public struct Options: Sendable {
        public var lines = 2_000_000
        public var latencyRate = 10_000
        public var latencySeconds = 10.0
        public var outageRate = 100_000
        public var outageSeconds = 60.0
        public var compression = "lz4"
        public init() {}
    }

    public struct Result: Codable, Sendable {
        public var lines: Int
        public var linesPerSecond: Double
        public var agentCPUMicrosecondsPerLine: Double
        public var agentPeakRSSBytes: Int
        public var latencyLines: Int
        public var latencyP50Milliseconds: Double
        public var latencyP99Milliseconds: Double
        public var outageLinesWritten: Int
        public var outageLost: Int
        public var outageDoubled: Int
        public var outageDrainSeconds: Double

        public var text: String {
            """
            throughput   \(lines) lines of 200 bytes: \(Int(linesPerSecond)) lines/s, agent CPU \(String(format: "%.3f", agentCPUMicrosecondsPerLine)) µs/line, agent peak RSS \(agentPeakRSSBytes >> 20) MiB
            latency      \(latencyLines) lines: written → in the node's WAL p50 \(String(format: "%.1f", latencyP50Milliseconds)) ms, p99 \(String(format: "%.1f", latencyP99Milliseconds)) ms
            outage       \(outageLinesWritten) lines: lost \(outageLost), doubled \(outageDoubled), drained \(String(format: "%.1f", outageDrainSeconds)) s after the node's return
            """
        }
    }

    public static func run(_ options: Options, binary: String = ServerProcess.currentBinary, progress: (String) -> Void) throws -> Result {
        let work = NSTemporaryDirectory() + "hypha-bench-agent-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        // 1. Throughput.
        progress("writing \(options.lines) lines")
        let bulk = work + "/bulk.log"
        try writeLines(to: bulk, count: options.lines, prefix: "bulk")
        var node = try ServerProcess(binary: binary, dataDirectory: work + "/node", arguments: [])
        let port = node.ports["native"] ?? 0
        let started = Date()
        let agent = try AgentProcess(binary: binary, arguments: agentArguments(port: port, spool: work + "/spool1", tail: bulk, options))
        progress("tailing")
        let probe = NodeProbe(port: node.ports["http"] ?? 0)
        try waitFor(timeout: 600) { try probe.durableRecords() >= options.lines }
        let seconds = Date().timeIntervalSince(started)
        let cpu = ProcessStats.cpuSeconds(pid: agent.pid)
        let rss = ProcessStats.memory(pid: agent.pid).peak
        agent.stop()

        // 2. Latency at a steady rate.
        progress("latency at \(options.latencyRate) lines/s")
        let steady = work + "/steady.log"
        _ = FileManager.default.createFile(atPath: steady, contents: nil)
        let latencyAgent = try AgentProcess(binary: binary, arguments: agentArguments(port: port, spool: work + "/spool2", tail: steady, options))
        Thread.sleep(forTimeInterval: 1)
        let watcher = LatencyWatcher(dataDirectory: node.dataDirectory, prefix: "lat")
        let total = Int(Double(options.latencyRate) * options.latencySeconds)
        // The writer runs on its own thread; this one follows the node's WAL meanwhile.
        let writer = Thread { try? writeAtRate(to: steady, count: total, rate: options.latencyRate, prefix: "lat", stamped: true) }
        writer.start()
        try waitFor(timeout: options.latencySeconds + 60, every: 0.001) { watcher.poll(); return watcher.latencies.count >= total }
        latencyAgent.stop()
        let sorted = watcher.latencies.sorted()

        // 3. Outage, on a node of its own (its WAL holds only these lines).
        node.stop()
        progress("outage of \(Int(options.outageSeconds)) s at \(options.outageRate) lines/s")
        let outageData = work + "/outage-node"
        node = try ServerProcess(binary: binary, dataDirectory: outageData, arguments: [])
        let outagePort = node.ports["native"] ?? 0
        let busy = work + "/busy.log"
        _ = FileManager.default.createFile(atPath: busy, contents: nil)
        let outageAgent = try AgentProcess(binary: binary, arguments: agentArguments(port: outagePort, spool: work + "/spool3", tail: busy, options))
        let before = options.outageRate * 5
        try writeAtRate(to: busy, count: before, rate: options.outageRate, prefix: "out", first: 1)
        node.stop()
        let during = Int(Double(options.outageRate) * options.outageSeconds)
        try writeAtRate(to: busy, count: during, rate: options.outageRate, prefix: "out", first: before + 1)
        let storedBefore = try countLines(in: outageData, prefix: "out")
        node = try ServerProcess(binary: binary, dataDirectory: outageData, arguments: ["--native-port", "\(outagePort)"])
        let back = Date()
        let after = options.outageRate * 5
        try writeAtRate(to: busy, count: after, rate: options.outageRate, prefix: "out", first: before + during + 1)
        let written = before + during + after
        let outageProbe = NodeProbe(port: node.ports["http"] ?? 0)
        try waitFor(timeout: 600) { try storedBefore + outageProbe.durableRecords() >= written }
        let drained = Date().timeIntervalSince(back)
        outageAgent.stop()
        node.stop()
        let counts = try lineCounts(in: outageData, prefix: "out")
        return Result(
            lines: options.lines, linesPerSecond: Double(options.lines) / seconds, agentCPUMicrosecondsPerLine: cpu * 1e6 / Double(options.lines),
            agentPeakRSSBytes: rss, latencyLines: sorted.count, latencyP50Milliseconds: percentile(sorted, 0.50) * 1e3,
            latencyP99Milliseconds: percentile(sorted, 0.99) * 1e3, outageLinesWritten: written,
            outageLost: (1 ... written).filter { counts[$0] == nil }.count, outageDoubled: counts.values.filter { $0 > 1 }.count,
            outageDrainSeconds: drained)
    }

    private static func agentArguments(port: Int, spool: String, tail: String, _ options: Options) -> [String] {
        ["agent", "--server", "127.0.0.1:\(port)", "--spool", spool, "--tail", tail, "--tail-from", "start", "--compression", options.compression,
         "--log-level", "warning", "--reconnect-min-ms", "50", "--reconnect-max-s", "1", "--spool-mib", "4096"]
    }

    private static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    private static func waitFor(timeout: Double, every interval: Double = 0.05, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: interval)
        }
        throw BenchError("timed out after \(Int(timeout)) s")
    }

    /// Lines `<prefix> <n> x…`, 200 bytes each with the newline.
    static func line(_ prefix: String, _ n: Int, stamp: Int64? = nil) -> String {
        let head = stamp.map { "\(prefix) \(n) \($0) " } ?? "\(prefix) \(n) "
        return head + String(repeating: "x", count: max(0, 199 - head.utf8.count)) + "\n"
    }

    private static func writeLines(to path: String, count: Int, prefix: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var chunk = ""
        for n in 1 ... count {
            chunk += line(prefix, n)
            if chunk.utf8.count >= 1 << 20 {
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        handle.write(Data(chunk.utf8))
        try handle.close()
    }

    /// Appends `count` lines at `rate` lines/s, in 1 ms slices.
    private static func writeAtRate(to path: String, count: Int, rate: Int, prefix: String, stamped: Bool = false, first: Int = 1) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        handle.seekToEndOfFile()
        let start = Date()
        var n = 0
        while n < count {
            let due = min(count, Int(Date().timeIntervalSince(start) * Double(rate)) + 1)
            if due > n {
                var chunk = ""
                let now = stamped ? Int64(Date().timeIntervalSince1970 * 1e9) : nil
                while n < due {
                    chunk += line(prefix, first + n, stamp: now)
                    n += 1
                }
                handle.write(Data(chunk.utf8))
            }
            usleep(1000)
        }
        try handle.close()
    }

    private static func countLines(in data: String, prefix: String) throws -> Int { try lineCounts(in: data, prefix: prefix).count }

    private static func lineCounts(in data: String, prefix: String) throws -> [Int: Int] {
        let reader = try WALReader(dataDirectory: data)
        var counts: [Int: Int] = [:]
        for shard in 0 ..< reader.shardCount {
            try reader.forEachBatch(shard: shard) { batch in
                var cursor = try reader.records(of: batch)
                while let record = try cursor.next() {
                    guard case .log(let log) = record else { continue }
                    let parts = log.message.split(separator: " ", maxSplits: 2)
                    if parts.count >= 2, parts[0] == prefix, let n = Int(parts[1]) { counts[n, default: 0] += 1 }
                }
                return true
            }
        }
        return counts
    }
}

/// A `hypha agent` child process.
final class AgentProcess {
    let process = Process()
    var pid: Int32 { process.processIdentifier }

    init(binary: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
    }
}

/// Follows the node's WAL as it grows and times each stamped line from its write.
final class LatencyWatcher {
    let prefix: String
    private let cursors: [ShardCursor]
    private(set) var latencies: [Double] = []

    /// Follows every shard from its end now (what is there already is not timed).
    init(dataDirectory: String, prefix: String) {
        self.prefix = prefix
        let reader = try? WALReader(dataDirectory: dataDirectory)
        cursors = (0 ..< (reader?.shardCount ?? 1)).map { shard in
            var end: UInt64 = 0
            try? reader?.forEachBatch(shard: shard, verifyPayload: false) { batch in
                end = batch.header.endSequence
                return true
            }
            return ShardCursor(dataDirectory: dataDirectory, shard: shard, from: end)
        }
    }

    func poll() {
        for cursor in cursors {
            while let batch = try? cursor.next(upTo: .max) {
                let now = Date().timeIntervalSince1970
                guard var records = try? cursor.records(of: batch) else { continue }
                while let record = try? records.next() {
                    guard case .log(let log) = record else { continue }
                    let parts = log.message.split(separator: " ", maxSplits: 3)
                    guard parts.count >= 3, parts[0] == prefix, let stamp = Double(parts[2]) else { continue }
                    latencies.append(now - stamp / 1e9)
                }
            }
        }
    }
}
