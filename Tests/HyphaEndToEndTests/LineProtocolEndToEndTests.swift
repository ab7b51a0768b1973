import Foundation
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// JSON lines, Influx (TCP and `POST /write`) and Graphite through raw loopback sockets and curl.
@Suite struct LineProtocolEndToEndTests {
    @Test func jsonLinesLogsAndMetricsWithBadLinesInBetween() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        let client = try LineClient(port: node.port("json"))
        client.send(#"{"message":"user logged in","timestamp":"2026-11-21T10:00:00.5Z","host":"web1","level":"warn","app":"auth","user":"ann","tries":3}"# + "\n")
        client.send("{not json}\n")
        client.send([UInt8](#"{"message":"bad "#.utf8) + [0xFF, 0xFE] + [UInt8](#""}"#.utf8) + [0x0A])
        client.send(#"{"metric":"queue_depth","value":"12"}"# + "\n")
        client.send(#"{"metric":"queue_depth","value":1e400}"# + "\n")
        client.send(String(repeating: "a", count: 70_000) + "\n")
        client.send(#"{"metric":"queue_depth","value":12.5,"labels":{"queue":"mail"},"timestamp":1795000000,"host":"mq1"}"# + "\n")
        client.send(#"{"msg":"no timestamp","host":"web2"}"#)  // last line without newline, then close
        client.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 3, seconds: 10))
        #expect(waitForMetric(node, #"hypha_listener_rejects_total{listener="json"}"#, atLeast: 5), "malformed lines counted")
        #expect(metric(try node.http("/metrics").1, #"hypha_listener_records_total{listener="json"}"#) == 3)
        node.stop()
        let records = try node.records()
        #expect(records.count == 3, "\(records)")
        let login = records.compactMap { if case .log(let l) = $0, l.message == "user logged in" { l } else { nil } }.first
        #expect(login?.host == "web1" && login?.app == "auth" && login?.severity == 4)
        #expect(login?.timestamp == 1_795_255_200_500_000_000, "RFC 3339 timestamp: \(String(describing: login?.timestamp))")
        #expect(login.map { $0.fields.contains { $0 == ("user", "ann") } && $0.fields.contains { $0 == ("tries", "3") } } == true)
        let sample = records.compactMap { if case .metric(let m) = $0 { m } else { nil } }.first
        #expect(sample?.name == "queue_depth" && sample?.value == 12.5 && sample?.timestamp == 1_795_000_000_000_000_000)
        #expect(sample.map { $0.labels.contains { $0 == ("queue", "mail") } } == true)
        #expect(records.contains { if case .log(let l) = $0 { l.message == "no timestamp" && l.host == "web2" } else { false } })
    }

    @Test func influxOverTCPAndHTTPWithPartialWrites() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        let client = try LineClient(port: node.port("influx"))
        client.send("cpu,host=web1,core=0 usage_idle=97.5,usage_user=2i,up=true 1700000000000000000\n")
        client.send("cpu,host=web1 usage_idle=notanumber 1700000000000000000\n")
        client.send("# a comment\n\n")
        client.send("disk,host=web1,path=/var free=1.5e9\n")
        client.close()

        let ok = try node.http("/write?precision=s", method: "POST", body: "mem,host=db1 used=42i,note=\"text\" 1700000000\nmem,host=db2 used=43i 1700000001")
        #expect(ok.0 == 204, "good body: \(ok)")
        let partial = try node.http("/write?precision=ms", method: "POST", body: "net,host=db1 rx=1i 1700000000000\nnet,host=db1 rx=??? 1700000000000\nnet,host=db1 tx=2i 1700000000000\n")
        #expect(partial.0 == 400, "partial write: \(partial)")
        #expect(partial.1.contains("line 2") && partial.1.contains("partial write") && partial.1.contains("\"accepted\":2"), "\(partial.1)")
        let precision = try node.http("/write?precision=fortnights", method: "POST", body: "x v=1")
        #expect(precision.0 == 400 && precision.1.contains("precision"))
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 8))
        node.stop()
        let samples = try node.records().compactMap { if case .metric(let m) = $0 { m } else { nil } }
        let names = samples.map(\.name).sorted()
        #expect(names == ["cpu_up", "cpu_usage_idle", "cpu_usage_user", "disk_free", "mem_used", "mem_used", "net_rx", "net_tx"], "\(names)")
        let idle = samples.first { $0.name == "cpu_usage_idle" }
        #expect(idle?.value == 97.5 && idle?.timestamp == 1_700_000_000_000_000_000)
        #expect(idle.map { $0.labels.contains { $0 == ("core", "0") } } == true)
        #expect(samples.first { $0.name == "cpu_up" }?.value == 1)
        let mem = samples.filter { $0.name == "mem_used" }.sorted { $0.timestamp < $1.timestamp }
        #expect(mem.map(\.timestamp) == [1_700_000_000_000_000_000, 1_700_000_001_000_000_000], "precision=s applied")
        #expect(samples.first { $0.name == "net_rx" }?.timestamp == 1_700_000_000_000_000_000, "precision=ms applied")
    }

    @Test func graphitePlaintextWithTagsAndBadLines() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        let client = try LineClient(port: node.port("graphite"))
        client.send("collectd.web1.load.shortterm 0.05 1700000000\n")
        client.send("disk.used;host=web2;mount=/var 1234.5 1700000010\n")
        client.send("bad.value abc 1700000000\n")
        client.send("only.path\n")
        client.send([0x00, 0x01, 0x02, 0xFF, 0x0A])
        client.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 2, seconds: 10))
        #expect(waitForMetric(node, #"hypha_listener_rejects_total{listener="graphite"}"#, atLeast: 3))
        node.stop()
        let samples = try node.records().compactMap { if case .metric(let m) = $0 { m } else { nil } }
        #expect(samples.count == 2)
        #expect(samples.contains { $0.name == "collectd.web1.load.shortterm" && $0.value == 0.05 && $0.timestamp == 1_700_000_000_000_000_000 })
        #expect(samples.contains { $0.name == "disk.used" && $0.labels.contains { $0 == ("mount", "/var") } && $0.labels.contains { $0 == ("host", "web2") } })
    }

    @Test func aSlowSenderThatNeverFinishesALineIsClosedAtTheIdleTimeout() throws {
        let node = try HyphaNode(arguments: ["--idle-timeout-s", "1"])
        defer { node.remove() }
        let slow = try LineClient(port: node.port("json"))
        slow.send(#"{"message":"never fini"#)
        #expect(slow.waitForClose(seconds: 8), "the idle connection was closed")
        // Others are unaffected.
        let other = try LineClient(port: node.port("json"))
        other.send(#"{"message":"still working"}"# + "\n")
        other.close()
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: 1, seconds: 10))
        node.stop()
        let messages = try node.records().compactMap { if case .log(let l) = $0 { l.message } else { nil } }
        #expect(messages == ["still working"])
    }

    @Test func sigtermKeepsEverythingAlreadySent() throws {
        let node = try HyphaNode(arguments: ["--linger-ms", "1000", "--batch-kib", "4096"])
        defer { node.remove() }
        let count = 20_000
        var payload = ""
        for i in 0 ..< count { payload += #"{"message":"line \#(i)","host":"h\#(i % 7)"}"# + "\n" }
        let client = try LineClient(port: node.port("json"))
        client.send(payload)
        client.close()
        let (status, log) = node.stop(SIGTERM)
        #expect(status == 0, "\(log)")
        let messages = Set(try node.records().compactMap { if case .log(let l) = $0 { l.message } else { nil } })
        #expect(messages.count == count, "all \(count) lines survived SIGTERM (got \(messages.count))")
        #expect(try runHypha(["wal", "verify", "--data", node.data]).status == 0)
    }
}
