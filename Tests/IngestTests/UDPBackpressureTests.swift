import Foundation
import Ingest
import NIOCore
import Testing

/// UDP cannot push back: while the WAL is behind (the in-flight gate over its limit), syslog
/// datagrams are dropped and counted, nothing of them is written, and once the gate drains
/// datagrams are stored again. A real IngestServer and a real UDP socket on loopback.
@Suite struct UDPBackpressureTests {
    @Test func datagramsAreDroppedAndCountedWhileTheWALIsBehindThenStoredAgain() async throws {
        let directory = TemporaryDirectory("hypha-udp")
        defer { directory.remove() }
        let relay = DurableRelay()
        let wal = try WriteAheadLog.open(
            dataDirectory: directory.path, options: testOptions(shards: 2, durability: .interval), logger: quietLogger,
            onDurable: { relay.durable(shard: $0, upTo: $1) })
        var ports = ListenerPorts()
        ports.native = nil
        ports.syslog = 0
        ports.json = nil
        ports.influx = nil
        ports.graphite = nil
        let limits = IngestLimits()
        let server = try IngestServer(
            wal: wal, relay: relay, limits: limits, bindHost: "127.0.0.1", ports: ports, tokens: [], nodeID: "udp-test",
            observer: nil, threads: 1, logger: quietLogger)
        let bound = try await server.start()
        let port = try #require(bound["syslog_udp"]?.port)
        let sender = try UDPSender(port: port)
        defer { sender.close() }
        func dropped() -> Int { server.context.stats.snapshot.listeners[.syslogUDP]?.dropped ?? 0 }
        func stored() -> UInt64 { (0 ..< wal.shardCount).reduce(0) { $0 + wal.shard($1).nextSequence } }

        // The WAL is "behind": shard 0's share of the in-flight bytes is used up.
        server.context.gate.reserve(bytes: limits.maxInFlightShardBytes, shard: 0)
        #expect(server.context.gate.isOverLimit)
        for i in 0 ..< 50 { try sender.send("<13>1 2026-11-21T10:00:00Z web1 app - - - dropped \(i)") }
        #expect(await eventually { dropped() == 50 }, "50 datagrams counted as dropped, got \(dropped())")
        #expect(stored() == 0, "nothing of them was written")

        server.context.gate.release(bytes: limits.maxInFlightShardBytes, shard: 0)
        for i in 0 ..< 20 { try sender.send("<13>1 2026-11-21T10:00:01Z web1 app - - - stored \(i)") }
        #expect(await eventually { stored() == 20 }, "the next 20 are stored once the gate drained, got \(stored())")
        #expect(dropped() == 50, "and none of them was dropped")
        try await server.shutdown()
        try wal.close()
        let messages = try (0 ..< 2).flatMap { try readAll(directory.path, shard: $0) }.compactMap { record -> String? in
            if case .log(let l) = record.1 { l.message } else { nil }
        }
        #expect(Set(messages) == Set((0 ..< 20).map { "stored \($0)" }), "\(messages.count) messages read back")
    }

    /// Polls `condition` every 20 ms for up to 5 s (stats are published once a second).
    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0 ..< 250 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

/// A connected UDP socket to 127.0.0.1:`port`.
private struct UDPSender {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard r == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    func send(_ message: String) throws {
        let bytes = Array(message.utf8)
        guard Glibc.send(fd, bytes, bytes.count, 0) == bytes.count else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    func close() { _ = Glibc.close(fd) }
}
