import Foundation
import Workload

#if canImport(Glibc)
import Glibc
#endif

/// Settings of `hypha bench compare`: the same syslog load against Hypha and against a peer
/// listener started by a shell command, in alternating rounds.
public struct CompareOptions: Sendable {
    /// Shell command (`/bin/sh -c`) that starts the peer in the foreground. It gets `PEER_PORT`
    /// (the loopback TCP port to listen on) and `PEER_DIR` (an empty directory; the peer
    /// writes one line per received message to `$PEER_DIR/messages.log`) in its environment.
    public var against: String
    public var protocolName = "syslog"
    public var rounds = 3
    public var records = 2_000_000
    public var connections = 2
    /// Bytes per line (newline included), as `hypha bench load --size`.
    public var size = 200
    /// The peer's port; a free one per round when `nil`.
    public var port: Int?
    public var shards = 4
    public var durability = "interval"
    public var codec = "lz4"
    /// How long the receiver's count may stand still (after the sender finished) before the
    /// round ends with lines missing.
    public var settleSeconds = 3.0
    /// How long the peer may take to accept connections (the first start may install it).
    public var peerStartTimeout = 600.0
    /// The `hypha` binary for the server and the load generator.
    public var binary = ServerProcess.currentBinary
    /// Where rounds keep their data; a temporary directory when `nil`.
    public var workDirectory: String?
    public var keep = false

    public init(against: String) { self.against = against }
}

/// One target's result in one round.
public struct CompareSide: Codable, Sendable {
    /// `hypha` or `peer`.
    public var target: String
    /// Lines the load generator sent.
    public var sent: Int
    public var sentBytes: Int
    /// Seconds the load generator spent sending (connect to last close).
    public var sendSeconds: Double
    /// Lines the receiver has: durable records (Hypha) or lines in messages.log (peer).
    public var received: Int
    /// From the first byte sent until the receiver had every line (or stopped growing).
    public var seconds: Double
    /// `received / seconds`.
    public var linesPerSecond: Double
    /// CPU seconds of the receiver (its whole process group for the peer) during the round.
    public var cpuSeconds: Double
    /// Every line sent arrived.
    public var complete: Bool
}

/// One round: Hypha first, then the peer, with the same load.
public struct CompareRound: Codable, Sendable {
    public var round: Int
    public var hypha: CompareSide
    public var peer: CompareSide
    /// Hypha's lines/s ÷ the peer's (0 when the peer wrote nothing).
    public var ratio: Double
}

/// Everything `hypha bench compare` measured; encoded with snake_case keys for `--json`.
public struct CompareReport: Codable, Sendable {
    public var `protocol`: String
    public var against: String
    public var records: Int
    public var size: Int
    public var connections: Int
    /// Always `hypha bench load` (the separate process that sends the load); kept in the JSON
    /// output for the readers of earlier reports.
    public var loadGenerator: String
    public var rounds: [CompareRound]
    public var hyphaMedianLinesPerSecond: Double
    public var peerMedianLinesPerSecond: Double
    /// Ratio of the medians.
    public var ratio: Double
}

/// Runs the comparison.
///
/// Each round starts a fresh `hypha serve` (temporary data directory, only the syslog and
/// HTTP listeners) and, after it, a fresh peer (`/bin/sh -c COMMAND`, its own process group,
/// ready when its port accepts a TCP connection), and sends each the same load with a
/// separate load-generator process. The clock runs from the first byte sent (the generator's
/// `start_unix_ns`, or its exit time minus the sending time it reports) until the receiver has every line: Hypha's
/// `hypha_wal_durable_records_total` reaches the count, or the peer's `messages.log` holds
/// that many lines. Both are polled every 5 ms once the generator has exited.
public final class CompareRunner {
    public let options: CompareOptions
    private let progress: (String) -> Void

    public init(_ options: CompareOptions, progress: @escaping (String) -> Void = { _ in }) {
        self.options = options
        self.progress = progress
    }

