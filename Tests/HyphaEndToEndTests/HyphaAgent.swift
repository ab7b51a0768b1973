import Foundation
import Glibc
import Platform
import TestSupport
import WAL

/// A real `hypha agent` child process for end-to-end tests: JSON logs on stderr, short
/// reconnect delays, a spool in a temporary directory unless given.
final class HyphaAgent {
    let spool: String
    let id: String
    let process: ChildProcess

    init(nativePorts: [Int], id: String = "agent-1", spool: String? = nil, arguments: [String] = []) throws {
        self.spool = spool ?? TemporaryDirectory("hypha-agent").path
        self.id = id
        process = try ChildProcess(
            hyphaBinary(),
            ["agent", "--id", id, "--spool", self.spool, "--log-format", "json", "--reconnect-min-ms", "50", "--reconnect-max-s", "1",
             "--connect-timeout-s", "2", "--linger-ms", "5"]
                + nativePorts.flatMap { ["--server", "127.0.0.1:\($0)"] } + arguments)
    }

    /// What the agent logged so far.
    var log: String { process.stderr }

    /// Waits until the agent logged a line containing `text`.
    func waitForLog(_ text: String, timeout: Duration = .seconds(20)) -> Bool {
        eventuallyBlocking(timeout: timeout, every: .milliseconds(20)) { process.stderr.contains(text) }
    }

    @discardableResult
    func stop(_ signal: Int32 = SIGTERM) -> ProcessOutput {
        do { return try process.stop(signal, timeout: .seconds(60)) } catch { return error.output ?? process.output }
    }

    func remove() { try? FileManager.default.removeItem(atPath: spool) }
}

/// Appends numbered lines (`<prefix> <n> <padding>`) to a file, as an application would.
final class LineWriter: @unchecked Sendable {
    let path: String
    let prefix: String
    private(set) var written = 0

    init(path: String, prefix: String = "line") {
        self.path = path
        self.prefix = prefix
    }

    private var noise: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// Appends `count` lines, about `bytes` long each, in writes of up to 64 KiB. The padding is
    /// pseudo-random letters, so lines compress about as log text does, not to nothing.
    func write(_ count: Int, bytes: Int = 120) {
        var chunk = ""
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789 ")
        for _ in 0 ..< count {
            written += 1
            let head = "\(prefix) \(written) "
            var padding = ""
            for _ in 0 ..< max(0, bytes - head.count) {
                noise ^= noise << 13
                noise ^= noise >> 7
                noise ^= noise << 17
                padding.append(letters[Int(noise % UInt64(letters.count))])
            }
            chunk += head + padding + "\n"
            if chunk.utf8.count > 64 << 10 {
                append(chunk)
                chunk = ""
            }
        }
        if !chunk.isEmpty { append(chunk) }
    }

    private func append(_ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        precondition(fd >= 0, "cannot open \(path)")
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            precondition(n > 0)
            done += n
        }
        close(fd)
    }
}

extension HyphaNode {
    /// How many times each line number of `prefix` is in the WAL (read beside the running node,
    /// or after it stopped), and the numbers in WAL order per shard.
    func lineCounts(prefix: String = "line") throws -> (counts: [Int: Int], order: [[Int]]) {
        let reader = try WALReader(dataDirectory: data)
        var counts: [Int: Int] = [:]
        var order: [[Int]] = []
        for shard in 0 ..< reader.shardCount {
            var numbers: [Int] = []
            try reader.forEachBatch(shard: shard) { batch in
                var cursor = try reader.records(of: batch)
                while let record = try cursor.next() {
                    guard case .log(let log) = record else { continue }
                    let parts = log.message.split(separator: " ", maxSplits: 2)
                    guard parts.count >= 2, parts[0] == prefix, let n = Int(parts[1]) else { continue }
                    counts[n, default: 0] += 1
                    numbers.append(n)
                }
                return true
            }
            order.append(numbers)
        }
        return (counts, order)
    }

    /// Waits until every line 1...`count` of `prefix` is in the WAL.
    func waitForLines(_ count: Int, prefix: String = "line", timeout: Duration = .seconds(60)) -> Bool {
        eventuallyBlocking(timeout: timeout, every: .milliseconds(200)) {
            guard let counts = try? lineCounts(prefix: prefix).counts else { return false }
            return (1 ... count).allSatisfy { counts[$0] != nil }
        }
    }
}
