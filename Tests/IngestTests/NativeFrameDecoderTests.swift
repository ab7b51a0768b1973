import NIOCore
import NIOEmbedded
import Testing
import WAL
import Wire

/// NativeFrameDecoder behind NIO's ByteToMessageHandler on an EmbeddedChannel, as the node's
/// native pipeline runs it: TCP may cut the byte stream anywhere, and whatever the cut the
/// same frames come out, each as soon as its last byte arrived.
@Suite struct NativeFrameDecoderTests {
    static let allocator = ByteBufferAllocator()

    /// Whole frames as daemons send them: HELLO, a BATCH of three records, a HEARTBEAT, and
    /// the smallest legal frame (length 1: a type byte, no body).
    static let frames: [[UInt8]] = {
        let records: [Record] = (0 ..< 3).map { i in
            .log(LogRecord(timestamp: 1_800_000_000_000_000_000 + Int64(i), severity: 6, facility: 1, host: "edge-\(i)", app: "app", message: "message ü \(i)"))
        }
        return [
            NativeHello(daemonID: "edge-7", region: "eu", labels: ["rack": "r1"], token: "t0k", agentVersion: "test/1").frame(allocator: allocator),
            NodeFrames.batch(producerID: 42, sequence: 1, records: records, allocator: allocator),
            NativeHeartbeat(sentAtMilliseconds: 1_800_000_000_000, recordsSent: 3, extra: ["tasks": "0"]).frame(allocator: allocator),
            NativeFrames.frame(.heartbeat, allocator: allocator) { _ in },
        ].map { Array($0.readableBytesView) }
    }()

    static let stream: [UInt8] = frames.flatMap { $0 }

    /// What the decoder must hand on for each frame: type and body, without the length.
    static let expected: [[UInt8]] = frames.map { Array($0.dropFirst(4)) }

    /// Where each frame ends in ``stream``.
    static let frameEnds: [Int] = frames.reduce(into: []) { ends, frame in ends.append((ends.last ?? 0) + frame.count) }

    static func channel(maxFrameBytes: Int = 1 << 20) -> EmbeddedChannel {
        EmbeddedChannel(handler: ByteToMessageHandler(NativeFrameDecoder(maxFrameBytes: maxFrameBytes)))
    }

    static func readFrames(_ channel: EmbeddedChannel) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        while let frame = try channel.readInbound(as: ByteBuffer.self) { out.append(Array(frame.readableBytesView)) }
        return out
    }

    @Test func everyTwoPieceSplitYieldsTheSameFrames() throws {
        let stream = Self.stream
        var failures: [String] = []
        for cut in 0 ... stream.count {
            let channel = Self.channel()
            try channel.writeInbound(ByteBuffer(bytes: stream[..<cut]))
            let early = try Self.readFrames(channel)
            try channel.writeInbound(ByteBuffer(bytes: stream[cut...]))
            let frames = early + (try Self.readFrames(channel))
            let complete = Self.frameEnds.filter { $0 <= cut }.count
            if frames != Self.expected || early.count != complete {
                failures.append("cut at \(cut): \(early.count) frames after the first piece (expected \(complete)), \(frames.count) in all")
            }
            #expect(try channel.finish().isClean)
        }
        #expect(failures.isEmpty, "\(failures.count) of \(stream.count + 1) splits differ, e.g. \(failures.prefix(3))")
    }

    @Test func oneByteAtATimeYieldsEachFrameAsItsLastByteArrives() throws {
        let channel = Self.channel()
        var frames: [[UInt8]] = []
        for (offset, byte) in Self.stream.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            frames += try Self.readFrames(channel)
            let complete = Self.frameEnds.filter { $0 <= offset + 1 }.count
            #expect(frames.count == complete, "after \(offset + 1) bytes: \(frames.count) frames out, expected \(complete)")
        }
        #expect(frames == Self.expected, "frames produced one byte at a time differ from the frames sent")
        #expect(try channel.finish().isClean)
    }

    @Test(arguments: [3, 4, 20])
    func aFrameCutOffByTheEndOfTheStreamIsNeverDelivered(into: Int) throws {
        // 3: inside the HEARTBEAT's length field; 4: the length alone; 20: part of its body.
        let channel = Self.channel()
        try channel.writeInbound(ByteBuffer(bytes: Self.stream[..<(Self.frameEnds[1] + into)]))
        #expect(try Self.readFrames(channel) == Array(Self.expected.prefix(2)), "the two whole frames before the cut")
        let rest = try channel.finish()
        #expect(rest.isClean, "nothing more comes out when the connection closes: \(rest)")
    }

    @Test func aLengthAboveTheLimitIsAnErrorBeforeItsBodyIsBuffered() throws {
        let channel = Self.channel(maxFrameBytes: 100)
        var atLimit = ByteBuffer()
        atLimit.writeInteger(UInt32(100), endianness: .big)
        atLimit.writeRepeatingByte(0x06, count: 100)
        try channel.writeInbound(atLimit)
        #expect(try Self.readFrames(channel).map(\.count) == [100], "a frame of exactly the limit is a frame")
        // Only the four length bytes of a frame one byte too long: the error comes at once.
        do {
            try channel.writeInbound(ByteBuffer(bytes: [0, 0, 0, 101]))
            Issue.record("a length of 101 with a limit of 100 was accepted")
        } catch NativeFrameDecoder.FrameError.tooLarge(let length) {
            #expect(length == 101, "the error names the length: \(length)")
        }
        _ = try? channel.finish()
    }

    @Test func aZeroLengthIsAnErrorAfterTheFramesBeforeIt() throws {
        let channel = Self.channel()
        do {
            try channel.writeInbound(ByteBuffer(bytes: Self.frames[0] + [0, 0, 0, 0] + Self.frames[2]))
            Issue.record("a frame length of 0 was accepted")
        } catch NativeFrameDecoder.FrameError.empty {
            #expect(try Self.readFrames(channel) == [Self.expected[0]], "the frame before the bad length was delivered, nothing after it")
        }
        _ = try? channel.finish()
    }
}
