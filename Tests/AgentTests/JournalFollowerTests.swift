import Foundation
import Ingest
import Platform
import TestSupport
import Testing
import WAL

@testable import Agent

/// The journald runner with a fake `journalctl`: a shell script found on the search path given
/// to the follower, which writes its arguments to a file and follows a feed of recorded entries
/// (`tail -f`), honouring `--after-cursor`, `--lines=0` and `--no-tail` as journalctl does, and
/// failing on an unknown cursor with journalctl's message.
@Suite struct JournalFollowerTests {
    static let script = """
        #!/bin/sh
        dir=$(dirname "$0")
        feed="$dir/feed.jsonl"
        cursor=""
        start=head
        for a in "$@"; do
          case "$a" in
            --after-cursor=*) cursor="${a#--after-cursor=}" ;;
            --lines=0) start=end ;;
          esac
        done
        # The end is where the feed ends now, before the arguments say the follower started:
        # an entry fed after that is read even if tail starts late.
        ends=$(wc -l < "$feed")
        printf '%s\\n' "$@" > "$dir/arguments"
        if [ -n "$cursor" ]; then
          n=$(grep -n -F "\\"__CURSOR\\":\\"$cursor\\"" "$feed" | head -1 | cut -d: -f1)
          if [ -z "$n" ]; then echo "Failed to seek to cursor: Invalid argument" >&2; exit 1; fi
          exec tail -n +$((n + 1)) -f "$feed"
        elif [ "$start" = end ]; then
          exec tail -n +$((ends + 1)) -f "$feed"
        else
          exec tail -n +1 -f "$feed"
        fi
        """

    /// A directory with the fake journalctl, a feed of the first `entries` recorded entries, and
    /// a stand-in journal socket location.
    final class FakeJournal {
        let directory = TemporaryDirectory("hypha-journal")
        let entries: [String]

        init(feeding count: Int) throws {
            entries = try JournalEntryMapperTests.lines("journalctl-json-all.jsonl")
            // Written by a child (install): a write descriptor of this process, inherited by a
            // concurrent test's fork for a moment, would make spawning the script fail with
            // ETXTBSY.
            let source = directory.file("journalctl.sh")
            TestFile.write(source, JournalFollowerTests.script)
            _ = try runProcess("/usr/bin/install", ["-m", "755", source, directory.file("journalctl")])
            TestFile.write(directory.file("feed.jsonl"), entries.prefix(count).map { $0 + "\n" }.joined())
            try FileSystem.makeDirectory(directory.file("journal"))
            TestFile.write(directory.file("journal/system.journal"), "")
        }

        deinit { directory.remove() }

        func options(from: ReadStart = .start) -> JournalOptions {
            var options = JournalOptions(host: "fallback", from: from)
            options.searchPath = directory.path
            options.journalLocations = [directory.file("journal")]
            options.stopGrace = .seconds(5)
            return options
        }

        func feed(_ range: Range<Int>) {
            TestFile.append(directory.file("feed.jsonl"), entries[range].map { $0 + "\n" }.joined())
        }