    public func run(onRound: (CompareRound) -> Void = { _ in }) throws -> CompareReport {
        guard options.protocolName == "syslog" else { throw BenchError("--protocol: only syslog is supported by compare") }
        guard options.rounds >= 1, options.records >= 1, options.connections >= 1, options.size >= 32 else {
            throw BenchError("--rounds, --records and --connections must be at least 1, --size at least 32")
        }
        let work = try options.workDirectory ?? ThroughputRunner.temporaryDirectory("hypha-bench-compare")
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { if !options.keep, options.workDirectory == nil { try? FileManager.default.removeItem(atPath: work) } }
        var rounds: [CompareRound] = []
        for round in 1 ... options.rounds {
            progress("round \(round)/\(options.rounds): hypha")
            let hypha = try runHypha(round: round, work: work)
            progress("round \(round)/\(options.rounds): peer")
            let peer = try runPeer(round: round, work: work)
            let result = CompareRound(round: round, hypha: hypha, peer: peer, ratio: Self.ratio(hypha.linesPerSecond, peer.linesPerSecond))
            rounds.append(result)
            onRound(result)
        }
        let h = Self.median(rounds.map(\.hypha.linesPerSecond))
        let p = Self.median(rounds.map(\.peer.linesPerSecond))
        return CompareReport(
            protocol: options.protocolName, against: options.against, records: options.records, size: options.size,
            connections: options.connections, loadGenerator: "hypha bench load", rounds: rounds,
            hyphaMedianLinesPerSecond: h, peerMedianLinesPerSecond: p, ratio: Self.ratio(h, p))
    }

    /// `a / b`, or 0 when `b` is 0 (a peer that wrote nothing; JSON has no infinity).
    static func ratio(_ a: Double, _ b: Double) -> Double { b > 0 ? a / b : 0 }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.isEmpty ? 0 : s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    // MARK: Targets

    private func runHypha(round: Int, work: String) throws -> CompareSide {
        let directory = work + "/hypha-round-\(round)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServerProcess(binary: options.binary, dataDirectory: directory, arguments: [
            "--shards", "\(options.shards)", "--durability", options.durability, "--codec", options.codec,
            "--retention-mib", "0", "--retention-hours", "0",
            "--native-port", "off", "--json-port", "off", "--influx-port", "off", "--graphite-port", "off",
        ])
        defer { server.stop(SIGKILL) }
        guard let port = server.ports["syslog"], let http = server.ports["http"] else { throw BenchError("the server reported no syslog or HTTP port") }
        let node = NodeProbe(port: http)
        guard let base = try? node.durableRecords() else { throw BenchError("cannot read hypha_wal_durable_records_total from the server's /metrics") }
        let cpuBefore = server.cpuSeconds()
        let load = try sendLoad(port: port)
        let (received, end) = waitForReceiver(expected: load.records) { ((try? node.durableRecords()) ?? base) - base }
        return side("hypha", load: load, received: received, end: end, cpu: server.cpuSeconds() - cpuBefore)
    }

    private func runPeer(round: Int, work: String) throws -> CompareSide {
        let directory = work + "/peer-round-\(round)"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { if !options.keep { try? FileManager.default.removeItem(atPath: directory) } }
        let port = try options.port ?? PlainTCPSocket.freePort()
        let peer = try ComparePeer(command: options.against, port: port, directory: directory, log: work + "/peer-round-\(round).log")
        defer { peer.stop() }
        try peer.waitUntilAccepting(timeout: options.peerStartTimeout)
        let cpuBefore = peer.cpuSeconds()
        let lines = CompareLineCounter(path: directory + "/messages.log")
        let load = try sendLoad(port: port)
        let (received, end) = waitForReceiver(expected: load.records) { lines.count() }
        return side("peer", load: load, received: received, end: end, cpu: peer.cpuSeconds() - cpuBefore)
    }

    private func side(_ target: String, load: CompareLoadResult, received: Int, end: ContinuousClock.Instant, cpu: Double) -> CompareSide {
        let seconds = max(RecoveryBenchmark.seconds(end - load.started), 1e-9)
        return CompareSide(
            target: target, sent: load.records, sentBytes: load.bytes, sendSeconds: load.seconds, received: received,
            seconds: seconds, linesPerSecond: Double(received) / seconds, cpuSeconds: cpu, complete: received >= load.records)
    }

    /// Polls `count` every 5 ms until it reaches `expected`, or stands still for
    /// `settleSeconds`; returns the count and when it was last seen to grow (or to arrive).
    private func waitForReceiver(expected: Int, count: () -> Int) -> (Int, ContinuousClock.Instant) {
        var last = count()
        var changed = ContinuousClock.now
        while last < expected {
            usleep(5000)
            let now = count()
            if now != last {
                last = now
                changed = ContinuousClock.now
            } else if RecoveryBenchmark.seconds(ContinuousClock.now - changed) > options.settleSeconds {
                break
            }
        }
        return (last, changed)
    }

    // MARK: Load

    /// Runs `hypha bench load --protocol syslog --host 127.0.0.1 --port P --connections N
    /// --records N --size B` as a separate process and reads its JSON result.
    private func sendLoad(port: Int) throws -> CompareLoadResult {
        let loader = try LoaderProcess(binary: options.binary, arguments: [
            "bench", "load", "--protocol", options.protocolName, "--host", "127.0.0.1", "--port", "\(port)",
            "--connections", "\(options.connections)", "--records", "\(options.records)", "--size", "\(options.size)",
        ])
        defer { loader.kill() }
        let load = try loader.result()
        let exited = ContinuousClock.now
        // Prefer the generator's own start time (wall clock, ns) over exit − seconds.
        var started = exited - .seconds(load.seconds)
        if load.startUnixNanoseconds > 0 {
            let ago = Double(Int64(Date().timeIntervalSince1970 * 1e9) - load.startUnixNanoseconds) / 1e9 - RecoveryBenchmark.seconds(ContinuousClock.now - exited)
            if ago > 0, ago < load.seconds + 5 { started = exited - .seconds(ago) }
        }
        return CompareLoadResult(records: load.records, bytes: load.bytes, seconds: load.seconds, started: started)
    }
}

