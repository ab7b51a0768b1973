import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking IPv4 TCP client socket for readiness probes and `/metrics` reads.
///
/// The file descriptor and every pointer handed to the socket calls stay inside this type;
/// callers send and receive `[UInt8]`. Not thread-safe: one thread drives one socket.
public final class PlainTCPSocket {
    private var descriptor: Int32
    private var input = [UInt8](repeating: 0, count: 1 << 16)

    /// Connects to `host:port` (numeric IPv4) and sets `TCP_NODELAY`.
    /// - Throws: ``BenchError`` naming the address and the system error.
    public init(host: String = "127.0.0.1", port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchError("socket(): \(Self.lastError())") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            Glibc.close(descriptor)
            throw BenchError("\(host) is not a numeric IPv4 address")
        }
        let fd = descriptor
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = Self.lastError()
            Glibc.close(descriptor)
            throw BenchError("connect to \(host):\(port): \(reason)")
        }
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), 1 /* TCP_NODELAY */, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close() }

    /// Whether something accepts TCP connections on `host:port` right now (the connection is
    /// closed at once).
    public static func accepts(host: String = "127.0.0.1", port: Int) -> Bool {
        (try? PlainTCPSocket(host: host, port: port)) != nil
    }

    /// A loopback port that was free a moment ago (bound to port 0, then released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket(): \(lastError())") }
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw BenchError("cannot bind a free loopback port: \(lastError())") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Sends all of `bytes`, blocking while the peer's window is full.
    public func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BenchError("send: \(Self.lastError())")
                }
                offset += n
            }
        }
    }

    /// Reads until the peer closes the connection.
    public func readToEnd() throws -> [UInt8] {
        var out: [UInt8] = []
        while true {
            let n = input.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw BenchError("recv: \(Self.lastError())")
            }
            if n == 0 { return out }
            out += input[0 ..< n]
        }
    }

    /// The body of `GET path` from an HTTP server on loopback `port` (HTTP/1.0, so the server
    /// closes the connection after the response); `nil` on any failure or a status other than 200.
    ///
    /// Foundation's `Data(contentsOf:)` cannot fetch http URLs on Linux without
    /// FoundationNetworking, so the benchmarks read `/metrics` with this.
    public static func httpGet(port: Int, path: String) -> String? {
        guard let socket = try? PlainTCPSocket(port: port),
            (try? socket.send(Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))) != nil,
            let response = try? socket.readToEnd()
        else { return nil }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200"), let split = text.range(of: "\r\n\r\n") else { return nil }
        return String(text[split.upperBound...])
    }

    /// One unlabelled sample of a Prometheus exposition, e.g. `hypha_wal_durable_records_total`.
    public static func metric(_ name: String, httpPort: Int) -> Double? {
        guard let body = httpGet(port: httpPort, path: "/metrics") else { return nil }
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    /// Closes the socket (idempotent).
    public func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}

@available(*, unavailable)
extension PlainTCPSocket: Sendable {}