        var arguments: [String] {
            ((try? String(contentsOfFile: directory.file("arguments"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }

        func cursor(_ index: Int) -> String {
            let line = entries[index]
            let start = line.firstRange(of: #""__CURSOR":""#)!.upperBound
            return String(line[start...].prefix { $0 != "\"" })
        }
    }

    /// Polls until `count` records were collected (or 10 s passed).
    static func collect(_ follower: JournalFollower, _ count: Int, into sink: inout CollectingSink, budget: ReadBudget = ReadBudget()) throws
        -> ReadProgress<JournalCheckpoint>?
    {
        var last: ReadProgress<JournalCheckpoint>?
        var polled: (any Error)?
        _ = eventuallyBlocking(timeout: .seconds(10)) {
            do { last = try follower.poll(into: &sink, budget: budget, now: ManualClock().now) } catch {
                polled = error
                return true
            }
            return sink.logs.count >= count
        }
        if let polled { throw polled }
        return last
    }

    @Test func followsFromTheStartAndPicksUpNewEntries() throws {
        let journal = try FakeJournal(feeding: 3)
        let follower = JournalFollower(options: journal.options(from: .start), logger: quietLogger)
        defer { follower.stop() }
        var sink = CollectingSink()
        _ = try Self.collect(follower, 3, into: &sink)
        #expect(sink.logs.map(\.app) == ["kernel", "systemd-journald", "systemd-journald"])
        #expect(journal.arguments == ["--output=json", "--follow", "--all", "--quiet", "--no-pager", "--no-tail"])
        journal.feed(3 ..< 6)
        let progress = try Self.collect(follower, 6, into: &sink)
        #expect(sink.logs.map(\.app) == ["kernel", "systemd-journald", "systemd-journald", "nginx", "quota-check", "backup"])
        #expect(progress?.checkpoint == JournalCheckpoint(cursor: journal.cursor(5)))
    }

    @Test func fromEndReadsOnlyNewEntries() throws {
        let journal = try FakeJournal(feeding: 4)
        let follower = JournalFollower(options: journal.options(from: .end), logger: quietLogger)
        defer { follower.stop() }
        var sink = CollectingSink()
        _ = try Self.collect(follower, 0, into: &sink)
        #expect(eventuallyBlocking { journal.arguments.last == "--lines=0" })
        journal.feed(4 ..< 5)
        _ = try Self.collect(follower, 1, into: &sink)
        #expect(sink.logs.map(\.app) == ["quota-check"])
    }

    @Test func resumesAfterTheCheckpointsCursorWithABoundedBudget() throws {
        let journal = try FakeJournal(feeding: 13)
        let first = JournalFollower(options: journal.options(), logger: quietLogger)
        var sink = CollectingSink()
        let progress = try #require(try Self.collect(first, 4, into: &sink, budget: ReadBudget(records: 4)))
        first.stop()
        let taken = sink.logs.count
        #expect(progress.records <= 4 && taken < 13, "the budget holds the rest back")
        #expect(progress.checkpoint.cursor == journal.cursor(taken - 1))

        let resumed = JournalFollower(options: journal.options(), checkpoint: try JournalCheckpoint(encoded: progress.checkpoint.encoded), logger: quietLogger)
        defer { resumed.stop() }
        var rest = CollectingSink()
        _ = try Self.collect(resumed, 13 - taken, into: &rest)
        #expect(journal.arguments.contains("--after-cursor=\(journal.cursor(taken - 1))"))
        #expect((sink.logs + rest.logs).map(\.message) == Self.map(journal.entries).map(\.message), "every entry once, in order")
    }

    @Test func aFailingJournalctlIsReportedWithWhatItSaid() throws {
        let journal = try FakeJournal(feeding: 2)
        let follower = JournalFollower(options: journal.options(), checkpoint: JournalCheckpoint(cursor: "s=bogus"), logger: quietLogger)
        var sink = CollectingSink()
        #expect {
            _ = try Self.collect(follower, 1, into: &sink)
        } throws: { error in
            let text = "\(error)"
            return (error as? InputError)?.code == .commandFailed && text.contains("journalctl stopped (exit status 1): Failed to seek to cursor: Invalid argument")
                && text.contains("--after-cursor=s=bogus")
        }
        #expect(follower.processID == nil)
    }

    @Test func aMissingJournalctlIsReportedWithTheSearchPath() throws {
        let journal = try FakeJournal(feeding: 0)
        var options = journal.options()
        options.journalctl = "journalctl-nowhere"
        let follower = JournalFollower(options: options, logger: quietLogger)
        var sink = CollectingSink()
        #expect {
            _ = try follower.poll(into: &sink, budget: ReadBudget(), now: ManualClock().now)
        } throws: { error in
            (error as? InputError)?.code == .commandNotFound && "\(error)".contains("journalctl-nowhere was not found in the search path \(journal.directory.path)")
        }
    }

    @Test func aHostWithoutAJournalIsReportedAtOnce() throws {
        let journal = try FakeJournal(feeding: 0)
        var options = journal.options()
        options.journalLocations = [journal.directory.file("no-socket"), journal.directory.file("empty")]
        try FileSystem.makeDirectory(journal.directory.file("empty"))
        let follower = JournalFollower(options: options, logger: quietLogger)
        var sink = CollectingSink()
        #expect {
            _ = try follower.poll(into: &sink, budget: ReadBudget(), now: ManualClock().now)
        } throws: { error in
            (error as? InputError)?.code == .journalUnavailable && "\(error)".contains("no systemd journal on this host")
        }
    }

    @Test func stopEndsJournalctlAndReapsIt() throws {
        let journal = try FakeJournal(feeding: 1)
        let follower = JournalFollower(options: journal.options(), logger: quietLogger)
        var sink = CollectingSink()
        _ = try Self.collect(follower, 1, into: &sink)
        let pid = try #require(follower.processID)
        #expect(processExists(pid))
        follower.stop()
        #expect(!processExists(pid), "stopped and reaped: no zombie in /proc")
    }

    /// What the mapper makes of `lines`.
    static func map(_ lines: [String]) -> [LogRecord] {
        JournalEntryMapperTests.map(lines).0.logs
    }
}
