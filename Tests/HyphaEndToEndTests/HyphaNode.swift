import Foundation
import TestSupport
import Platform
import WAL
import Wire

/// A real `hypha serve` child process on ephemeral loopback ports, for end-to-end tests.
///
/// Its stdout and stderr are read all the time it runs (``ChildProcess``): a node that logs a
/// lot never blocks on a full pipe. What it logged is ``log`` while it runs and comes back
/// from ``stop(_:)``.
final class HyphaNode {
    let data: String
    let process: ChildProcess
    private(set) var listeners: [String: Int] = [:]

    /// Starts a node on `data` (a new temporary directory by default) and waits until it is ready.
    init(data: String? = nil, arguments: [String] = [], shards: Int = 2, ephemeralPorts: Bool = true) throws {
        self.data = data ?? TemporaryDirectory("hypha-node").path
        let ports = [
            "--native-port", "0", "--syslog-port", "0", "--json-port", "0", "--influx-port", "0", "--graphite-port", "0", "--http-port", "0",
        ]
        process = try ChildProcess(
            hyphaBinary(),
            ["serve", "--data", self.data, "--bind", "127.0.0.1", "--shards", "\(shards)", "--log-level", "info"]
                + (ephemeralPorts ? ports : []) + arguments)
        var ready: [String: Int]?
        _ = process.waitForStdout(timeout: .seconds(60)) { text in
            guard let line = text.split(separator: "\n").first(where: { $0.contains("\"event\":\"ready\"") }),
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let map = object["listeners"] as? [String: String]
            else { return false }
            ready = map.mapValues { Int($0.split(separator: ":").last ?? "") ?? -1 }
            return true
        }
        guard let ready else {
            let output = (try? process.stop(SIGKILL, timeout: .seconds(10))) ?? process.output
            throw NodeError(message: "node did not become ready: \(output)")
        }
        listeners = ready
    }

    struct NodeError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    func port(_ name: String) -> Int { listeners[name] ?? -1 }

    /// What the node logged (stderr) so far.
    var log: String { process.stderr }

    /// Sends `signal` and waits for the process to exit; returns its status and what it logged.
    /// A node that has not exited a minute after the signal is killed (status 9).
    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> (status: Int32, log: String) {
        let output: ProcessOutput
        do { output = try process.stop(signal, timeout: .seconds(60)) } catch { output = error.output ?? process.output }
        return (output.status, output.stderr)
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
        let result = try runProcess("/usr/bin/curl", args)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    func remove() { try? FileManager.default.removeItem(atPath: data) }
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

/// The value of a Prometheus sample in a /metrics text, e.g. `hypha_listener_records_total{listener="json"}`.
func metric(_ text: String, _ name: String) -> Double? {
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Double(line.dropFirst(name.count + 1))
    }
    return nil
}

/// Waits until the node's /metrics show `name` at `value` or more (counters publish once a second).
func waitForMetric(_ node: HyphaNode, _ name: String, atLeast value: Double, seconds: Int64 = 15) -> Bool {
    eventuallyBlocking(timeout: .seconds(seconds), every: .milliseconds(50)) { (try? node.http("/metrics").1).map { (metric($0, name) ?? 0) >= value } ?? false }
}