/// What one run of the load generator did.
struct CompareLoadResult {
    var records: Int
    var bytes: Int
    var seconds: Double
    /// When the first byte went out (on this process's clock).
    var started: ContinuousClock.Instant
}

/// Counts the lines of a growing file, reading only what was appended since the last call.
final class CompareLineCounter {
    let path: String
    private var handle: FileHandle?
    private var lines = 0

    init(path: String) { self.path = path }

    func count() -> Int {
        if handle == nil { handle = FileHandle(forReadingAtPath: path) }
        guard let handle else { return lines }
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { raw in
                var p = raw.baseAddress!
                var left = raw.count
                while left > 0, let hit = memchr(p, 0x0A, left) {
                    lines += 1
                    let advance = p.distance(to: UnsafeRawPointer(hit)) + 1
                    p += advance
                    left -= advance
                }
            }
        }
        return lines
    }
}

/// A peer listener started by a shell command, in its own process group.
///
/// Spawned with `posix_spawn` rather than Foundation's `Process`: a child inherits the signal
/// mask of the thread that starts it, and Swift concurrency's worker threads block SIGTERM
/// and friends, so a peer started with `Process` from here would never see the SIGTERM that
/// asks it to stop. This sets an empty mask and default handlers, and a new process group.
final class ComparePeer {
    let pid: pid_t
    let port: Int
    let logPath: String
    private var exitStatus: Int32?

    init(command: String, port: Int, directory: String, log: String) throws {
        self.port = port
        logPath = log
        var environment = ProcessInfo.processInfo.environment
        environment["PEER_PORT"] = "\(port)"
        environment["PEER_DIR"] = directory
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var child: pid_t = 0
        let result = posix_spawn(&child, "/bin/sh", &actions, &attributes, argv, envp)
        guard result == 0 else { throw BenchError("cannot start the peer: \(String(cString: strerror(result)))") }
        pid = child
    }

    /// Whether the peer's shell is still running (reaps it once it has exited).
    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid {
            exitStatus = status
            return false
        }
        return true
    }

    func waitUntilAccepting(timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if PlainTCPSocket.accepts(port: port) { return }
            guard isRunning else {
                throw BenchError("the peer exited (wait status \(exitStatus ?? 0)) before accepting connections on port \(port); its output:\n\(tail())")
            }
            usleep(20_000)
        }
        throw BenchError("the peer did not accept connections on port \(port) within \(Int(timeout)) s; its output:\n\(tail())")
    }

    /// CPU seconds of every live process in the peer's process group.
    func cpuSeconds() -> Double { ProcessStats.cpuSeconds(processGroup: pid) }

    /// SIGTERM to the process group; SIGKILL to what is left of it after 10 s.
    func stop() {
        kill(-pid, SIGTERM)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, isRunning || groupIsAlive() { usleep(10_000) }
        if groupIsAlive() { kill(-pid, SIGKILL) }
        if isRunning {
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            exitStatus = status
        }
    }

    /// Whether any process of the peer's group still exists.
    private func groupIsAlive() -> Bool { kill(-pid, 0) == 0 }

    private func tail() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }
}
