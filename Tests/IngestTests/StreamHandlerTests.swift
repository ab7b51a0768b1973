@testable import Ingest
import NIOCore
import NIOEmbedded
import Testing
import TestSupport
import WAL

/// StreamHandler, the connection handler of syslog/TCP and the line protocols, on
/// EmbeddedChannels over a real WAL: TCP may cut a stream anywhere (inside a frame's octet
/// count, a UTF-8 sequence, a CRLF), and every cut must store the same records as the stream
/// read whole. Idle connections close after the idle timeout.
@Suite struct StreamHandlerTests {
    enum Framing: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case syslog, jsonLines

        var testDescription: String { rawValue }

        static func octet(_ message: String) -> String { "\(message.utf8.count) \(message)" }

        /// A stream mixing what the framing allows, ending in a complete frame (syslog) or in a
        /// last line without its newline (JSON lines: stored when the sender closes).
        var stream: [UInt8] {
            switch self {
            case .syslog:
                Array((Self.octet("<13>1 2026-11-21T10:00:00Z web1 sshd 4242 - - accepted publickey for ü-user")
                    + "<14>1 2026-11-21T10:00:01.5Z web2 cron - - - (root) CMD run-parts\n"
                    + Self.octet("<11>1 2026-11-21T10:00:02Z web1 app - - [meta k=\"v\"] multi\nline message")
                    + "<15>1 2026-11-21T10:00:03Z db1 postgres 77 - - checkpoint complete\r\n"
                    + Self.octet("<13>1 2026-11-21T10:00:04Z web3 nginx - - - GET /ünïcode 200")).utf8)
            case .jsonLines:
                Array((#"{"timestamp":"2026-11-21T10:00:00Z","host":"web1","app":"api","message":"started ü","request_id":"a1"}"# + "\n"
                    + #"{"metric":"queue_depth","value":150,"labels":{"queue":"mail"},"host":"web1","timestamp":1700000000}"# + "\n"
                    + #"{"time":"2026-11-21T11:00:00+01:00","service":"billing","severity":"ERROR","msg":"card declined"}"# + "\n"
                    + #"{"timestamp":"2026-11-21T10:00:02Z","host":"web2","message":"no newline at the end"}"#).utf8)
            }
        }

        /// The log messages of the stream, in order (metrics have none).
        var messages: [String] {
            switch self {
            case .syslog:
                ["accepted publickey for ü-user", "(root) CMD run-parts", "multi\nline message", "checkpoint complete", "GET /ünïcode 200"]
            case .jsonLines: ["started ü", "card declined", "no newline at the end"]
            }
        }

        var recordCount: Int { self == .syslog ? 5 : 4 }

        func handler(_ ingest: IngestContext, _ batcher: LoopBatcher) -> any ChannelHandler {
            switch self {
            case .syslog: StreamHandler<SyslogStream>(ingest: ingest, batcher: batcher, listener: .syslogTCP)
            case .jsonLines: StreamHandler<LineStream<JSONLinesDecoder>>(ingest: ingest, batcher: batcher, listener: .json)
            }
        }
    }

    @Test(arguments: Framing.allCases)
    func everySplitStoresTheSameRecordsAsTheWholeStream(_ framing: Framing) throws {
        let harness = try HandlerHarness()
        let loop = EmbeddedEventLoop()
        let batcher = harness.batcher(on: loop)
        /// One connection that delivers `reads`, then closes; its records are sealed at once.
        func connection(_ reads: [ArraySlice<UInt8>]) throws {
            let channel = EmbeddedChannel(handler: framing.handler(harness.context, batcher), loop: loop)
            for read in reads { try channel.writeInbound(ByteBuffer(bytes: read)) }
            _ = try channel.finish()
            batcher.withSink { $0.sealAll() }
        }
        let stream = framing.stream
        try connection([stream[...]])
        for cut in 1 ..< stream.count { try connection([stream[..<cut], stream[cut...]]) }
        try connection(stream.indices.map { stream[$0 ... $0] })
        try loop.syncShutdownGracefully()
        let records = try harness.finish()

        // The whole stream: the records it holds.
        let whole = Array(records.prefix(framing.recordCount))
        let messages = whole.compactMap { if case .log(let l) = $0 { l.message } else { nil } }
        #expect(messages == framing.messages, "the whole stream stored \(whole)")
        #expect(whole.count == framing.recordCount, "the whole stream stored \(whole.count) records, expected \(framing.recordCount)")
        // Then one run per cut, then one byte per read: each the same records.
        let runs = ["whole"] + (1 ..< stream.count).map { "cut at byte \($0)" } + ["one byte per read"]
        #expect(records.count == runs.count * whole.count, "\(records.count) records for \(runs.count) runs of \(whole.count)")
        var differing: [String] = []
        for (i, run) in runs.enumerated() where records.count >= (i + 1) * whole.count {
            let got = Array(records[i * whole.count ..< (i + 1) * whole.count])
            if got != whole { differing.append("\(run): \(got)") }
        }
        #expect(differing.isEmpty, "\(differing.count) of \(runs.count) runs stored other records than the whole stream \(whole), first: \(differing.first ?? "")")
    }

    @Test func aConnectionSilentForTheIdleTimeoutIsClosedAndReadsRestartTheTimeout() throws {
        let harness = try HandlerHarness()
        let loop = EmbeddedEventLoop()
        let timeout = TimeAmount.milliseconds(1000)
        let channel = EmbeddedChannel(handlers: [
            IdleStateHandler(readTimeout: timeout), Framing.jsonLines.handler(harness.context, harness.batcher(on: loop)),
        ], loop: loop)
        let connectedAt = NIODeadline.now()
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 7402), promise: nil)
        #expect(channel.isActive)

        // Open all through the first half of the timeout (a machine that stalled past the whole
        // timeout may rightly have closed it).
        #expect(holdsBlocking(for: .milliseconds(500), every: .milliseconds(5)) {
            loop.advanceTime(to: .now())
            return channel.isActive || NIODeadline.now() - connectedAt >= timeout
        }, "closed before the idle timeout")
        let readAt = NIODeadline.now()
        try channel.writeInbound(ByteBuffer(string: #"{"timestamp":1700000000,"message":"still here"}"# + "\n"))
        #expect(runAlongWallClock(loop) { !channel.isActive }, "an idle connection is closed")
        // The read restarted the timeout: without it the connection would close half a timeout
        // after the read.
        let quiet = NIODeadline.now() - readAt
        #expect(quiet >= timeout, "closed \(quiet) after the last read, before the \(timeout) idle timeout")
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean, "the handler answers nothing on a line protocol")
        try loop.syncShutdownGracefully()
        let stored = try harness.finish()
        #expect(stored.count == 1, "the line read before the connection went idle is stored: \(stored)")
    }
}
