import Foundation
import Platform
import WAL
import Wire

/// A real `hypha serve` child process on ephemeral loopback ports, for end-to-end tests.
final class HyphaNode {
    let data: String
    let process = Process()
    private(set) var listeners: [String: Int] = [:]
    private let out = Pipe()
    private let err = Pipe()
    private var logged = Data()

    /// Starts a node on `data` (a new temporary directory by default) and waits until it is ready.
    init(data: String? = nil, arguments: [String] = [], shards: Int = 2, ephemeralPorts: Bool = true) throws {
        self.data = data ?? makeTemporaryDirectory("hypha-node")
        process.executableURL = URL(fileURLWithPath: hyphaBinary())
        let ports = [
            "--native-port", "0", "--syslog-port", "0", "--json-port", "0", "--influx-port", "0", "--graphite-port", "0", "--http-port", "0",
        ]
        process.arguments = ["serve", "--data", self.data, "--bind", "127.0.0.1", "--shards", "\(shards)", "--log-level", "info"]
            + (ephemeralPorts ? ports : []) + arguments
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        var text = ""
        while Date() < deadline, process.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.contains("\"event\":\"ready\"") }),
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let map = object["listeners"] as? [String: String]
            {
                for (name, address) in map { listeners[name] = Int(address.split(separator: ":").last ?? "") }
                return
            }
        }
        process.terminate()
        throw NodeError(message: "node did not become ready: \(text) \(String(decoding: err.fileHandleForReading.availableData, as: UTF8.self))")
    }

    struct NodeError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    deinit {
        // Never leave a node behind, even when a test stops early.
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func port(_ name: String) -> Int { listeners[name] ?? -1 }

    /// Sends `signal` and waits for the process to exit; returns its status and what it logged.
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> (status: Int32, log: String) {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let rest = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        logged += rest
        return (process.terminationStatus, String(decoding: logged, as: UTF8.self))
    }

    /// Every record in the node's WAL, all shards, read offline (stop the node first).
    func records() throws -> [Record] {
        let reader = try WALReader(dataDirectory: data)
        var out: [Record] = []
        for shard in 0 ..< reader.shardCount {
            try reader.forEachBatch(shard: shard) { batch in
                var cursor = try reader.records(of: batch)
                while let r = try cursor.next() { out.append(r) }
                return true
            }
        }
        return out
    }

    /// GET or POST on the node's HTTP port with curl; returns (status code, body).
    func http(_ path: String, method: String = "GET", body: String? = nil, contentType: String? = nil, headers: [String] = []) throws -> (Int, String) {
        var args = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "http://127.0.0.1:\(port("http"))\(path)"]
        if let body { args += ["--data-binary", body] }
        if let contentType { args += ["-H", "Content-Type: \(contentType)"] }
        for header in headers { args += ["-H", header] }
        let result = try run("/usr/bin/curl", args)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    func remove() { try? FileManager.default.removeItem(atPath: data) }
}

/// Runs a program to completion.
@discardableResult
func run(_ path: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), inp = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inp
    try process.run()
    if let input { inp.fileHandleForWriting.write(input) }
    try inp.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// A plain TCP client on loopback for the line protocols.
final class LineClient {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { throw HyphaNode.NodeError(message: "connect to \(port) failed: errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ bytes: [UInt8]) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            done += n
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Waits until the server closes the connection (or `seconds` pass); true when it closed.
    func waitForClose(seconds: Int) -> Bool {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    func close() { Glibc.close(fd) }
}

/// Polls `condition` every `interval` seconds (20 ms by default) until it holds or `seconds` pass.
func eventually(seconds: Double = 10, every interval: Double = 0.02, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return try condition()
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass, without blocking a thread.
func eventually(seconds: Double = 10, _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

/// The value of a Prometheus sample in a /metrics text, e.g. `hypha_listener_records_total{listener="json"}`.
func metric(_ text: String, _ name: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.dropFirst(name.count + 1))
    }
    return nil
}

/// Waits until the node's /metrics show `name` at `value` or more (counters publish once a second).
func waitForMetric(_ node: HyphaNode, _ name: String, atLeast value: Double, seconds: Double = 15) -> Bool {
    eventually(seconds: seconds) { (try? node.http("/metrics").1).map { (metric($0, name) ?? 0) >= value } ?? false }
}
