import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Loopback TCP port checks for the benchmarks: readiness probes and free ports.
///
/// Plain IPv4 socket calls, no name resolution: cheap enough to poll a port every half
/// millisecond while timing a restart. Senders and HTTP probes use ``LoadSocket``.
public enum PlainTCPSocket {
    /// Whether something accepts TCP connections on `host:port` (numeric IPv4) right now (the
    /// connection is closed at once).
    public static func accepts(host: String = "127.0.0.1", port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { Glibc.close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
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

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
