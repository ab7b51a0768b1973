import Foundation
import Glibc
import Ingest
import Platform
import TestSupport
import Testing
import WAL

@testable import Agent

/// The exec reader with real commands: schedules, stderr tagging, exit codes, timeouts, process
/// groups and reaping. The runner's clock is moved by hand; real time passes only while a
/// command runs.
@Suite struct CommandRunnerTests {
    final class Harness {
        var clock = ManualClock()
        var sink = CollectingSink()
        let runner: CommandRunner
        var exits: [CommandExit] = []
        var last: ExecProgress?

        init(_ options: ExecOptions, checkpoint: ExecCheckpoint = ExecCheckpoint()) {
            runner = CommandRunner(options: options, checkpoint: checkpoint, logger: quietLogger)
        }

        @discardableResult
        func poll(_ budget: ReadBudget = ReadBudget()) throws -> ExecProgress {
            let progress = try runner.poll(into: &sink, budget: budget, now: clock.now)
            exits += progress.exits
            last = progress
            return progress
        }

        /// Polls, the clock standing still, until `condition` holds (at most 10 s of real time).
        func poll(until condition: () -> Bool) throws -> Bool {
            try eventuallyBlocking(timeout: .seconds(10), every: .milliseconds(5)) {
                try poll()
                return condition()
            }
        }

        var messages: [String] { sink.logs.map(\.message) }
    }

    static func shell(_ line: String, _ schedule: ExecOptions.Schedule = .once, _ configure: (inout ExecOptions) -> Void = { _ in }) -> ExecOptions {
        var options = ExecOptions(command: .shell(line), schedule: schedule, host: "host-1")
        configure(&options)
        return options
    }

    @Test func runsOnceTagsStderrAndReportsTheExitStatus() throws {
        let h = Harness(Self.shell("printf 'out 1\\nout 2\\n'; echo 'err 1' >&2; exit 3"))
        let started = h.clock.now.wall
        #expect(try h.poll { h.exits.count == 1 })
        let out = h.sink.logs.filter { $0.fields.isEmpty }
        let err = h.sink.logs.filter { !$0.fields.isEmpty }
        #expect(out.map(\.message) == ["out 1", "out 2"] && out.allSatisfy { $0.severity == 6 && $0.app == "printf" && $0.host == "host-1" })
        #expect(err.map(\.message) == ["err 1"] && err.allSatisfy { $0.severity == 4 && $0.fields.elementsEqual([("stream", "stderr")], by: ==) })
        #expect(h.exits.first?.status == .exited(3) && h.exits.first?.timedOut == false)
        #expect(h.last?.isFinished == true && h.last?.read.checkpoint == ExecCheckpoint(lastRun: started))
        try h.poll()
        #expect(h.runner.runningProcessID == nil && h.exits.count == 1, "once means once")
    }

    @Test func aOnceCommandWithARecordedRunDoesNotRunAgain() throws {
        let h = Harness(Self.shell("echo again"), checkpoint: ExecCheckpoint(lastRun: 1))
        let progress = try h.poll()
        #expect(progress.isFinished && h.runner.runningProcessID == nil && h.sink.records.isEmpty)
    }

    @Test func runsAtAnIntervalFromTheLastStart() throws {
        let h = Harness(Self.shell("echo tick", .every(.seconds(10))))
        let first = h.clock.now.wall
        #expect(try h.poll { h.exits.count == 1 })
        h.clock.advance(by: .seconds(9))
        try h.poll()
        #expect(h.runner.runningProcessID == nil && h.exits.count == 1, "not due yet")
        h.clock.advance(by: .seconds(1))
        #expect(try h.poll { h.exits.count == 2 })
        #expect(h.messages == ["tick", "tick"])
        #expect(h.last?.read.checkpoint.lastRun == first + 10_000_000_000 && h.last?.isFinished == false)
    }

    @Test func keepsACommandRunningWithABackOff() throws {
        let h = Harness(Self.shell("echo up", .keepRunning))
        #expect(try h.poll { h.exits.count == 1 })
        try h.poll()
        #expect(h.runner.runningProcessID == nil, "waits 1 s before starting again")
        h.clock.advance(by: .seconds(1))
        #expect(try h.poll { h.exits.count == 2 })
        h.clock.advance(by: .seconds(1))
        try h.poll()
        #expect(h.runner.runningProcessID == nil && h.exits.count == 2, "the wait doubles: 2 s")
        h.clock.advance(by: .seconds(1))
        #expect(try h.poll { h.exits.count == 3 })
        #expect(h.messages == ["up", "up", "up"])
    }

