import Control
import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The I/O edge: file, stdout and exec hooks, and the dispatcher that never blocks.
@Suite struct HookTests {
    typealias T = TestTime

    static func notification(_ rule: String = "r", hosts: [String] = ["a"], status: AlertState = .firing) -> AlertNotification {
        AlertNotification(rule: rule, severity: .warning, events: hosts.map { host in
            let key = AlertKey(rule: rule, labels: ["host": host])
            return AlertEvent(
                status: status, rule: rule, severity: .warning, key: key, labels: key.labels, annotations: [:], value: 1,
                since: T.at(0), at: T.at(1), node: "n")
        })
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func fileHookAppendsJSONLinesAndReopensAfterRename() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let path = dir.path + "/alerts.jsonl"
        let hook = try FileHook(path: path)
        try hook.deliver(Self.notification(hosts: ["a", "b"]))
        try hook.deliver(Self.notification(hosts: ["c"]))
        #expect(Self.lines(path).count == 3)
        #expect(Self.lines(path).allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil }, "every line is a JSON object")

        // logrotate: rename, then SIGHUP → reopen(); the next write creates a fresh file.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        hook.reopen()
        try hook.deliver(Self.notification(hosts: ["d"]))
        #expect(Self.lines(path + ".1").count == 3, "the rotated file keeps the old lines")
        #expect(Self.lines(path).count == 1)
        #expect(Self.lines(path).first?.contains("\"host\":\"d\"") == true)

        // Without reopen() writes keep going to the renamed file.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".2")
        try hook.deliver(Self.notification(hosts: ["e"]))
        #expect(Self.lines(path + ".2").count == 2)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func fileHookThatCannotOpenFailsAtSetup() {
        #expect(throws: HookError.self) { try FileHook(path: "/nonexistent-dir-\(UUID())/alerts.jsonl") }
    }

    @Test func stdoutHookWritesOneObjectPerLine() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let hook = StdoutHook(fileDescriptor: fds[1])
        try hook.deliver(Self.notification(hosts: ["a", "b"]))
        close(fds[1])
        let data = FileHandle(fileDescriptor: fds[0], closeOnDealloc: false).readDataToEndOfFile()
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasSuffix("\n"))
        #expect(text.split(separator: "\n").count == 2)
    }

    @Test func execHookGetsTheJSONOnStandardInput() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let out = dir.path + "/stdin.jsonl"
        let hook = ExecHook(options: ExecHookOptions(command: ["sh", "-c", "cat > '\(out)'"], timeout: 5 * T.s))
        try hook.deliver(Self.notification(hosts: ["a", "b"]))
        #expect(Self.lines(out).count == 2)
        #expect(Self.lines(out).first?.hasPrefix("{\"status\":\"firing\"") == true)

        let failing = ExecHook(options: ExecHookOptions(command: ["sh", "-c", "exit 3"]))
        #expect { try failing.deliver(Self.notification()) } throws: { ($0 as? HookError)?.code == .exitStatus }
        // Exiting without reading stdin is not SIGPIPE for us (the test process would die).
        let ignoring = ExecHook(options: ExecHookOptions(command: ["true"]))
        try ignoring.deliver(Self.notification(hosts: (0 ..< 2000).map { "host-\($0)" }))
        let missing = ExecHook(options: ExecHookOptions(command: ["/nonexistent/hook"]))
        #expect { try missing.deliver(Self.notification()) } throws: { ($0 as? HookError)?.code == .launch }
    }

    @Test func execHookTimeoutDoesNotBlockTheDispatcher() throws {
        // A 1 s hook timeout: a submit that waited for a slot would take that long, far above the
        // 500 ms bound below, which leaves room for a loaded machine.
        let options = ExecHookOptions(command: ["sleep", "5"], timeout: 1_000_000_000, maxConcurrent: 1, maxQueued: 2)
        let dispatcher = HookDispatcher(logger: quietLogger)
        defer { dispatcher.shutdown(timeout: .seconds(2)) }
        try dispatcher.configure([.exec(options)])
        let clock = ContinuousClock()
        var submitTime = clock.measure { dispatcher.submit([Self.notification()]) }
        let started = eventuallyBlocking(every: .milliseconds(1)) { dispatcher.stats.first?.running == 1 }
        submitTime += clock.measure {
            for _ in 0 ..< 4 { dispatcher.submit([Self.notification()]) }
        }
        #expect(started, "the first notification's hook runs: \(String(describing: dispatcher.stats.first))")
        #expect(submitTime < .milliseconds(500), "submit returns at once: \(submitTime)")
        // One runs, two wait, two are dropped at once.
        #expect(dispatcher.stats.first?.dropped == 2)
        // Three runs, each killed at 1 s.
        let idle = dispatcher.waitUntilIdle(timeout: .seconds(10))
        #expect(idle)
        let stats = try #require(dispatcher.stats.first)
        #expect(stats.failed == 3 && stats.timedOut == 3 && stats.delivered == 0, "\(stats)")
    }

    @Test func aHangingHookDoesNotHoldUpTheOthers() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let path = dir.path + "/alerts.jsonl"
        let recorder = RecordingHook()
        let dispatcher = HookDispatcher(logger: quietLogger, extraHooks: [recorder])
        defer { dispatcher.shutdown(timeout: .seconds(1)) }
        try dispatcher.configure([
            .exec(ExecHookOptions(command: ["sleep", "3"], timeout: 2 * T.s, maxConcurrent: 1, maxQueued: 1)),
            .file(path: path),
        ])
        for i in 0 ..< 10 { dispatcher.submit([Self.notification(hosts: ["h\(i)"])]) }
        _ = eventuallyBlocking(timeout: .seconds(2), every: .milliseconds(10)) { Self.lines(path).count >= 10 }
        #expect(Self.lines(path).count == 10, "the file hook delivered everything while exec hangs: \(Self.lines(path).count) of 10 lines")
        #expect(recorder.notifications.count == 10)
        let exec = try #require(dispatcher.stats.first { $0.hook.hasPrefix("exec:") })
        #expect(exec.dropped >= 8, "one running, at most one queued: \(exec)")
    }

    @Test func reconfigureKeepsUnchangedHooks() throws {
        let dir = TemporaryDirectory("hypha-control")
        defer { dir.remove() }
        let dispatcher = HookDispatcher(logger: quietLogger)
        defer { dispatcher.shutdown() }
        try dispatcher.configure([.file(path: dir.path + "/a.jsonl")])
        dispatcher.submit([Self.notification()])
        #expect(dispatcher.waitUntilIdle(timeout: .seconds(10)))
        try dispatcher.configure([.file(path: dir.path + "/a.jsonl"), .file(path: dir.path + "/b.jsonl")])
        #expect(dispatcher.stats.map(\.delivered) == [1, 0], "the unchanged hook keeps its counters")
        #expect { try dispatcher.configure([.file(path: "/nonexistent-\(UUID())/x")]) } throws: { ($0 as? HookError)?.index == 0 }
        #expect(dispatcher.stats.count == 2, "a failed configure changes nothing")
    }
}
