public import Foundation

/// A `hypha serve` child process for benchmarks: started on a data directory with every
/// listener on a free loopback port, observed through /proc (CPU time, peak RSS), and stopped
/// with a signal. Its HTTP counters are read with the runners' own plain-socket probes (plain
/// sockets: Foundation's URL loading needs FoundationNetworking on Linux).
///
/// Not thread-safe: drive it from one task or thread.
public final class ServerProcess {
    /// The `hypha` binary this process runs (the running executable by default).
    public let binary: String
    public let dataDirectory: String
    public let process = Process()
    /// Bound port of each listener, by name (`native`, `syslog`, `syslog_udp`, `json`, `influx`,
    /// `graphite`, `http`), from the node's ready line.
    public private(set) var ports: [String: Int] = [:]
    /// Wall-clock seconds from launch until the node printed its ready line.
    public private(set) var secondsToReady: Double = 0
    private let output = Pipe()
    private let errors: FileHandle

    /// Launches `hypha serve` with `arguments` (after the data directory and free ports) and
    /// waits up to `timeout` seconds for it to be ready.
    public init(binary: String = ServerProcess.currentBinary, dataDirectory: String, arguments: [String], timeout: Double = 120) throws {
        self.binary = binary
        self.dataDirectory = dataDirectory
        errors = FileHandle(forWritingAtPath: "/dev/null")!
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", "--data", dataDirectory, "--bind", "127.0.0.1", "--native-port", "0", "--syslog-port", "0",
            "--json-port", "0", "--influx-port", "0", "--graphite-port", "0", "--http-port", "0", "--log-level", "warning",
        ] + arguments
        process.standardOutput = output
        process.standardError = errors
        let started = Date()
        try process.run()
        var text = ""
        while Date().timeIntervalSince(started) < timeout, process.isRunning {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.contains("\"event\":\"ready\"") }),
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let map = object["listeners"] as? [String: String]
            {
                for (name, address) in map { ports[name] = address.split(separator: ":").last.flatMap { Int($0) } }
                secondsToReady = Date().timeIntervalSince(started)
                return
            }
        }
        process.terminate()
        throw BenchError("hypha serve did not become ready within \(Int(timeout)) s: \(text)")
    }

    /// The path of the running executable (`/proc/self/exe`).
    public static var currentBinary: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    public var pid: Int32 { process.processIdentifier }

    /// User + system CPU seconds the server has used so far.
    public func cpuSeconds() -> Double { ProcessStats.cpuSeconds(pid: pid) }

    /// Peak resident memory so far, in bytes (VmHWM).
    public func peakRSS() -> Int { ProcessStats.memory(pid: pid).peak }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    public func stop(_ signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Reads /proc for a process's CPU time and memory.
public enum ProcessStats {
    /// User + system CPU seconds of `pid` (from /proc/PID/stat), 0 when unreadable.
    public static func cpuSeconds(pid: Int32) -> Double { cpuSeconds(statFile: "/proc/\(pid)/stat") }

    /// User + system CPU seconds of the threads of `pid` whose name is `name` (as in
    /// /proc/PID/task/TID/comm, e.g. `hypha-control`), 0 when none.
    public static func cpuSeconds(pid: Int32, thread name: String) -> Double {
        let tasks = "/proc/\(pid)/task"
        guard let ids = try? FileManager.default.contentsOfDirectory(atPath: tasks) else { return 0 }
        return ids.reduce(0) { total, id in
            let comm = (try? String(contentsOfFile: "\(tasks)/\(id)/comm", encoding: .utf8)) ?? ""
            return comm.trimmingCharacters(in: .whitespacesAndNewlines) == name ? total + cpuSeconds(statFile: "\(tasks)/\(id)/stat") : total
        }
    }

    /// User + system CPU seconds of every live process in process group `group` (each
    /// /proc/PID/stat read once), 0 when none.
    public static func cpuSeconds(processGroup group: Int32) -> Double {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.reduce(0) { total, entry in
            guard Int32(entry) != nil, let fields = statFields("/proc/\(entry)/stat"), fields.count > 2, Int32(fields[2]) == group else { return total }
            return total + cpuSeconds(statFields: fields)
        }
    }

    private static func cpuSeconds(statFile: String) -> Double { statFields(statFile).map(cpuSeconds(statFields:)) ?? 0 }

    /// The fields of a /proc stat file after the command name: state, ppid, pgrp, ….
    private static func statFields(_ path: String) -> [Substring]? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    private static func cpuSeconds(statFields fields: [Substring]) -> Double {
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Resident and peak resident memory of a process, in bytes.
    public struct Memory: Sendable, Equatable {
        /// VmRSS: resident now.
        public var resident: Int
        /// VmHWM: the high-water mark of `resident`.
        public var peak: Int

        public init(resident: Int, peak: Int) {
            self.resident = resident
            self.peak = peak
        }
    }

    /// VmRSS and VmHWM of `pid` from one read of /proc/PID/status, so `peak >= resident` holds
    /// (two separate reads race with the process freeing memory in between). Zeros when unreadable.
    public static func memory(pid: Int32) -> Memory {
        var memory = Memory(resident: 0, peak: 0)
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return memory }
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { continue }
            switch fields[0] {
            case "VmRSS:": memory.resident = kilobytes * 1024
            case "VmHWM:": memory.peak = kilobytes * 1024
            default: continue
            }
        }
        return memory
    }
}

/// A benchmark that cannot run or whose result is wrong, with the reason.
public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