    @Test func aTimeoutSendsSIGTERM() throws {
        var options = ExecOptions(command: .arguments(["sleep", "30"]), host: "h")
        options.timeout = .seconds(2)
        let h = Harness(options)
        try h.poll()
        let pid = try #require(h.runner.runningProcessID)
        h.clock.advance(by: .seconds(2))
        #expect(try h.poll { h.exits.count == 1 })
        #expect(h.exits.first?.status == .signalled(SIGTERM) && h.exits.first?.timedOut == true)
        #expect(!processExists(pid), "reaped")
    }

    @Test func aCommandThatIgnoresSIGTERMGetsSIGKILLAfterTheGrace() throws {
        var options = ExecOptions(command: .arguments(["/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30"]), host: "h")
        options.timeout = .seconds(2)
        options.killGrace = .seconds(3)
        let h = Harness(options)
        #expect(try h.poll { h.messages == ["ready"] })
        h.clock.advance(by: .seconds(2))
        #expect(try holdsBlocking(for: .milliseconds(300)) { try h.poll().exits.isEmpty }, "SIGTERM is ignored")
        h.clock.advance(by: .seconds(3))
        #expect(try h.poll { h.exits.count == 1 })
        #expect(h.exits.first?.status == .signalled(SIGKILL) && h.exits.first?.timedOut == true)
    }

    @Test func leavesNoZombieAndKillsWhatTheCommandLeftBehind() throws {
        let h = Harness(Self.shell("sleep 30 & echo $!"))
        #expect(try h.poll { h.messages.count == 1 })
        let shell = h.runner.runningProcessID
        let orphan = try #require(Int32(h.messages[0]))
        #expect(h.exits.isEmpty, "the background sleep holds the output open")
        h.clock.advance(by: .seconds(1))
        #expect(try h.poll { h.exits.count == 1 }, "the drain grace ends the run by killing the process group")
        #expect(h.exits.first?.status == .exited(0))
        if let shell { #expect(!processExists(shell), "the command was reaped") }
        #expect(eventuallyBlocking { processState(orphan) == nil || processState(orphan) == "Z" }, "the sleep it left was killed")
    }

    @Test func stopEndsTheRunAndReapsIt() throws {
        let h = Harness(ExecOptions(command: .arguments(["sleep", "30"]), host: "h"))
        try h.poll()
        let pid = try #require(h.runner.runningProcessID)
        h.runner.stop()
        #expect(h.runner.runningProcessID == nil && !processExists(pid))
        #expect(h.last?.read.checkpoint == ExecCheckpoint(), "a stopped run does not count")
    }

    @Test func aMissingProgramIsReportedWithTheSearchPath() throws {
        var options = ExecOptions(command: .arguments(["no-such-program-hypha"]), host: "h")
        options.environment = ["PATH": "/nowhere:/also-nowhere"]
        let h = Harness(options)
        #expect {
            try h.poll()
        } throws: { error in
            (error as? InputError)?.code == .commandNotFound && "\(error)".contains("no-such-program-hypha was not found in the search path /nowhere:/also-nowhere")
        }
    }

    @Test func runsWithTheGivenEnvironmentAndDirectory() throws {
        let directory = TemporaryDirectory("hypha-exec")
        defer { directory.remove() }
        let h = Harness(Self.shell("pwd -P; echo \"$GREETING\"") {
            $0.environment = ["GREETING": "hello"]
            $0.workingDirectory = directory.path
        })
        #expect(try h.poll { h.exits.count == 1 })
        #expect(h.messages == [URL(fileURLWithPath: directory.path).resolvingSymlinksInPath().path, "hello"])
    }

    @Test func aMissingWorkingDirectoryIsReported() throws {
        let h = Harness(Self.shell("true") { $0.workingDirectory = "/no/such/directory" })
        #expect {
            try h.poll()
        } throws: { error in
            (error as? InputError)?.code == .commandFailed && "\(error)".contains("in /no/such/directory") && "\(error)".contains("No such file or directory")
        }
    }

    @Test func aBoundedPollLeavesTheRestInThePipe() throws {
        let h = Harness(Self.shell("seq 1 500"))
        var polls = 0
        var largest = 0
        let finished = try eventuallyBlocking(timeout: .seconds(10), every: .milliseconds(1)) {
            let progress = try h.poll(ReadBudget(records: 50))
            polls += 1
            largest = max(largest, progress.read.records)
            return h.exits.count == 1
        }
        #expect(finished)
        #expect(largest <= 50, "the largest poll emitted \(largest) records")
        #expect(h.messages == (1 ... 500).map(String.init))
        #expect(polls >= 10)
    }

    @Test func longLinesAreSplitIntoMarkedPieces() throws {
        let h = Harness(Self.shell("printf '%0100d\\nend'") { $0.maxLineBytes = 40 })
        #expect(try h.poll { h.exits.count == 1 })
        #expect(h.sink.logs.map(\.message.count) == [40, 40, 20, 3])
        #expect(h.sink.logs.map { $0.fields.first?.1 } == ["true", "true", nil, nil], "the last line has no LF and still counts")
    }
}
