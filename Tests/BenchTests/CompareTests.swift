import Foundation
import Testing
import TestSupport

@Suite struct CompareEndToEndTests {
    /// A trivial peer: a Python TCP sink appending every received line to $PEER_DIR/messages.log.
    static let sink = """
        import os, socket, threading
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", int(os.environ["PEER_PORT"]))); s.listen(64)
        out = open(os.path.join(os.environ["PEER_DIR"], "messages.log"), "ab", buffering=0)
        lock = threading.Lock()
        def serve(c):
            rest = b""
            while True:
                data = c.recv(1 << 16)
                if not data: break
                rest += data; cut = rest.rfind(b"\\n")
                if cut >= 0:
                    with lock: out.write(rest[:cut + 1])
                    rest = rest[cut + 1:]
        while True:
            c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
        """

    /// Writes the sink to a temporary directory; returns the `--against` command and the
    /// directory (for the caller to remove).
    static func sinkCommand() throws -> (command: String, directory: String) {
        let directory = TemporaryDirectory("hypha-compare-sink").path
        try sink.write(toFile: directory + "/sink.py", atomically: true, encoding: .utf8)
        return ("exec python3 \(directory)/sink.py", directory)
    }

    @Test func printsTheRatioOfEveryRoundAgainstATrivialPeer() throws {
        let sink = try Self.sinkCommand()
        defer { try? FileManager.default.removeItem(atPath: sink.directory) }
        let run = try runHypha([
            "bench", "compare", "--against", sink.command, "--rounds", "2", "--records", "4000", "--size", "150",
            "--connections", "2", "--settle", "2",
        ])
        #expect(run.status == 0, "exit \(run.status); stderr: \(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        for round in 1 ... 2 {
            #expect(lines.contains { $0.hasPrefix("round \(round) hypha 4000 lines in ") }, "hypha line of round \(round) in:\n\(run.stdout)")
            #expect(lines.contains { $0.hasPrefix("round \(round) peer  4000 lines in ") }, "peer line of round \(round) in:\n\(run.stdout)")
            #expect(lines.contains { $0.hasPrefix("round \(round) ratio hypha/peer: ") && $0.hasSuffix("×") }, "ratio of round \(round) in:\n\(run.stdout)")
        }
        #expect(lines.last?.hasPrefix("overall (medians): hypha ") == true, "overall line in:\n\(run.stdout)")
        #expect(!run.stdout.contains("INCOMPLETE"), "\(run.stdout)")
    }

    @Test func reportsRoundsAsJSON() throws {
        let sink = try Self.sinkCommand()
        defer { try? FileManager.default.removeItem(atPath: sink.directory) }
        let run = try runHypha([
            "bench", "compare", "--against", sink.command, "--rounds", "1", "--records", "3000", "--size", "200", "--json",
        ])
        #expect(run.status == 0, "exit \(run.status); stderr: \(run.stderr)")
        let last = String(run.stdout.split(separator: "\n").last ?? "")
        let object = try JSONSerialization.jsonObject(with: Data(last.utf8))
        let json = try #require(object as? [String: Any], "not a JSON object: \(last)")
        let rounds = try #require(json["rounds"] as? [[String: Any]], "no rounds in \(last)")
        #expect(rounds.count == 1)
        let round = try #require(rounds.first)
        let hypha = try #require(round["hypha"] as? [String: Any])
        let peer = try #require(round["peer"] as? [String: Any])
        let hyphaReceived = (hypha["received"] as? NSNumber)?.intValue
        let peerReceived = (peer["received"] as? NSNumber)?.intValue
        #expect(hyphaReceived == 3000 && peerReceived == 3000, "received: hypha \(String(describing: hyphaReceived)), peer \(String(describing: peerReceived))")
        #expect(hypha["complete"] as? Bool == true && peer["complete"] as? Bool == true)
        let roundRatio = (round["ratio"] as? NSNumber)?.doubleValue ?? 0
        let ratio = (json["ratio"] as? NSNumber)?.doubleValue ?? 0
        #expect(roundRatio > 0 && ratio > 0, "ratios \(roundRatio), \(ratio)")
    }

    @Test func namesAPeerThatExitsBeforeListening() throws {
        let run = try runHypha(["bench", "compare", "--against", "echo no listener here; exit 3", "--rounds", "1", "--records", "100"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("the peer exited") && run.stderr.contains("no listener here"), "stderr: \(run.stderr)")
    }
}
