#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP client socket for the load generator: plain POSIX calls, big writes, and
/// timeouts so that a stuck peer becomes an error instead of a hang.
///
/// One thread writes and (for native) one other thread reads; nothing else touches it.
public final class LoadSocket: @unchecked Sendable {
    public let fd: Int32
    public let peer: String

    /// Connects to `host:port` (a name or an IPv4/IPv6 literal).
    /// - Parameters:
    ///   - noDelay: sets `TCP_NODELAY` (the native protocol asks for it).
    ///   - timeoutSeconds: send and receive timeout; a write or read blocked longer fails.
    public init(host: String, port: Int, noDelay: Bool, timeoutSeconds: Int = 120) throws {
        peer = "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw BenchError("cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var connected: Int32 = -1
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype, a.pointee.ai_protocol)
            if s >= 0 {
                if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                    connected = s
                    break
                }
                lastError = errno
                close(s)
            } else {
                lastError = errno
            }
            ai = a.pointee.ai_next
        }
        guard connected >= 0 else {
            throw BenchError("cannot connect to \(host):\(port): \(String(cString: strerror(lastError)))")
        }
        fd = connected
        var one: Int32 = 1
        if noDelay { setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Writes all `count` bytes at `base`, in as few calls as the kernel allows.
    public func writeAll(_ base: UnsafeRawPointer, _ count: Int) throws {
        var done = 0
        while done < count {
            let n = send(fd, base + done, count - done, Int32(MSG_NOSIGNAL))
            if n > 0 {
                done += n
            } else if n < 0, errno == EINTR {
                continue
            } else {
                let e = errno
                throw BenchError(e == EAGAIN || e == EWOULDBLOCK
                    ? "writing to \(peer) timed out (the peer stopped reading)"
                    : "writing to \(peer) failed: \(String(cString: strerror(e)))")
            }
        }
    }

    /// Writes `head` and then `count` bytes at `body` as one stream, with one `sendmsg` where the
    /// kernel takes it all (no copy of the body, no separate small segment for the head).
    public func writeAll(head: [UInt8], body: UnsafeRawPointer, count: Int) throws {
        var headDone = 0
        var bodyDone = 0
        try head.withUnsafeBytes { h in
            while headDone < h.count || bodyDone < count {
                var iov = [
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress! + headDone), iov_len: h.count - headDone),
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: body + bodyDone), iov_len: count - bodyDone),
                ]
                let n = iov.withUnsafeMutableBufferPointer { v -> Int in
                    var message = msghdr()
                    let skip = headDone < h.count ? 0 : 1
                    message.msg_iov = v.baseAddress! + skip
                    message.msg_iovlen = 2 - skip
                    return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    let fromHead = min(n, h.count - headDone)
                    headDone += fromHead
                    bodyDone += n - fromHead
                } else if n < 0, errno == EINTR {
                    continue
                } else {
                    let e = errno
                    throw BenchError(e == EAGAIN || e == EWOULDBLOCK
                        ? "writing to \(peer) timed out (the peer stopped reading)"
                        : "writing to \(peer) failed: \(String(cString: strerror(e)))")
                }
            }
        }
    }

    /// Writes all of `bytes`.
    public func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try writeAll($0.baseAddress!, $0.count) }
    }

    /// Reads up to `capacity` bytes; returns 0 at end of stream.
    public func read(into base: UnsafeMutableRawPointer, capacity: Int) throws -> Int {
        while true {
            let n = recv(fd, base, capacity, 0)
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            throw BenchError(e == EAGAIN || e == EWOULDBLOCK
                ? "no answer from \(peer) within the timeout"
                : "reading from \(peer) failed: \(String(cString: strerror(e)))")
        }
    }

    /// Reads exactly `count` bytes, or throws at end of stream.
    public func readExactly(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        try out.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = try read(into: buffer.baseAddress! + done, capacity: count - done)
                if n == 0 { throw BenchError("\(peer) closed the connection") }
                done += n
            }
        }
        return out
    }

    /// Shuts both directions, waking a thread blocked reading or writing.
    public func shutdownBoth() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Closes the sending direction (the peer sees end of stream once it has read everything).
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }
}
