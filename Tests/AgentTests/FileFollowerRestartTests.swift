import Ingest
import TestSupport
import Testing
import WAL

@testable import Agent

/// Property: a follower created from any checkpoint an uninterrupted run produced emits exactly
/// the records that run emitted after that checkpoint — nothing lost, nothing twice — through
/// partial writes, long lines split into pieces, bounded polls, multiline records and a rename
/// rotation. Scenarios come from seeded random choices, so a failure names its seed.
@Suite struct FileFollowerRestartTests {
    /// One record as the property compares it (the `path` of a rotated file depends on the name
    /// it is found under, so it is left out).
    struct Piece: Equatable, CustomStringConvertible {
        var message: String
        var isPartial: Bool

        init(_ record: LogRecord) {
            message = record.message
            isPartial = record.fields.contains { $0 == ("partial", "true") }
        }

        var description: String { isPartial ? "\(message.debugDescription)…" : message.debugDescription }
    }

    /// SplitMix64: the same seed gives the same scenario on every machine.
    struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    static func configure(multiline: Bool) -> (inout TailOptions) -> Void {
        { options in
            options.maxLineBytes = 32
            if multiline { options.multilineStart = "^S" }
        }
    }

    /// Text to write: numbered lines of random length (some longer than the limit); in multiline
    /// mode, records of a start line and up to two continuation lines, short enough never to be
    /// split.
    static func text(_ random: inout Random, serial: inout Int, multiline: Bool) -> String {
        serial += 1
        if multiline {
            return "S\(serial)\n" + (0 ..< random.next(3)).map { "  at \(serial).\($0)\n" }.joined()
        }
        return "L\(serial) " + String(repeating: "ab", count: random.next(40)) + "\n"
    }

    @Test(arguments: [(1, false), (2, false), (3, false), (4, false), (5, true), (6, true), (7, true), (8, true)])
    func resumingFromEveryCheckpointGivesExactlyTheRest(seed: UInt64, multiline: Bool) throws {
        var random = Random(state: seed)
        let t = try TailHarness("app.log", Self.configure(multiline: multiline))
        let live = t.path("app.log")
        var serial = 0
        var pendingHalf = ""  // the second half of a line written in two parts
        let rotateAt = 8 + random.next(10)
        for step in 0 ..< 30 {
            if step == rotateAt {
                TestFile.append(live, pendingHalf)
                pendingHalf = ""
                TestFile.rename(live, t.path("app.log.1"))
                TestFile.append(t.path("app.log.1"), Self.text(&random, serial: &serial, multiline: multiline))
                TestFile.write(live, "")
            }
            var text = pendingHalf + Self.text(&random, serial: &serial, multiline: multiline)
            pendingHalf = ""
            if random.next(3) == 0 {
                let cut = text.index(text.startIndex, offsetBy: random.next(text.count))
                pendingHalf = String(text[cut...])
                text = String(text[..<cut])
            }
            TestFile.append(live, text)
            for _ in 0 ..< random.next(3) { try t.poll(ReadBudget(records: 1 + random.next(4))) }
        }
        TestFile.append(live, pendingHalf)
        let history = t.history
        let full = try Self.finish(t.follower, clock: &t.clock, into: &t.sink)
        #expect(full.count > 30, "the scenario emitted records")

        for (index, (checkpoint, emitted)) in history.enumerated() {
            let resumed = try FileFollower(options: t.follower.options, checkpoint: checkpoint, logger: quietLogger)
            var sink = CollectingSink()
            var clock = t.clock
            let rest = try Self.finish(resumed, clock: &clock, into: &sink)
            #expect(Array(full[..<emitted]) + rest == full, "seed \(seed), poll \(index) (after \(emitted) records): \(rest.prefix(3)) … resumed")
        }
    }

    /// Polls until everything is read, letting the rotate wait and the multiline timeout pass.
    static func finish(_ follower: FileFollower, clock: inout ManualClock, into sink: inout CollectingSink) throws -> [Piece] {
        for _ in 0 ..< 4 {
            while try follower.poll(into: &sink, budget: ReadBudget(records: 5), now: clock.now).isMoreWaiting {}
            clock.advance(by: .seconds(6))
        }
        return sink.logs.map(Piece.init)
    }
}
