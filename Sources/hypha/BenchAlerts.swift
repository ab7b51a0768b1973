import ArgumentParser
import Bench

struct BenchAlerts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Time alert evaluation rounds over many active series and rules (one core).",
        discussion: """
            Fills the windows of RULES metric rules with SERIES active series (5-minute windows, \
            30 samples each), then times evaluation rounds. Target: one round over 100,000 series \
            and 200 rules in 50 ms or less.
            """
    )
    @Option(help: "Active series.") var series = 100_000
    @Option(help: "Rules.") var rules = 200
    @Option(help: "Evaluation rounds to time; the median is reported.") var rounds = 5

    func run() throws {
        guard series >= 1, rules >= 1, rounds >= 1 else { throw ValidationError("--series, --rules and --rounds must be at least 1") }
        let r = AlertBenchmark.runDetailed(series: series, rules: rules, rounds: rounds)
        print("alert evaluation: \(r.activeSeries) active series, \(rules) rules, \(r.samples) samples")
        print("  round       median \(ms(r.evaluation)), slowest \(ms(r.slowestEvaluation)) (\(rounds) rounds)")
        print("  ingest      \(ns(r.ingestPerSample)) per sample")
        print("  firing      \(r.firing) alerts")
    }

    private func ms(_ d: Duration) -> String {
        let v = (Double(d.components.seconds) * 1e3 + Double(d.components.attoseconds) / 1e15) * 10
        return "\(Int(v.rounded()) / 10).\(Int(v.rounded()) % 10) ms"
    }

    private func ns(_ d: Duration) -> String {
        "\(Int((Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9).rounded())) ns"
    }
}
