import Testing

@testable import Agent

/// Task parameters → reader options, and checkpoints → their map form and back.
@Suite struct OptionsAndCheckpointTests {
    @Test func tailOptionsFromParameters() throws {
        let options = try TailOptions(parameters: ["path": "/var/log/*.log", "from": "start", "multiline_start": "^[0-9]", "max_line_kib": "2"], host: "h")
        #expect(options.path == "/var/log/*.log" && options.from == .start && options.multilineStart == "^[0-9]" && options.maxLineBytes == 2048)
        #expect(try TailOptions(parameters: ["path": "/a"], host: "h").from == .end)
        #expect(throws: InputError.self) { try TailOptions(parameters: ["path": "a"], host: "h") }
        #expect(throws: InputError.self) { try TailOptions(parameters: ["path": "/a", "max_line_kib": "2048"], host: "h") }
    }

    @Test func execOptionsFromParameters() throws {
        #expect(try ExecOptions(parameters: ["command": "df -k  /"], host: "h").command == .arguments(["df", "-k", "/"]))
        #expect(try ExecOptions(parameters: ["command": #"["/bin/echo", "two words"]"#], host: "h").command == .arguments(["/bin/echo", "two words"]))
        let shell = try ExecOptions(parameters: ["command": "[ -f /x ] && echo yes", "shell": "true"], host: "h")
        #expect(shell.command == .shell("[ -f /x ] && echo yes") && shell.argv == ["/bin/sh", "-c", "[ -f /x ] && echo yes"] && shell.app == "[")
        #expect(try ExecOptions(parameters: ["command": "uptime"], host: "h").schedule == .once)
        #expect(try ExecOptions(parameters: ["command": "uptime", "interval_seconds": "60"], host: "h").schedule == .every(.seconds(60)))
        let kept = try ExecOptions(parameters: ["command": "/usr/bin/tool --watch", "mode": "keep_running"], host: "h")
        #expect(kept.schedule == .keepRunning && kept.app == "tool")
        #expect(try ExecOptions(parameters: ["command": "x", "timeout_seconds": "5"], host: "h").timeout == .seconds(5))
        for bad in [
            ["command": "x", "mode": "interval"], ["command": "x", "mode": "once", "interval_seconds": "5"],
            ["command": "x", "mode": "keep_running", "timeout_seconds": "5"], ["command": "[\"x\", 1]"], ["command": "x", "shell": "yes"],
            ["command": "x", "mode": "sometimes"], ["command": "  "],
        ] {
            #expect(throws: InputError.self, "\(bad)") { try ExecOptions(parameters: bad, host: "h") }
        }
    }

    @Test func journalAndHostMetricsOptionsFromParameters() throws {
        let journal = try JournalOptions(parameters: ["from": "start", "units": "nginx.service, ssh.service"], host: "h")
        #expect(journal.from == .start && journal.units == ["nginx.service", "ssh.service"])
        #expect(journal.arguments(after: nil) == ["--output=json", "--follow", "--all", "--quiet", "--no-pager", "--no-tail", "--unit=nginx.service", "--unit=ssh.service"])
        #expect(JournalOptions(host: "h").arguments(after: "s=1;i=2").suffix(2) == ["--after-cursor=s=1;i=2", "--no-tail"])
        #expect(JournalOptions(host: "h").arguments(after: nil).last == "--lines=0")
        let metrics = try HostMetricsOptions(parameters: ["collect": "network, cpu,cpu", "interval_seconds": "30"], host: "h")
        #expect(metrics.groups == [.cpu, .network] && metrics.interval == .seconds(30))
        #expect(throws: InputError.self) { try HostMetricsOptions(parameters: ["collect": "gpu"], host: "h") }
    }

    @Test func tailCheckpointsRoundTripAndRefuseWhatTheyCannotRead() throws {
        let checkpoint = TailCheckpoint(files: [
            .init(device: 2049, inode: 1_835_017, fingerprint: 0x9A3C_01FE, offset: 81920), .init(device: 2049, inode: 7, fingerprint: 0x1F, offset: 0),
        ])
        #expect(checkpoint.encoded == ["2049:1835017:9a3c01fe": "81920", "2049:7:0000001f": "0"])
        #expect(try TailCheckpoint(encoded: checkpoint.encoded) == checkpoint)
        for (key, value) in [("2049:7", "1"), ("2049:7:xyz", "1"), ("2049:7:0000001f", "-1"), ("a:7:0000001f", "1"), ("2049:7:1f", "1")] {
            #expect(throws: InputError.self, "\(key) → \(value)") { try TailCheckpoint(encoded: [key: value]) }
        }
    }

    @Test func otherCheckpointsRoundTrip() throws {
        #expect(try JournalCheckpoint(encoded: JournalCheckpoint(cursor: "s=a;i=1").encoded) == JournalCheckpoint(cursor: "s=a;i=1"))
        #expect(try JournalCheckpoint(encoded: [:]) == JournalCheckpoint())
        #expect(try ExecCheckpoint(encoded: ["last_run": "123"]) == ExecCheckpoint(lastRun: 123))
        #expect(ExecCheckpoint().encoded.isEmpty)
        #expect(try HostMetricsCheckpoint(encoded: HostMetricsCheckpoint(lastCollected: 9).encoded).lastCollected == 9)
        #expect(throws: InputError.self) { try ExecCheckpoint(encoded: ["last_run": "yesterday"]) }
        #expect(throws: InputError.self) { try JournalCheckpoint(encoded: ["cursor": ""]) }
    }
}
