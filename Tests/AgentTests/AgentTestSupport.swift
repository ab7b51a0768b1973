import Foundation
import Glibc
import Ingest
import Platform
import WAL

@testable import Agent

/// A clock moved by hand: readers get their time from it, so tests never sleep to make time pass.
struct ManualClock {
    var now = ReadTime(wall: 1_800_000_000_000_000_000, monotonic: 5_000_000_000_000)

    mutating func advance(by duration: Duration) { now = now.advanced(by: duration) }
}

/// What a test looks at in a log record: the message, and the fields as a dictionary (the last
/// value wins; tests of repeated fields look at `LogRecord.fields`).
struct Line: Equatable, CustomStringConvertible {
    var message: String
    var fields: [String: String]

    init(_ message: String, _ fields: [String: String] = [:]) {
        self.message = message
        self.fields = fields
    }

    init(_ record: LogRecord) {
        message = record.message
        fields = Dictionary(record.fields, uniquingKeysWith: { _, b in b })
    }

    var description: String { fields.isEmpty ? message.debugDescription : "\(message.debugDescription) \(fields)" }
}

extension CollectingSink {
    /// The log records collected.
    var logs: [LogRecord] {
        records.compactMap {
            if case .log(let l) = $0 { return l }
            return nil
        }
    }

    /// The metric samples collected.
    var samples: [MetricSample] {
        records.compactMap {
            if case .metric(let m) = $0 { return m }
            return nil
        }
    }
}

/// Writes test files.
enum TestFile {
    static func write(_ path: String, _ text: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    }

    static func append(_ path: String, _ text: String) {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            write(path, text)
            return
        }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        handle.closeFile()
    }

    /// Cuts `path` to `size` bytes in place (same inode).
    static func truncate(_ path: String, to size: Int) {
        precondition(Glibc.truncate(path, off_t(size)) == 0, "truncate \(path) failed: errno \(errno)")
    }

    static func rename(_ from: String, _ to: String) {
        precondition(Glibc.rename(from, to) == 0, "rename \(from) failed: errno \(errno)")
    }

    static func remove(_ path: String) {
        precondition(unlink(path) == 0, "unlink \(path) failed: errno \(errno)")
    }

    static func identity(_ path: String) -> (device: UInt64, inode: UInt64) {
        var st = stat()
        precondition(stat(path, &st) == 0, "stat \(path) failed")
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }
}

/// The fixtures directory (Tests/AgentTests/Fixtures).
let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

/// Whether process `pid` still exists in any form (a zombie counts: it has not been reaped).
func processExists(_ pid: Int32) -> Bool {
    FileManager.default.fileExists(atPath: "/proc/\(pid)")
}

/// The state letter of process `pid` in /proc (`R`, `S`, `Z`, …), `nil` when it is gone.
func processState(_ pid: Int32) -> Character? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    return stat[stat.index(close, offsetBy: 2)]
}
