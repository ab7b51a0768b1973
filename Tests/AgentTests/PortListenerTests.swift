import Ingest
import NIOCore
import NIOPosix
import Platform
import TestSupport
import Testing
import WAL

@testable import Agent

/// The `listen` reader on real loopback sockets (127.0.0.1, ports the kernel picks): records
/// decoded by the node's decoders, the peer or host for records naming none, rejects, the
/// budget, TCP backpressure with a small queue, UDP drops, and a port that cannot be bound.
@Suite struct PortListenerTests {
    static func listener(_ proto: ListenProtocol, queueBytes: Int = 8 << 20, maxLineBytes: Int = 64 << 10) throws -> PortListener {
        var options = ListenOptions(wireProtocol: proto, port: 0, host: "agent-host")
        options.queueBytes = queueBytes
        options.maxLineBytes = maxLineBytes
        let listener = PortListener(options: options, logger: quietLogger)
        var sink = CollectingSink()
        #expect(try listener.poll(into: &sink, budget: ReadBudget(), now: .now()).records == 0, "the first poll binds")
        return listener
    }

    /// Polls `listener` into `sink` until it holds `count` records (or 10 s pass).
    static func collect(_ listener: PortListener, _ count: Int, into sink: inout CollectingSink, budget: ReadBudget = ReadBudget()) async throws -> Bool {
        // Generous: a loaded machine only makes it slower.
        try await eventually(timeout: .seconds(60), every: .milliseconds(2)) {
            _ = try listener.poll(into: &sink, budget: budget, now: .now())
            return sink.records.count >= count
        }
    }

    static func connect(_ listener: PortListener) async throws -> any Channel {
        let port = try #require(listener.localPort)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
    }

    static func send(_ text: String, on channel: any Channel) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    @Test func syslogOverTCPIsDecodedAsTheNodeDecodesIt() async throws {
        let listener = try Self.listener(.syslogTCP)
        defer { listener.stop() }
        let client = try await Self.connect(listener)
        let counted = "<13>1 2026-01-02T03:04:05Z - cron - - - counted frame"
        try await Self.send(
            "<34>1 2026-01-02T03:04:05.5Z web1 su 12 ID47 [meta k=\"v\"] hello\nno pri here\n\(counted.utf8.count) \(counted)<14>Jan  2 03:04:05 web2 sshd[99]: last, unterminated",
            on: client)
        try await client.close()
        var sink = CollectingSink()
        #expect(try await Self.collect(listener, 3, into: &sink))
        let logs = sink.logs
        try #require(logs.count == 3, "produced \(logs.map(\.message)), expected three records")
        #expect(logs[0].host == "web1" && logs[0].app == "su" && logs[0].message == "hello" && logs[0].severity == 2 && logs[0].facility == 4)
        #expect(Line(logs[0]).fields == ["procid": "12", "msgid": "ID47", "meta.k": "v"])
        #expect(logs[0].timestamp == 1_767_323_045_500_000_000)
        #expect(logs[1].host == "agent-host" && logs[1].message == "counted frame", "no host, a loopback peer: the agent's host")
        #expect(logs[2].host == "web2" && logs[2].app == "sshd" && logs[2].message == "last, unterminated", "the last line counts when the sender closes")
        let stats = listener.statistics
        #expect(stats.receivedRecords == 3 && stats.rejectedFrames == 1 && stats.queuedRecords == 0)
    }

