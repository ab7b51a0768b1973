import ArgumentParser
import Bench
import Foundation

struct BenchCompare: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Send the same syslog load to Hypha and to another listener, in alternating rounds.",
        discussion: """
            Each round runs Hypha first, then the peer, with the same load from a separate \
            `hypha bench load --protocol syslog` process (pre-generated RFC 5424 lines of --size \
            bytes over --connections connections), and prints lines/s of both and their ratio; at \
            the end the ratio of the medians.

            Hypha: a fresh `hypha serve` per round on a temporary data directory (--shards, \
            --durability, --codec; only the syslog and HTTP listeners). It is done when its \
            hypha_wal_durable_records_total counter reaches the number of lines sent.

            The peer (the contract for COMMAND): `/bin/sh -c COMMAND` is started per round, in \
            its own process group, from the current directory, with two environment variables: \
            PEER_PORT, the loopback TCP port to listen on (newline-framed syslog), and PEER_DIR, \
            an empty directory. It must stay in the foreground and write one line per received \
            message to $PEER_DIR/messages.log. It is ready when PEER_PORT accepts a TCP \
            connection, and it is done when messages.log holds as many lines as were sent (or, if \
            lines are lost, when the file has not grown for --settle seconds after the sender \
            finished; the round is then marked incomplete and only the lines written count). \
            After the round the whole process group gets SIGTERM (SIGKILL 10 s later) and \
            PEER_DIR is deleted. Example: scripts/peers/rsyslog.sh.

            Timing, for both: from the first byte sent (the start_unix_ns the load generator \
            reports, or its exit minus its sending seconds) until done; receivers are polled \
            every 5 ms once the sender has finished. Lines/s = lines received ÷ that time. CPU \
            per line: the server process, or every process of the peer's group.
            """
    )

    @Option(help: "Shell command that starts the peer listener (see the contract above).")
    var against: String

    @Option(name: .customLong("protocol"), help: "Load protocol (only syslog).")
    var protocolName: String = "syslog"

    @Option(help: "Rounds; each runs Hypha, then the peer.")
    var rounds: Int = 3

    @Option(help: "Lines sent per target per round.")
    var records: Int = 2_000_000

    @Option(help: "Sending connections.")
    var connections: Int = 2

    @Option(help: "Bytes per line, newline included.")
    var size: Int = 200

    @Option(help: "The peer's port (default: a free port per round).")
    var port: Int?

    @Option(help: "Hypha's WAL shards.")
    var shards: Int = 4

    @Option(help: "Hypha's durability: none, interval or batch.")
    var durability: String = "interval"

    @Option(help: "Hypha's batch compression: lz4, zstd or none.")
    var codec: String = "lz4"

    @Option(help: "Seconds a receiver's count may stand still before a round ends incomplete.")
    var settle: Double = 3

    @Option(help: "Seconds the peer may take to accept connections (the first start may install it).")
    var peerTimeout: Double = 600

    @Flag(help: "Print one JSON object (snake_case keys) instead of text.")
    var json = false

    func run() async throws {
        var options = CompareOptions(against: against)
        options.protocolName = protocolName
        options.rounds = rounds
        options.records = records
        options.connections = connections
        options.size = size
        options.port = port
        options.shards = shards
        options.durability = durability
        options.codec = codec
        options.settleSeconds = settle
        options.peerStartTimeout = peerTimeout
        let line = ProgressLine()
        let json = self.json
        if !json {
            print("compare: \(records) syslog lines of \(size) B over \(connections) connection(s), \(rounds) round(s); hypha (\(codec), \(durability)) against: \(against)")
        }
        let report: CompareReport
        do {
            report = try CompareRunner(options, progress: line.update).run { round in
                line.finish()
                guard !json else { return }
                for side in [round.hypha, round.peer] {
                    print(Self.describe(round: round.round, side))
                }
                print(String(format: "round %d ratio hypha/peer: %.2f×", round.round, round.ratio))
            }
        } catch {
            line.finish()
            throw error
        }
        line.finish()
        if json {
            try printJSONLine(report)
        } else {
            print(String(format: "overall (medians): hypha %.0f lines/s, peer %.0f lines/s, ratio %.2f×",
                report.hyphaMedianLinesPerSecond, report.peerMedianLinesPerSecond, report.ratio))
        }
    }

    static func describe(round: Int, _ s: CompareSide) -> String {
        let label = s.target.padding(toLength: 5, withPad: " ", startingAt: 0)
        var text = "round \(round) \(label) " + String(format: "%d lines in %.3f s = %.0f lines/s (sent in %.3f s; %.2f µs CPU per line)",
            s.received, s.seconds, s.linesPerSecond, s.sendSeconds, s.cpuSeconds * 1e6 / Double(max(s.received, 1)))
        if !s.complete { text += " INCOMPLETE: \(s.sent - s.received) of \(s.sent) lines missing" }
        return text
    }
}
