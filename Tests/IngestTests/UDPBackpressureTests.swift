import Foundation
import Ingest
import Platform
import WAL
import Wire
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// UDP cannot push back: while the WAL is behind (the in-flight gate over its limit), syslog
/// datagrams are dropped and counted, nothing of them is written, and once the gate drains
/// datagrams are stored again. A real IngestServer and a real UDP socket on loopback.
@Suite struct UDPBackpressureTests {
    @Test func datagramsAreDroppedAndCountedWhileTheWALIsBehindThenStoredAgain() async throws {
        let directory = TemporaryDirectory("hypha-udp")
        defer { directory.remove() }
        let (server, wal, bound, stop) = try await startIngestServer(
            directory: directory.path, options: testOptions(shards: 2, durability: .interval), syslog: 0, nodeID: "udp-test")
        let limits = server.context.limits
        let port = try #require(bound["syslog_udp"]?.port)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let sender = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        func send(_ message: String) async throws {
            try await sender.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: message))).get()
        }
        func dropped() -> Int { server.context.stats.snapshot.listeners[.syslogUDP]?.dropped ?? 0 }
        func stored() -> UInt64 { (0 ..< wal.shardCount).reduce(0) { $0 + wal.shard($1).nextSequence } }

        // The WAL is "behind": shard 0's share of the in-flight bytes is used up.
        server.context.gate.reserve(bytes: limits.maxInFlightShardBytes, shard: 0)
        #expect(server.context.gate.isOverLimit)
        for i in 0 ..< 50 { try await send("<13>1 2026-11-21T10:00:00Z web1 app - - - dropped \(i)") }
        #expect(await eventually(timeout: .seconds(5)) { dropped() == 50 }, "50 datagrams counted as dropped, got \(dropped())")
        #expect(stored() == 0, "nothing of them was written")

        server.context.gate.release(bytes: limits.maxInFlightShardBytes, shard: 0)
        for i in 0 ..< 20 { try await send("<13>1 2026-11-21T10:00:01Z web1 app - - - stored \(i)") }
        #expect(await eventually(timeout: .seconds(5)) { stored() == 20 }, "the next 20 are stored once the gate drained, got \(stored())")
        #expect(dropped() == 50, "and none of them was dropped")
        try await sender.close()
        try await group.shutdownGracefully()
        try await stop()
        let messages = try (0 ..< 2).flatMap { try readAll(directory.path, shard: $0) }.compactMap { record -> String? in
            if case .log(let l) = record.1 { l.message } else { nil }
        }
        #expect(Set(messages) == Set((0 ..< 20).map { "stored \($0)" }), "\(messages.count) messages read back")
    }
}
