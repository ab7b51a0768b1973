@testable import Ingest
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
import TestSupport
import WAL
import Wire

/// NativeHandler with protocol version 2, without sockets: the HELLO_OK it answers, compressed
/// batches stored like plain ones, every way a BATCH_COMPRESSED is refused, and the
/// incarnation as part of the de-duplication key (docs/protocol.md, 5.1, 5.2, 5.10, 7).
@Suite struct NativeHandlerVersionTwoTests {
    static let allocator = ByteBufferAllocator()
    static let incarnation = DaemonIncarnation(hex: "5f3a9c2e7b1d4086")!

    static func hello(offering codecs: [WALCodec] = [], incarnation: DaemonIncarnation? = nil, version: UInt16 = 2) -> ByteBuffer {
        var hello = NativeHello(version: version, daemonID: "edge-7")
        hello.compression = codecs
        hello.incarnation = incarnation
        return hello.frame(allocator: allocator)
    }

    static func payload(_ records: [Record]) -> [UInt8] {
        var bytes: [UInt8] = []
        for r in records { RecordEncoder.append(r, to: &bytes) }
        return bytes
    }

    static func compressed(
        _ records: [Record], producerID: UInt64 = 42, sequence: UInt64 = 1, codec: WALCodec = .lz4, count: Int? = nil
    ) throws -> ByteBuffer {
        let header = NativeBatchHeader(producerID: producerID, producerSequence: sequence, recordCount: UInt32(count ?? records.count))
        return try NodeFrames.compressedBatch(header, payload: payload(records), codec: codec, context: CodecContext(), allocator: allocator)
    }

    /// A native pipeline on an EmbeddedChannel: enough when no WAL completion must hop back.
    static func embedded(_ harness: HandlerHarness) -> (EmbeddedChannel, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(handlers: [
            ByteToMessageHandler(NativeFrameDecoder(maxFrameBytes: harness.context.limits.maxFrameBytes)),
            NativeHandler(ingest: harness.context, batcher: harness.batcher(on: loop)),
        ], loop: loop)
        return (channel, loop)
    }

