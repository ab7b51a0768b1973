import Foundation
import Platform
import WAL
import Wire
import Testing
import TestSupport

/// The native protocol through the independent Python client written from docs/protocol.md.
@Suite struct NativeEndToEndTests {
    static let client = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Support/native_client.py").path

    /// Runs the client; returns its exit status and one JSON object per output line.
    func native(_ arguments: [String]) throws -> (Int32, [[String: Any]]) {
        let result = try runProcess("/usr/bin/python3", [Self.client] + arguments)
        let objects = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return (result.status, objects)
    }

    /// The client's own checks: every encoder and decoder offline, the client against its
    /// in-process model server, and the hex examples of docs/protocol.md byte for byte. Run here
    /// so that CI (`swift test`) fails when the document and the second client disagree.
    @Test func referenceClientSelftestPasses() throws {
        let result = try runProcess("/usr/bin/python3", [Self.client, "selftest"], timeout: .seconds(60))
        #expect(result.status == 0 && result.stdout.contains(#""result": "pass""#), "selftest: \(result)")
    }

    @Test func acksNacksAndExactlyOnceAcrossASIGKILL() throws {
        let data = TemporaryDirectory("hypha-native").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        var node = try HyphaNode(data: data, arguments: ["--token", "s3cret", "--token", "other"])
        let send = ["send", "--port", "\(node.port("native"))", "--daemon-id", "edge-7", "--token", "s3cret", "--producer-id", "42",
                    "--first-seq", "1", "--batches", "6", "--records-per-batch", "50", "--tag", "once"]
        let (status, acks) = try native(send)
        #expect(status == 0, "\(acks)")
        #expect(acks.count == 6 && acks.allSatisfy { $0["type"] as? String == "ACK" && $0["status"] as? Int == 0 && $0["accepted"] as? Int == 50 })
        #expect(acks.map { $0["producer_sequence"] as? Int } == [1, 2, 3, 4, 5, 6], "acks in order")
        let firsts = acks.compactMap { $0["first_sequence"] as? Int }
        #expect(zip(firsts, firsts.dropFirst()).allSatisfy { $1 == $0 + 50 }, "WAL sequences follow: \(firsts)")

        // One bad record per batch: NACK naming it, the other records stored.
        let (nackStatus, nacks) = try native([
            "send", "--port", "\(node.port("native"))", "--daemon-id", "edge-7", "--token", "s3cret", "--producer-id", "43",
            "--first-seq", "1", "--batches", "2", "--records-per-batch", "5", "--tag", "partly", "--bad-record-at", "3",
        ])
        #expect(nackStatus == 0 && nacks.count == 2, "\(nacks)")
        for nack in nacks {
            #expect(nack["type"] as? String == "NACK" && nack["accepted"] as? Int == 4)
            let rejected = nack["rejected"] as? [[String: Any]]
            #expect(rejected?.count == 1 && rejected?[0]["index"] as? Int == 3 && rejected?[0]["reason_code"] as? Int == 2, "\(nack)")
        }

        // The node dies without warning; everything acknowledged is still there, and a resend
        // of the same batches is acknowledged as duplicates and not written twice.
        node.stop(SIGKILL)
        node = try HyphaNode(data: data, arguments: ["--token", "s3cret"])
        var resend = send
        resend[resend.firstIndex(of: "--port")! + 1] = "\(node.port("native"))"
        let (again, dups) = try native(resend)
        #expect(again == 0 && dups.count == 6, "\(dups)")
        #expect(dups.allSatisfy { $0["type"] as? String == "ACK" && $0["status"] as? Int == 1 }, "duplicates after restart: \(dups)")
        // A new sequence is written.
        var next = resend
        next[next.firstIndex(of: "--first-seq")! + 1] = "7"
        next[next.firstIndex(of: "--batches")! + 1] = "1"
        let (_, fresh) = try native(next)
        #expect(fresh.first?["status"] as? Int == 0)
        node.stop()
        let messages = try node.records().compactMap { if case .log(let l) = $0 { l.message } else { nil } }
        let once = messages.filter { $0.hasPrefix("once ") }
        #expect(once.count == 350 && Set(once).count == 350, "each record exactly once: \(once.count) stored, \(Set(once).count) distinct")
        #expect(messages.filter { $0.hasPrefix("partly ") }.count == 8)
    }

