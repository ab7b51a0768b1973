@testable import Ingest
import NIOCore
import NIOEmbedded
import Testing
import TestSupport
import WAL
import Wire

/// NativeHandler in the node's native pipeline, without sockets: an idle connection gets
/// ERROR 9 and is closed; answers go out in the order their frames arrived, and a batch is
/// acknowledged only once the WAL made it durable.
@Suite struct NativeHandlerTests {
    static let allocator = ByteBufferAllocator()

    static func records(_ count: Int, tag: String) -> [Record] {
        (0 ..< count).map { i in
            .log(LogRecord(timestamp: 1_800_000_000_000_000_000 + Int64(i), severity: 6, facility: 1, host: "edge-7", app: "app", message: "\(tag) \(i)"))
        }
    }

    /// Decodes one frame the handler wrote, or records an issue.
    static func expectFrame(_ buffer: ByteBuffer?, _ type: NativeFrameType, sourceLocation: SourceLocation = #_sourceLocation) -> ByteBuffer? {
        guard let buffer, let frame = nativeFrame(buffer) else {
            Issue.record("expected a \(type) frame, got \(String(describing: buffer))", sourceLocation: sourceLocation)
            return nil
        }
        guard frame.type == type.rawValue else {
            Issue.record("expected a \(type) frame, got type 0x\(String(frame.type, radix: 16))", sourceLocation: sourceLocation)
            return nil
        }
        return frame.body
    }

    @Test func anIdleConnectionGetsErrorNineThenIsClosed() throws {
        let harness = try HandlerHarness()
        let loop = EmbeddedEventLoop()
        let timeout = TimeAmount.milliseconds(300)
        let channel = EmbeddedChannel(handlers: [
            IdleStateHandler(readTimeout: timeout),
            ByteToMessageHandler(NativeFrameDecoder(maxFrameBytes: harness.context.limits.maxFrameBytes)),
            NativeHandler(ingest: harness.context, batcher: harness.batcher(on: loop)),
        ], loop: loop)
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 7400), promise: nil)
        let helloAt = NIODeadline.now()
        try channel.writeInbound(NativeHello(daemonID: "edge-7").frame(allocator: Self.allocator))
        if var body = Self.expectFrame(try channel.readOutbound(), .helloOK) {
            #expect(try NodeFrames.welcome(&body).nodeID == "test-node")
        }

        #expect(runAlongWallClock(loop) { !channel.isActive }, "an idle connection is closed")
        let quiet = NIODeadline.now() - helloAt
        #expect(quiet >= timeout, "closed \(quiet) after the last frame, before the \(timeout) idle timeout")
        if var body = Self.expectFrame(try channel.readOutbound(), .error) {
            let (code, message) = try NodeFrames.error(&body)
            #expect(code == NativeErrorCode.idleTimeout.rawValue, "ERROR code \(code) (\(message)), expected 9 (idle timeout)")
            #expect(message.contains("no frame for"), "the message says why: \(message)")
        }
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean, "nothing after the ERROR frame")
        try loop.syncShutdownGracefully()
        #expect(try harness.finish().isEmpty)
    }

    /// HELLO, then in one read: a valid BATCH, a BATCH whose only record is refused (its NACK
    /// needs no WAL), and a HEARTBEAT. Nothing is answered before the first batch is durable,
    /// because answers keep the order of their frames; then ACK, NACK, HEARTBEAT_ACK.
    @Test func answersKeepTheOrderOfTheirFramesAndAcksWaitForDurability() async throws {
        let harness = try HandlerHarness(durability: .interval)  // no flusher: durable only when the test says so
        let (context, pool) = (harness.context, harness.writers.pool)
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(NativeFrameDecoder(maxFrameBytes: context.limits.maxFrameBytes)),
                NativeHandler(ingest: context, batcher: HandlerHarness.batcher(context, pool: pool, on: channel.eventLoop)),
            ])
        }
        try await channel.writeInbound(NativeHello(daemonID: "edge-7").frame(allocator: Self.allocator))
        _ = Self.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .helloOK)

        var read = NodeFrames.batch(producerID: 42, sequence: 1, records: Self.records(3, tag: "first"), allocator: Self.allocator)
        var refused = NativeFrames.frame(.batch, allocator: Self.allocator) { body in
            body.writeInteger(UInt64(42), endianness: .big)
            body.writeInteger(UInt64(2), endianness: .big)
            body.writeInteger(UInt32(1), endianness: .big)
            let record: [UInt8] = [0xEE] + [UInt8](repeating: 0, count: 8)  // kind 0xEE: unknown
            body.writeInteger(UInt32(record.count), endianness: .big)
            body.writeBytes(record)
        }
        var heartbeat = NativeHeartbeat(sentAtMilliseconds: 1234).frame(allocator: Self.allocator)
        read.writeBuffer(&refused)
        read.writeBuffer(&heartbeat)
        try await channel.writeInbound(read)

        #expect(await eventually { harness.wal.shard(0).nextSequence == 3 }, "the writer appended the first batch")
        let early = try await channel.readOutbound(as: ByteBuffer.self)
        #expect(early == nil, "nothing is answered while the first batch is not durable, not even the NACK and HEARTBEAT_ACK behind it: \(String(describing: early))")

        try harness.makeDurable()
        if var body = Self.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .ack) {
            let ack = try NodeFrames.ack(&body)
            #expect(ack.producerID == 42 && ack.producerSequence == 1 && ack.acceptedCount == 3 && ack.firstSequence == 0, "\(ack)")
        }
        if var body = Self.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .nack) {
            let nack = try NodeFrames.nack(&body)
            #expect(nack.producerSequence == 2 && nack.acceptedCount == 0, "\(nack)")
            #expect(nack.rejections.map(\.code) == [NativeRejectCode.unknownKind.rawValue], "\(nack.rejections)")
        }
        if var body = Self.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .heartbeatAck) {
            #expect(try NodeFrames.heartbeatAck(&body).echoed == 1234)
        }
        #expect(try await channel.finish().isClean)
        await channel.testingEventLoop.shutdownGracefully()
        let stored = try harness.finish()
        #expect(stored == Self.records(3, tag: "first"), "only the valid batch is in the WAL: \(stored)")
    }
}