    @Test func jsonLinesGiveLogsAndMetricsAndTheBudgetIsKept() async throws {
        let listener = try Self.listener(.jsonTCP, maxLineBytes: 1024)
        defer { listener.stop() }
        let client = try await Self.connect(listener)
        var text = ""
        for i in 0 ..< 5 { text += #"{"message":"line \#(i)","host":"h","level":"warn","user":"u\#(i)"}"# + "\n" }
        text += #"{"metric":"queue_depth","value":7.5,"labels":{"q":"a"}}"# + "\n"
        text += "{not json}\n" + "{\"message\":\"" + String(repeating: "x", count: 2000) + "\"}\n"
        try await Self.send(text, on: client)
        #expect(await eventually { listener.statistics.queuedRecords == 6 && listener.statistics.rejectedFrames == 2 })

        var sink = CollectingSink()
        let first = try listener.poll(into: &sink, budget: ReadBudget(records: 4), now: .now())
        #expect(first.records == 4 && first.isMoreWaiting && first.bytes == 4 * 6, "four records of six message bytes; more wait")
        #expect(first.checkpoint == ListenCheckpoint() && first.checkpoint.encoded.isEmpty)
        let second = try listener.poll(into: &sink, budget: ReadBudget(records: 4), now: .now())
        #expect(second.records == 2 && !second.isMoreWaiting)
        #expect(sink.logs.map { Line($0) } == (0 ..< 5).map { Line("line \($0)", ["user": "u\($0)"]) })
        #expect(sink.logs.allSatisfy { $0.host == "h" && $0.severity == 4 })
        let sample = try #require(sink.samples.first)
        #expect(sample.name == "queue_depth" && sample.value == 7.5 && sample.labels.count == 1 && sample.labels[0] == ("q", "a"))
        #expect(sink.sources == ["agent-host"], "a metric naming no host: the agent's host is its source")
        try await client.close()
    }

    @Test func aFullQueueStopsReadingTheConnectionUntilPollsDrainIt() async throws {
        let listener = try Self.listener(.syslogTCP, queueBytes: 64 << 10)
        defer { listener.stop() }
        let client = try await Self.connect(listener)
        let lines = 20_000
        var text = ""
        for i in 0 ..< lines { text += "<14>1 2026-01-02T03:04:05Z h app - - - message number \(i) padded to take some room\n" }
        let written = client.eventLoop.makePromise(of: Void.self)
        client.writeAndFlush(ByteBuffer(string: text), promise: written)

        #expect(await eventually { listener.statistics.pausedConnections == 1 }, "the connection is paused once the queue is full")
        let paused = listener.statistics
        #expect(paused.queuedBytes >= 64 << 10 && paused.queuedRecords < lines, "received \(paused.receivedRecords) of \(lines) records")

        var sink = CollectingSink()
        #expect(try await Self.collect(listener, lines, into: &sink, budget: ReadBudget(records: 500)))
        try await written.futureResult.get()
        #expect(sink.logs.enumerated().allSatisfy { $0.element.message == "message number \($0.offset) padded to take some room" }, "every line once, in order")
        let stats = listener.statistics
        #expect(stats.receivedRecords == lines && stats.pausedConnections == 0 && stats.queuedRecords == 0)
        #expect(stats.peakQueuedBytes <= (64 << 10) + 4 * (64 << 10), "the queue exceeds its bound by less than a read: peak \(stats.peakQueuedBytes)")
        try await client.close()
    }

    @Test func syslogOverUDPIsDecodedAndDroppedWhenTheQueueIsFull() async throws {
        let listener = try Self.listener(.syslogUDP, queueBytes: 64 << 10)
        defer { listener.stop() }
        let port = try #require(listener.localPort)
        let client = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        defer { client.close(promise: nil) }
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: port)
        func send(_ text: String) async throws {
            try await client.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(string: text))).get()
        }
        try await send("<30>1 2026-01-02T03:04:05Z - ntpd 7 - - clock synchronised")
        var sink = CollectingSink()
        #expect(try await Self.collect(listener, 1, into: &sink))
        #expect(sink.logs.first.map { Line($0) } == Line("clock synchronised", ["procid": "7"]))
        #expect(sink.logs.first?.host == "agent-host")

        // Fill the queue without polling: later datagrams are dropped and counted.
        let padding = String(repeating: "p", count: 1000)
        var sent = 0
        while listener.statistics.droppedDatagrams == 0, sent < 10_000 {
            try await send("<30>1 2026-01-02T03:04:05Z h ntpd - - - \(padding)")
            sent += 1
            if sent % 50 == 0 { _ = await eventually(timeout: .milliseconds(200)) { listener.statistics.queuedBytes >= 64 << 10 } }
        }
        #expect(listener.statistics.droppedDatagrams > 0, "sent \(sent) datagrams")
        #expect(listener.statistics.queuedBytes < (64 << 10) + 2048, "a full queue takes no more datagrams")
        let queued = listener.statistics.queuedRecords
        var drained = CollectingSink()
        #expect(try listener.poll(into: &drained, budget: ReadBudget(), now: .now()).records == queued)
    }

    @Test func aPortInUseIsABindError() async throws {
        let first = try Self.listener(.syslogTCP)
        defer { first.stop() }
        let port = try #require(first.localPort)
        let second = PortListener(options: ListenOptions(port: port, host: "h"), logger: quietLogger)
        var sink = CollectingSink()
        #expect {
            _ = try second.poll(into: &sink, budget: ReadBudget(), now: .now())
        } throws: { error in
            guard let error = error as? InputError else { return false }
            return error.code == .bindFailed && error.description.contains("127.0.0.1 port \(port)")
        }
    }

    @Test func stoppingClosesConnectionsAndAPollBindsAgain() async throws {
        let listener = try Self.listener(.jsonTCP)
        let client = try await Self.connect(listener)
        #expect(await eventually { listener.statistics.connections == 1 })
        listener.stop()
        try await client.closeFuture.get()
        #expect(listener.localPort == nil)
        var sink = CollectingSink()
        _ = try listener.poll(into: &sink, budget: ReadBudget(), now: .now())
        #expect(listener.localPort != nil)
        listener.stop()
    }

    @Test func optionsFromTaskParameters() throws {
        let d = try ListenOptions(parameters: ["port": "5514"], host: "h")
        #expect(d.wireProtocol == .syslogTCP && d.address == "127.0.0.1" && d.port == 5514 && d.maxLineBytes == 64 << 10 && d.queueBytes == 8 << 20)
        let o = try ListenOptions(
            parameters: ["port": "6000", "protocol": "json-tcp", "address": "::", "max_line_kib": "8", "queue_kib": "64"], host: "h")
        #expect(o.wireProtocol == .jsonTCP && o.address == "::" && o.maxLineBytes == 8 << 10 && o.queueBytes == 64 << 10)
        let bad: [([String: String], String, String)] = [
            ([:], "port", "needs parameter port"),
            (["port": "0"], "port", "from 1 to 65535"),
            (["port": "514", "protocol": "syslog"], "protocol", "syslog-tcp, syslog-udp, json-tcp"),
            (["port": "514", "address": "localhost"], "address", "not an IPv4 or IPv6"),
            (["port": "514", "max_line_kib": "2048"], "max_line_kib", "from 1 to 1024"),
            (["port": "514", "queue_kib": "1"], "queue_kib", "from 64 to 1048576"),
        ]
        for (parameters, subject, text) in bad {
            #expect {
                _ = try ListenOptions(parameters: parameters, host: "h")
            } throws: { error in
                guard let error = error as? InputError else { return false }
                return error.code == .invalidParameter && error.subject == subject && error.description.contains(text)
            }
        }
        #expect(try ListenCheckpoint(encoded: ["anything": "x"]) == ListenCheckpoint())
    }

    @Test func encodedRecordsReplayAsTheyWereEmitted() {
        var encoder = EncodingSink()
        encoder.peer = Array("peer".utf8)
        ByteView.with("web") { host in
            ByteView.with("app") { app in
                ByteView.with("message") { message in
                    encoder.beginLog(timestamp: -5, severity: 3, facility: 23, host: host, app: app, message: message)
                    ByteView.with("k") { k in ByteView.with("v") { v in encoder.field(key: k, value: v) } }
                    encoder.finishRecord()
                    ByteView.with("") { empty in
                        encoder.beginLog(timestamp: 9, severity: LogRecord.unknownLevel, facility: 1, host: empty, app: app, message: message)
                    }
                    encoder.finishRecord()
                    encoder.beginMetric(timestamp: 1, name: app, value: -0.25, source: host)
                    encoder.finishRecord()
                }
            }
        }
        var sink = CollectingSink()
        ByteView.with(encoder.bytes) { all in
            var offset = 0
            while offset < all.count {
                _ = EncodingSink.replay(all, at: offset, into: &sink)
                offset += EncodingSink.recordLength(all, at: offset)
            }
        }
        #expect(sink.records == [
            .log(LogRecord(timestamp: -5, severity: 3, facility: 23, host: "web", app: "app", message: "message", fields: [("k", "v")])),
            .log(LogRecord(timestamp: 9, severity: LogRecord.unknownLevel, facility: 1, host: "peer", app: "app", message: "message")),
            .metric(MetricSample(timestamp: 1, name: "app", value: -0.25)),
        ])
        #expect(sink.sources == ["web"])
    }
}
