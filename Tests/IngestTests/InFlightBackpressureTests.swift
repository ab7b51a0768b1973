@testable import Ingest
import NIOCore
import NIOEmbedded
import Testing

/// The listeners stop reading while the WAL is behind by withholding `read()`, as NIO's
/// BackPressureHandler does, and read again once the in-flight gate drains.
@Suite struct InFlightBackpressureTests {
    /// Counts the `read()` calls that reach the head of the pipeline.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var reads = 0
        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    @Test func readsPassWhileTheGateHasRoom() throws {
        let gate = InFlightGate(shardCount: 1, maxTotalBytes: 1000, maxShardBytes: 1000)
        let counter = ReadCounter()
        let channel = EmbeddedChannel(handlers: [counter, InFlightBackpressure(gate: gate)])
        try channel.writeInbound(ByteBuffer(string: "line\n"))
        channel.read()
        channel.read()
        #expect(counter.reads == 2, "reads withheld although the gate has room: \(counter.reads) of 2 passed")
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "line\n"), "the data went on to the decoder")
        _ = try channel.finish()
    }

    @Test func aReadThatFindsTheGateFullWithholdsReadsUntilItDrains() throws {
        let gate = InFlightGate(shardCount: 1, maxTotalBytes: 1000, maxShardBytes: 1000)
        let counter = ReadCounter()
        let backpressure = InFlightBackpressure(gate: gate)
        let channel = EmbeddedChannel(handlers: [counter, backpressure])
        gate.reserve(bytes: 1000, shard: 0)  // the batches this read sealed filled the gate
        try channel.writeInbound(ByteBuffer(string: "line\n"))
        #expect(backpressure.isPaused)
        channel.read()
        channel.read()
        #expect(counter.reads == 0, "no read may reach the socket while the WAL is behind, got \(counter.reads)")

        gate.release(bytes: 200, shard: 0)  // 800 in flight: above three quarters, still paused
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 0, "resumed before the gate fell below three quarters")

        gate.release(bytes: 800, shard: 0)
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 1, "the withheld read is issued once, when the gate drains; got \(counter.reads)")
        #expect(!backpressure.isPaused)
        channel.read()
        #expect(counter.reads == 2, "later reads pass again")
        _ = try channel.finish()
    }

    @Test func aDrainAfterTheConnectionClosedIssuesNothing() throws {
        let gate = InFlightGate(shardCount: 1, maxTotalBytes: 100, maxShardBytes: 100)
        let counter = ReadCounter()
        let channel = EmbeddedChannel(handlers: [counter, InFlightBackpressure(gate: gate)])
        gate.reserve(bytes: 100, shard: 0)
        try channel.writeInbound(ByteBuffer(string: "x"))
        channel.read()
        _ = try channel.finish()
        gate.release(bytes: 100, shard: 0)
        channel.embeddedEventLoop.run()
        #expect(counter.reads == 0, "a closed connection must not be read from: \(counter.reads)")
    }
}