    /// The reference client speaks version 2 with lz4 (its own LZ4 encoder) to the real node:
    /// HELLO_OK accepts lz4, the batches go as BATCH_COMPRESSED, are stored, are duplicates when
    /// resent by the same incarnation, and are a new key for a new incarnation.
    @Test func lz4CompressedBatchesFromTheReferenceClient() throws {
        let node = try HyphaNode()
        defer { node.remove() }
        func send(incarnation: String, tag: String = "lz4") throws -> (Int32, [[String: Any]]) {
            try native([
                "send", "--port", "\(node.port("native"))", "--daemon-id", "edge-9", "--compression", "lz4", "--incarnation", incarnation,
                "--producer-id", "5", "--first-seq", "1", "--batches", "4", "--records-per-batch", "100", "--tag", tag, "--print-hello",
            ])
        }
        let (status, lines) = try send(incarnation: "00000000000000a1")
        #expect(status == 0 && lines.count == 5, "\(lines)")
        let hello = lines.first ?? [:]
        let extensions = (hello["extensions"] as? [[String]]).map { Dictionary(uniqueKeysWithValues: $0.map { ($0[0], $0[1]) }) }
        #expect(hello["version"] as? Int == 2 && extensions?["compression"] == "lz4" && extensions?["max_batch_bytes"] == "\(16 << 20)",
                "HELLO_OK version 2 accepting lz4: \(hello)")
        let acks = lines.dropFirst()
        #expect(acks.allSatisfy { $0["type"] as? String == "ACK" && $0["status"] as? Int == 0 && $0["accepted"] as? Int == 100 }, "\(acks)")

        let (_, again) = try send(incarnation: "00000000000000a1")
        #expect(again.dropFirst().allSatisfy { $0["type"] as? String == "ACK" && $0["status"] as? Int == 1 }, "same incarnation: duplicates \(again)")
        let (_, other) = try send(incarnation: "00000000000000b2")
        #expect(other.dropFirst().allSatisfy { $0["type"] as? String == "ACK" && $0["status"] as? Int == 0 }, "new incarnation: a new key \(other)")

        #expect(waitForMetric(node, #"hypha_native_batches_total{encoding="lz4"}"#, atLeast: 12), "12 lz4 batches counted")
        #expect(waitForMetric(node, "hypha_native_duplicate_batches_total", atLeast: 4), "4 duplicates counted")
        let (_, metrics) = try node.http("/metrics")
        #expect(metric(metrics, #"hypha_native_batches_total{encoding="plain"}"#) == 0, "no plain batch: \(metrics)")
        #expect((metric(metrics, #"hypha_native_batch_wire_bytes_total{encoding="lz4"}"#) ?? 0) > 0)
        node.stop()
        let messages = try node.records().compactMap { if case .log(let l) = $0 { l.message } else { nil } }.filter { $0.hasPrefix("lz4 ") }
        #expect(messages.count == 800 && Set(messages).count == 400, "each incarnation stored the 400 records once: \(messages.count)")
    }

    @Test func tokensAreCheckedAtHello() throws {
        let node = try HyphaNode(arguments: ["--token", "s3cret"])
        defer { node.remove() }
        let port = "\(node.port("native"))"
        let (wrongStatus, wrong) = try native(["hello-only", "--port", port, "--daemon-id", "d", "--token", "guess"])
        #expect(wrongStatus == 3 && wrong.first?["type"] as? String == "ERROR" && wrong.first?["code"] as? Int == 5, "\(wrong)")
        let (missingStatus, missing) = try native(["hello-only", "--port", port, "--daemon-id", "d"])
        #expect(missingStatus == 3 && missing.first?["code"] as? Int == 5, "\(missing)")
        let (okStatus, ok) = try native(["hello-only", "--port", port, "--daemon-id", "d", "--token", "s3cret"])
        #expect(okStatus == 0 && ok.first?["type"] as? String == "HELLO_OK", "\(ok)")
        let (_, beat) = try native(["heartbeat", "--port", port, "--daemon-id", "d", "--token", "s3cret", "--backlog-bytes", "10"])
        #expect(beat.first?["type"] as? String == "HEARTBEAT_ACK", "\(beat)")
        node.stop()
    }

    @Test func corruptFramesGetAnErrorAndAClose() throws {
        let node = try HyphaNode(arguments: ["--max-frame-mib", "1"])
        defer { node.remove() }
        let port = "\(node.port("native"))"
        // A batch before hello.
        let (s1, early) = try native(["raw", "--port", port, "--hex", "0000000d03" + String(repeating: "00", count: 12)])
        #expect(s1 == 3 && early.first?["code"] as? Int == 2, "\(early)")
        // An unknown frame type after hello.
        let (s2, unknown) = try native(["raw", "--port", port, "--after-hello", "--hex", "0000000177"])
        #expect(s2 == 3 && unknown.first?["code"] as? Int == 2, "\(unknown)")
        // A frame longer than the limit.
        let (s3, large) = try native(["raw", "--port", port, "--after-hello", "--hex", "7fffffff03"])
        #expect(s3 == 3 && large.first?["code"] as? Int == 3, "\(large)")
        // A batch whose record length runs past the frame.
        let (s4, truncated) = try native(["raw", "--port", port, "--after-hello", "--hex", "0000001903" + "000000000000000100000000000000010000000100000050"])
        #expect(s4 == 3 && truncated.first?["code"] as? Int == 4, "\(truncated)")
        // Garbage instead of a hello.
        let (s5, garbage) = try native(["raw", "--port", port, "--hex", "0000000401ffffff"])
        #expect(s5 == 3 && [1, 4].contains(garbage.first?["code"] as? Int ?? 0), "\(garbage)")
        node.stop()
        #expect(try node.records().isEmpty, "nothing malformed reached the WAL")
    }
}