    /// A native pipeline on a NIOAsyncTestingChannel, whose loop the WAL's completions can reach.
    static func asynchronous(_ harness: HandlerHarness) async throws -> NIOAsyncTestingChannel {
        let (context, pool) = (harness.context, harness.writers.pool)
        return try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(NativeFrameDecoder(maxFrameBytes: context.limits.maxFrameBytes)),
                NativeHandler(ingest: context, batcher: HandlerHarness.batcher(context, pool: pool, on: channel.eventLoop)),
            ])
        }
    }

    static func welcome(_ channel: EmbeddedChannel, sourceLocation: SourceLocation = #_sourceLocation) throws -> NativeWelcome? {
        guard var body = NativeHandlerTests.expectFrame(try channel.readOutbound(), .helloOK, sourceLocation: sourceLocation) else { return nil }
        return try NodeFrames.welcome(&body)
    }

    static func error(_ buffer: ByteBuffer?, sourceLocation: SourceLocation = #_sourceLocation) throws -> (code: UInt16, message: String)? {
        guard var body = NativeHandlerTests.expectFrame(buffer, .error, sourceLocation: sourceLocation) else { return nil }
        return try NodeFrames.error(&body)
    }

    // MARK: HELLO

    @Test func aVersionTwoHelloIsWelcomedWithTheFirstOfferedCodecAndTheBatchLimit() throws {
        var limits = IngestLimits()
        limits.maxBatchBytes = 3 << 20
        let harness = try HandlerHarness(limits: limits)
        let cases: [([WALCodec], WALCodec?)] = [([.zstd, .lz4], .zstd), ([.lz4], .lz4), ([], nil)]
        for (offered, expected) in cases {
            let (channel, loop) = Self.embedded(harness)
            try channel.writeInbound(Self.hello(offering: offered, incarnation: Self.incarnation))
            let welcome = try Self.welcome(channel)
            #expect(welcome?.version == 2, "offered \(offered): \(String(describing: welcome))")
            #expect(welcome?.compression == expected, "offered \(offered): accepted \(String(describing: welcome?.compression)), expected \(String(describing: expected))")
            #expect(welcome?.maxBatchBytes == 3 << 20, "max_batch_bytes \(String(describing: welcome?.maxBatchBytes))")
            _ = try channel.finish()
            try loop.syncShutdownGracefully()
        }
        var unknown = NativeHello(version: 2, daemonID: "edge-7", extensions: ["compression": "snappy,brotli", "x-future": "1"])
        unknown.incarnation = Self.incarnation
        let (channel, loop) = Self.embedded(harness)
        try channel.writeInbound(unknown.frame(allocator: Self.allocator))
        let welcome = try Self.welcome(channel)
        #expect(welcome?.compression == nil && welcome?.extensions.keys.sorted() == ["max_batch_bytes"], "nothing known offered: \(String(describing: welcome))")
        _ = try channel.finish()
        try loop.syncShutdownGracefully()
        #expect(try harness.finish().isEmpty)
    }

    @Test func aVersionOneHelloIsWelcomedAsBefore() throws {
        let harness = try HandlerHarness()
        let (channel, loop) = Self.embedded(harness)
        try channel.writeInbound(Self.hello(offering: [.lz4], version: 1))
        let bytes = try channel.readOutbound(as: ByteBuffer.self)
        let expected = NativeWelcome(version: 1, maxFrameSize: IngestLimits().maxFrameBytes, heartbeatIntervalMilliseconds: 5000, nodeID: "test-node")
            .frame(allocator: Self.allocator)
        #expect(bytes == expected, "the version 1 HELLO_OK, byte for byte: \(String(describing: bytes))")
        _ = try channel.finish()
        try loop.syncShutdownGracefully()
        _ = try harness.finish()
    }

    @Test func anUnknownVersionGetsErrorOneNamingBothVersions() throws {
        let harness = try HandlerHarness()
        let (channel, loop) = Self.embedded(harness)
        try channel.writeInbound(Self.hello(version: 3))
        let error = try Self.error(try channel.readOutbound())
        #expect(error?.code == NativeErrorCode.unsupportedVersion.rawValue && error?.message == "unsupported protocol version 3; supported: 1, 2", "\(String(describing: error))")
        #expect(!channel.isActive)
        try loop.syncShutdownGracefully()
        _ = try harness.finish()
    }

    @Test func aBadIncarnationIsErrorFour() throws {
        let harness = try HandlerHarness()
        let (channel, loop) = Self.embedded(harness)
        try channel.writeInbound(NativeHello(version: 2, daemonID: "edge-7", extensions: ["incarnation": "0000000000000000"]).frame(allocator: Self.allocator))
        let error = try Self.error(try channel.readOutbound())
        #expect(error?.code == NativeErrorCode.malformedFrame.rawValue && error?.message.contains("incarnation") == true, "\(String(describing: error))")
        try loop.syncShutdownGracefully()
        _ = try harness.finish()
    }

    // MARK: BATCH_COMPRESSED accepted

    @Test(arguments: [WALCodec.lz4, .zstd])
    func compressedBatchesAreStoredAndAnsweredLikePlainOnes(_ codec: WALCodec) async throws {
        let harness = try HandlerHarness()
        let channel = try await Self.asynchronous(harness)
        try await channel.writeInbound(Self.hello(offering: [codec], incarnation: Self.incarnation))
        _ = NativeHandlerTests.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .helloOK)

        let good = NativeHandlerTests.records(50, tag: "\(codec) good")
        try await channel.writeInbound(try Self.compressed(good, sequence: 1, codec: codec))
        if var body = NativeHandlerTests.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .ack) {
            let ack = try NodeFrames.ack(&body)
            #expect(ack.producerSequence == 1 && ack.acceptedCount == 50 && !ack.isDuplicate && ack.firstSequence == 0, "\(ack)")
        }
        // Records 1 and 3 are refused one by one; the others are stored.
        let mixed = NativeHandlerTests.records(5, tag: "\(codec) mixed")
        var payload = Self.payload(Array(mixed[0 ..< 1]))
        payload += [9, 0xEE] + [UInt8](repeating: 0, count: 8)  // kind 0xEE
        payload += Self.payload(Array(mixed[2 ..< 3]))
        payload += [0]  // an empty body
        payload += Self.payload(Array(mixed[4 ..< 5]))
        let frame = NodeFrames.compressedBatch(
            NativeBatchHeader(producerID: 42, producerSequence: 2, recordCount: 5), codec: codec, uncompressedLength: payload.count,
            compressed: try CodecContext().compress(payload, codec: codec), allocator: Self.allocator)
        try await channel.writeInbound(frame)
        if var body = NativeHandlerTests.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .nack) {
            let nack = try NodeFrames.nack(&body)
            #expect(nack.acceptedCount == 3, "\(nack)")
            #expect(nack.rejections.map(\.index) == [1, 3] && nack.rejections.map(\.code) == [NativeRejectCode.unknownKind.rawValue, NativeRejectCode.malformed.rawValue], "\(nack.rejections)")
        }
        // A resend, plain this time, is a duplicate: BATCH and BATCH_COMPRESSED share the key.
        try await channel.writeInbound(NodeFrames.batch(producerID: 42, sequence: 1, records: good, allocator: Self.allocator))
        if var body = NativeHandlerTests.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .ack) {
            #expect(try NodeFrames.ack(&body).isDuplicate)
        }
        #expect(try await channel.finish().isClean)
        await channel.testingEventLoop.shutdownGracefully()
        let stored = try harness.finish()
        #expect(stored == good + [mixed[0], mixed[2], mixed[4]], "stored \(stored.count) records: the 50, then the 3 valid ones")
    }

    // MARK: BATCH_COMPRESSED refused

    /// Each case on a fresh session: the ERROR code, and nothing reaches the WAL.
    static func refusal(
        offering: [WALCodec], limits: IngestLimits = IngestLimits(), _ frame: () throws -> ByteBuffer, version: UInt16 = 2
    ) throws -> (code: UInt16, message: String)? {
        let harness = try HandlerHarness(limits: limits)
        let (channel, loop) = Self.embedded(harness)
        try channel.writeInbound(Self.hello(offering: offering, version: version))
        _ = try channel.readOutbound(as: ByteBuffer.self)
        try channel.writeInbound(try frame())
        let error = try Self.error(try channel.readOutbound())
        #expect(!channel.isActive, "the connection closes after the ERROR")
        try loop.syncShutdownGracefully()
        #expect(try harness.finish().isEmpty, "nothing of the batch is written")
        return error
    }

    @Test func aCodecNotAcceptedIsAProtocolViolation() throws {
        let records = NativeHandlerTests.records(3, tag: "x")
        let v1 = try Self.refusal(offering: [], { try Self.compressed(records) }, version: 1)
        #expect(v1?.code == NativeErrorCode.protocolViolation.rawValue, "version 1 session: \(String(describing: v1))")
        let none = try Self.refusal(offering: [], { try Self.compressed(records) })
        #expect(none?.code == NativeErrorCode.protocolViolation.rawValue, "no codec accepted: \(String(describing: none))")
        let other = try Self.refusal(offering: [.lz4], { try Self.compressed(records, codec: .zstd) })
        #expect(other?.code == NativeErrorCode.protocolViolation.rawValue && other?.message.contains("accepted lz4") == true, "\(String(describing: other))")
    }

    @Test func aBatchAboveTheLimitIsRefusedBeforeDecompression() throws {
        var limits = IngestLimits()
        limits.maxBatchBytes = 1024
        let records = NativeHandlerTests.records(40, tag: "bomb")
        let error = try Self.refusal(offering: [.lz4], limits: limits) {
            // Nothing but zeros: a few bytes that would expand far past the limit.
            let bomb = try CodecContext().compress([UInt8](repeating: 0, count: 1 << 20), codec: .lz4)
            return NodeFrames.compressedBatch(
                NativeBatchHeader(producerID: 1, producerSequence: 1, recordCount: 1), codec: .lz4, uncompressedLength: 1 << 20,
                compressed: bomb, allocator: Self.allocator)
        }
        #expect(error?.code == NativeErrorCode.malformedFrame.rawValue && error?.message.contains("max_batch_bytes 1024") == true, "\(String(describing: error))")
        let honest = try Self.refusal(offering: [.lz4], limits: limits) { try Self.compressed(records) }
        #expect(honest?.code == NativeErrorCode.malformedFrame.rawValue, "a real batch above the limit too: \(String(describing: honest))")
    }

    @Test func dataThatDoesNotDecompressExactlyIsMalformed() throws {
        let records = NativeHandlerTests.records(20, tag: "corrupt")
        let payload = Self.payload(records)
        let compressed = try CodecContext().compress(payload, codec: .lz4)
        var garbage = compressed
        for i in stride(from: 0, to: garbage.count, by: 2) { garbage[i] ^= 0x5A }
        let cases: [(String, [UInt8], Int)] = [
            ("garbage", garbage, payload.count), ("announced one byte longer", compressed, payload.count + 1),
            ("announced one byte shorter", compressed, payload.count - 1), ("cut", Array(compressed.dropLast(5)), payload.count),
        ]
        for (what, data, length) in cases {
            let error = try Self.refusal(offering: [.lz4]) {
                NodeFrames.compressedBatch(
                    NativeBatchHeader(producerID: 1, producerSequence: 1, recordCount: 20), codec: .lz4, uncompressedLength: length,
                    compressed: data, allocator: Self.allocator)
            }
            #expect(error?.code == NativeErrorCode.malformedFrame.rawValue, "\(what): \(String(describing: error))")
        }
    }

    @Test func recordsThatDoNotMatchTheCountAreMalformed() throws {
        let records = NativeHandlerTests.records(4, tag: "count")
        for count in [3, 5] {
            let error = try Self.refusal(offering: [.lz4]) { try Self.compressed(records, count: count) }
            #expect(error?.code == NativeErrorCode.malformedFrame.rawValue, "record_count \(count) for 4 records: \(String(describing: error))")
        }
        let trailing = try Self.refusal(offering: [.zstd]) {
            let payload = Self.payload(records) + [0x01]
            return NodeFrames.compressedBatch(
                NativeBatchHeader(producerID: 1, producerSequence: 1, recordCount: 4), codec: .zstd, uncompressedLength: payload.count,
                compressed: try CodecContext().compress(payload, codec: .zstd), allocator: Self.allocator)
        }
        #expect(trailing?.code == NativeErrorCode.malformedFrame.rawValue && trailing?.message.contains("follow the last") == true, "\(String(describing: trailing))")
        let codecZero = try Self.refusal(offering: [.lz4]) {
            var frame = try Self.compressed(records)
            frame.setInteger(UInt8(0), at: frame.readerIndex + 5 + 20)
            return frame
        }
        #expect(codecZero?.code == NativeErrorCode.malformedFrame.rawValue, "codec 0: \(String(describing: codecZero))")
    }

    // MARK: Incarnations

    /// Counts the duplicates the handler reports, per daemon.
    final class DuplicateRecorder: DaemonObserver {
        let counts = Mutex<[String: Int]>([:])
        func daemonConnected(hello: NativeHello, peer: String) {}
        func daemonHeartbeat(id: String, heartbeat: NativeHeartbeat) {}
        func daemonDisconnected(id: String) {}
        func daemonSentDuplicate(id: String) { counts.withLock { $0[id, default: 0] += 1 } }
    }

    /// Producer 7, sequence 1, one record, sent in sessions with different HELLOs: the
    /// incarnation is part of the key, and no incarnation is the key of version 1.
    @Test func theIncarnationIsPartOfTheDeduplicationKey() async throws {
        let recorder = DuplicateRecorder()
        let harness = try HandlerHarness(observer: recorder)
        let other = DaemonIncarnation(hex: "00000000000000b2")!
        let sessions: [(String, ByteBuffer, Bool)] = [
            ("version 1", Self.hello(version: 1), false),
            ("version 2 without an incarnation: the version 1 key", Self.hello(offering: [.lz4]), true),
            ("incarnation 5f3a…", Self.hello(offering: [.lz4], incarnation: Self.incarnation), false),
            ("incarnation 5f3a… again", Self.hello(incarnation: Self.incarnation), true),
            ("incarnation …b2", Self.hello(incarnation: other), false),
        ]
        for (index, (what, hello, duplicate)) in sessions.enumerated() {
            let channel = try await Self.asynchronous(harness)
            try await channel.writeInbound(hello)
            _ = NativeHandlerTests.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .helloOK)
            let records = [Record.log(LogRecord(timestamp: 5, severity: 6, facility: 1, host: "h", app: "a", message: "session \(index)"))]
            try await channel.writeInbound(NodeFrames.batch(producerID: 7, sequence: 1, records: records, allocator: Self.allocator))
            if var body = NativeHandlerTests.expectFrame(try await channel.waitForOutboundWrite(as: ByteBuffer.self), .ack) {
                let ack = try NodeFrames.ack(&body)
                #expect(ack.isDuplicate == duplicate, "\(what): duplicate \(ack.isDuplicate), expected \(duplicate)")
            }
            _ = try await channel.finish()
            await channel.testingEventLoop.shutdownGracefully()
        }
        #expect(recorder.counts.withLock { $0 } == ["edge-7": 2], "duplicates reported: \(recorder.counts.withLock { $0 })")
        let stored = try harness.finish().compactMap { if case .log(let l) = $0 { l.message } else { nil } }
        #expect(stored == ["session 0", "session 2", "session 4"], "\(stored)")
        let versionOneKey: UInt64 = 99 ^ (7 &* 0x9E37_79B9_7F4A_7C15)
        #expect(NativeHandler.producerKey(daemonHash: 99, producerID: 7, incarnation: 0) == versionOneKey, "incarnation 0 keeps the keys of version 1")
    }
}
