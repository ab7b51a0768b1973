import Foundation
import Testing
import TestSupport

/// The child-process runner every test target uses: it must never block on a child's full
/// pipe, must write input while it reads output, and must bound how long a child may run.
@Suite struct ChildProcessTests {
    static let mebibyte = 1 << 20

    @Test func aChildThatFillsStderrBeforeWritingStdoutDoesNotBlock() throws {
        // 1 MiB is far more than a pipe or socket buffer: a runner that read stdout to its end
        // before stderr would wait on a child that waits on it.
        let result = try runProcess("/bin/sh", ["-c", "head -c \(Self.mebibyte) /dev/zero >&2; head -c \(Self.mebibyte) /dev/zero"], timeout: .seconds(30))
        #expect(result.status == 0 && result.signal == nil, "\(result.command): status \(result.status)")
        #expect(result.stderr.utf8.count == Self.mebibyte && result.stdout.utf8.count == Self.mebibyte,
                "stderr \(result.stderr.utf8.count) bytes, stdout \(result.stdout.utf8.count) bytes, expected \(Self.mebibyte) each")
    }

    @Test func inputLargerThanAPipeIsWrittenWhileTheOutputIsRead() throws {
        let input = (0 ..< Self.mebibyte).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        let result = try runProcess("/bin/cat", [], input: input, timeout: .seconds(30))
        #expect(result.status == 0)
        #expect(Array(result.stdout.utf8) == input, "cat gave back \(result.stdout.utf8.count) of \(input.count) bytes")
    }

    @Test func aChildThatIgnoresItsInputDoesNotKillTheTestProcess() throws {
        // Writing to a closed input would raise SIGPIPE in a runner that wrote to a pipe.
        let result = try runProcess("/bin/true", [], input: [UInt8](repeating: 0x61, count: Self.mebibyte), timeout: .seconds(30))
        #expect(result.status == 0)
    }

    @Test func exitStatusesAndSignalsAreReported() throws {
        let exited = try runProcess("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(exited.status == 3 && exited.signal == nil && exited.stdout == "out\n" && exited.stderr == "err\n", "\(exited)")
        let child = try ChildProcess("/bin/sleep", ["30"])
        #expect(child.isRunning)
        let stopped = try child.stop(SIGTERM)
        #expect(stopped.signal == SIGTERM && stopped.status == SIGTERM && !child.isRunning, "\(stopped)")
    }

    @Test func aChildPastItsTimeoutIsKilledAndWhatItPrintedIsReported() throws {
        do {
            let result = try runProcess("/bin/sh", ["-c", "echo before the hang; exec sleep 30"], timeout: .milliseconds(300))
            Issue.record("a child sleeping 30 s finished within 300 ms: \(result)")
        } catch {
            #expect(error.output?.signal == SIGKILL, "killed: \(error)")
            #expect(error.output?.stdout == "before the hang\n", "the error shows what it printed: \(error)")
            #expect(error.message.contains("did not finish"), "\(error.message)")
        }
    }

    @Test func aProgramThatCannotStartIsAnError() {
        #expect(throws: ProcessError.self) { try runProcess("/nonexistent/program", []) }
    }

    @Test func aGrandchildHoldingTheOutputOpenDoesNotHoldUpTheResult() throws {
        // The shell exits at once; the sleep it left behind keeps the output open for 5 s.
        let result = try runProcess("/bin/sh", ["-c", "sleep 5 & echo parent done"], timeout: .seconds(4))
        #expect(result.status == 0 && result.stdout == "parent done\n", "\(result)")
    }

    @Test func aLongRunningChildsOutputIsReadWhileItRuns() throws {
        // As a node does: logs a lot on stderr, then announces readiness on stdout, then runs on.
        let child = try ChildProcess("/bin/sh", ["-c", "head -c \(Self.mebibyte) /dev/zero >&2; echo ready; exec sleep 30"])
        let ready = child.waitForStdout(timeout: .seconds(30)) { $0.contains("ready\n") }
        #expect(ready && child.isRunning, "the child got past its stderr and said so: stdout \(child.stdout.debugDescription)")
        #expect(child.stderr.utf8.count == Self.mebibyte, "its stderr so far: \(child.stderr.utf8.count) bytes")
        let stopped = try child.stop(SIGKILL)
        #expect(stopped.signal == SIGKILL)
    }
}

@Suite struct HoldsTests {
    final class Counter: @unchecked Sendable {
        var calls = 0
        func next() -> Int {
            calls += 1
            return calls
        }
    }

    @Test func aCheckOverAWindowFailsAtTheFirstBrokenCheck() async {
        let counter = Counter()
        // A window no run reaches: the async check may wait long for a thread when blocking
        // tests hold the cooperative pool, and the third check must still come within it.
        let held = await holds(for: .seconds(600), every: .milliseconds(1)) { counter.next() < 3 }
        #expect(!held && counter.calls == 3, "returned \(held) after \(counter.calls) checks, expected false after 3")
    }

    @Test func anInvariantIsCheckedUntilDoneAndOnceMoreThen() {
        let counter = Counter()
        let held = holdsBlocking({ counter.calls < 100 }, until: { counter.next() >= 5 }, every: .milliseconds(1))
        #expect(held && counter.calls == 5, "returned \(held) after \(counter.calls) checks of done")
        let broken = holdsBlocking({ false }, until: { true })
        #expect(!broken, "a broken invariant fails even when done holds at once")
        let timedOut = holdsBlocking({ true }, until: { false }, timeout: .milliseconds(20), every: .milliseconds(5))
        #expect(!timedOut, "done never came")
    }
}
