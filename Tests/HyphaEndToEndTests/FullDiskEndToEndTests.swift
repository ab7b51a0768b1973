import Foundation
import Testing
import TestSupport

/// A data directory on a small tmpfs that fills up: the node never drops what it accepted, tells
/// the truth about it, answers every native batch, and writes again by itself once space
/// returns (the tmpfs is remounted larger). Needs root to mount; skipped otherwise.
@Suite(.enabled(if: FullDisk.canMount, "mounting a tmpfs needs root"), .serialized)
struct FullDiskEndToEndTests {
    @Test func syslogSendersArePushedBackNothingIsLostAndWritingResumes() throws {
        let disk = try FullDisk(megabytes: 6)
        defer { disk.remove() }
        let node = try HyphaNode(data: disk.path + "/data", arguments: FullDisk.nodeArguments, shards: 1)
        defer { node.stop() }
        // Send until TCP pushes back: the node stops reading once its shard cannot write.
        let (sent, partial) = try SyslogFlood.send(port: node.port("syslog"), untilBlockedFor: 3)
        #expect(waitForMetric(node, "hypha_wal_shard_blocked{shard=\"0\"}", atLeast: 1), "the shard says it is blocked")
        let metrics = try node.http("/metrics").1
        let accepted = metric(metrics, "hypha_listener_records_total{listener=\"syslog_tcp\"}") ?? 0
        let durable = metric(metrics, "hypha_wal_durable_records_total") ?? 0
        #expect(accepted < Double(sent), "the node stopped reading before the sender stopped: \(accepted) of \(sent)")
        #expect(durable < accepted, "some accepted records are held, not written: \(durable) of \(accepted)")
        #expect(metric(metrics, "hypha_wal_lost_records_total") == 0, "nothing is lost")
        let health = try node.http("/health").1
        #expect(health.contains("degraded") && health.contains("No space left on device"), "health says why: \(health.prefix(400))")

        try disk.grow(megabytes: 64)
        #expect(waitForMetric(node, "hypha_wal_durable_records_total", atLeast: Double(sent)), "every line sent is written once space returns")
        #expect(waitForMetric(node, "hypha_wal_shard_blocked{shard=\"0\"}", atLeast: 0))
        let (status, log) = node.stop()
        #expect(status == 0 && log.contains("every accepted record is in the write-ahead log"), "an honest shutdown: \(log.suffix(300))")
        // A line cut short by the push-back is stored too when the sender closes (as syslog
        // servers do), when what went out of it still parses: it may add one record.
        let stored = try node.records().count
        let exact = stored == sent || (partial && stored == sent + 1)
        #expect(exact, "stored once each: \(stored) of \(sent) lines (+\(partial ? "at most 1" : "0") cut short)")
    }

    @Test func everyNativeBatchIsAnsweredAndAResendCompletesOnceSpaceReturns() throws {
        let disk = try FullDisk(megabytes: 6)
        defer { disk.remove() }
        let node = try HyphaNode(data: disk.path + "/data", arguments: FullDisk.nodeArguments, shards: 1)
        let send = [
            NativeEndToEndTests.client, "send", "--port", "\(node.port("native"))", "--daemon-id", "filler", "--producer-id", "5",
            "--first-seq", "1", "--batches", "100", "--records-per-batch", "1000", "--tag", "fill",
        ]
        let first = try runProcess("/usr/bin/python3", send)
        let answers = first.stdout.split(separator: "\n")
        #expect(first.status == 3, "the node answered ERROR when the disk was full (exit \(first.status)): \(first.stderr)")
        #expect(answers.last?.contains("\"code\": 8") == true, "ERROR 8 after the last stored batch: \(answers.suffix(2))")
        #expect(answers.dropLast().allSatisfy { $0.contains("\"type\": \"ACK\"") }, "every batch before it was acknowledged")

        try disk.grow(megabytes: 64)
        let second = try runProcess("/usr/bin/python3", send)
        #expect(second.status == 0, "the resend goes through once space returned: \(second.stderr)")
        #expect(second.stdout.split(separator: "\n").count == 100, "every batch answered")
        node.stop()
        let records = try node.records()
        #expect(records.count == 100_000, "each record once, got \(records.count)")
    }
}

/// A tmpfs of a given size mounted on a temporary directory.
struct FullDisk {
    let path: String

    /// 1 MiB uncompressed segments on one shard, so a few megabytes fill the disk.
    static let nodeArguments = ["--segment-mib", "1", "--codec", "none", "--retention-mib", "0"]

    static let canMount: Bool = {
        guard getuid() == 0, let probe = try? FullDisk(megabytes: 1) else { return false }
        probe.remove()
        return true
    }()

    init(megabytes: Int) throws {
        path = TemporaryDirectory("hypha-fulldisk").path
        let result = try runProcess("/bin/mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path])
        guard result.status == 0 else { throw HyphaNode.NodeError(message: "mount failed: \(result.stderr)") }
    }

    func grow(megabytes: Int) throws {
        let result = try runProcess("/bin/mount", ["-o", "remount,size=\(megabytes)m", path])
        guard result.status == 0 else { throw HyphaNode.NodeError(message: "remount failed: \(result.stderr)") }
    }

    func remove() {
        _ = try? runProcess("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Writes distinct RFC 5424 lines to a TCP syslog port until a write blocks for `seconds`.
enum SyslogFlood {
    /// - Returns: the whole lines sent, and whether part of one more went out.
    static func send(port: Int, untilBlockedFor seconds: Int) throws -> (lines: Int, partial: Bool) {
        let client = try LineClient(port: port)
        defer { client.close() }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(client.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var sent = 0
        while true {
            var chunk = ""
            for i in 0 ..< 1000 {
                chunk += "<13>1 2026-12-02T10:00:00Z web1 app - - - line \(sent + i) " + String(repeating: "abcdefgh", count: 12) + "\n"
            }
            let bytes = Array(chunk.utf8)
            var done = 0
            while done < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress! + done, $0.count - done, Int32(MSG_NOSIGNAL)) }
                if n <= 0 {
                    // Blocked: count the whole lines that went out, and any part of the next.
                    let whole = bytes[0 ..< done].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
                    return (sent + bytes[0 ..< whole].filter { $0 == UInt8(ascii: "\n") }.count, done > whole)
                }
                done += n
            }
            sent += 1000
        }
    }
}
