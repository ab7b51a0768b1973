@testable import Ingest
import NIOCore
import NIOEmbedded
import TestSupport
import WAL
import Wire

/// The parts a listener's handlers run on, built as `IngestServer` builds them but without
/// sockets or event-loop threads: a one-shard WAL in a temporary directory, its writer thread,
/// and an ``IngestContext``. Handlers go on an `EmbeddedChannel` (time advanced by the test)
/// or, when a WAL completion must hop back to the loop from the writer thread, on a
/// `NIOAsyncTestingChannel`.
///
/// Use from one test only; ``finish()`` stops the writer and returns what reached the WAL.
final class HandlerHarness {
    let directory = TemporaryDirectory("hypha-handler")
    let wal: WriteAheadLog
    let writers: ShardWriters
    let context: IngestContext

    /// - Parameter durability: `interval` without a flusher makes nothing durable until the
    ///   test calls ``makeDurable()``.
    /// - Parameter observer: what learns of daemons' HELLOs, heartbeats and duplicates.
    init(limits: IngestLimits = IngestLimits(), durability: Durability = .none, observer: (any DaemonObserver)? = nil) throws {
        wal = try WriteAheadLog.open(dataDirectory: directory.path, options: testOptions(durability: durability), logger: quietLogger)
        writers = ShardWriters(wal: wal, limits: limits, threads: 1, logger: quietLogger)
        context = IngestContext(
            writers: writers.writers, gate: writers.gate, stats: IngestStats(shardCount: 1), limits: limits, tokens: [], nodeID: "test-node",
            observer: observer, control: nil, heartbeatMilliseconds: 5000)
    }

    deinit { directory.remove() }

    /// A batcher for handlers on `loop`, as each of the server's event loops has one.
    func batcher(on loop: any EventLoop) -> LoopBatcher { Self.batcher(context, pool: writers.pool, on: loop) }

    /// ``batcher(on:)`` from sendable parts, for a channel initializer that runs on the loop.
    static func batcher(_ context: IngestContext, pool: PayloadPool, on loop: any EventLoop) -> LoopBatcher {
        let sink = BatchingSink(
            writers: context.writers, gate: context.gate, stats: context.stats, limits: context.limits, pool: pool, logger: quietLogger)
        return LoopBatcher(sink, loop: loop, linger: .milliseconds(5))
    }

    /// Syncs the shard and reports it durable, as the WAL flusher does in `interval` mode.
    func makeDurable() throws {
        try wal.shard(0).sync()
        writers.durable(shard: 0, upTo: wal.shard(0).durableSequence)
    }

    /// Writes what is queued, stops the writer, closes the WAL; every record in it, in order.
    func finish() throws -> [Record] {
        writers.drain()
        try wal.close()
        return try readAll(directory.path).map(\.1)
    }
}

/// (type, body) of one whole native frame as a handler wrote it, checking its length field.
func nativeFrame(_ frame: ByteBuffer) -> (type: UInt8, body: ByteBuffer)? {
    var f = frame
    guard let length = f.readInteger(endianness: .big, as: UInt32.self), Int(length) == f.readableBytes,
        let type = f.readInteger(as: UInt8.self)
    else { return nil }
    return (type, f)
}

/// Runs `loop` along the wall clock until `done` holds (or `timeout` passes); whether it held.
///
/// NIO's IdleStateHandler measures idleness with `NIODeadline.now()`, the wall clock, while it
/// schedules its checks on the channel's loop: on an EmbeddedEventLoop, advancing the loop's
/// time alone never makes a connection idle. Advancing the loop to the wall clock's now, again
/// and again, runs its checks when they are due in both clocks.
func runAlongWallClock(_ loop: EmbeddedEventLoop, timeout: Duration = .seconds(10), until done: () -> Bool) -> Bool {
    eventuallyBlocking(timeout: timeout, every: .milliseconds(5)) {
        loop.advanceTime(to: .now())
        return done()
    }
}
