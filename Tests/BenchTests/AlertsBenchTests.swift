import Bench
import Foundation
import Testing
import TestSupport

@Suite struct AlertsBenchTests {
    @Test func alertBenchmarkRunsRoundsOverItsSeries() {
        let result = AlertBenchmark.runDetailed(series: 2_000, rules: 20, rounds: 3)
        #expect(result.activeSeries >= 2_000)
        #expect(result.firing > 0)
    }

    @Test func benchAlertsTimesEvaluationRounds() throws {
        let run = try runHypha(["bench", "alerts", "--series", "2000", "--rules", "20", "--rounds", "2"])
        let text = run.stdout
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(text.contains("20 rules") && text.contains("median") && text.contains(" ms"), "\(text)")
        let series = text.split(separator: "\n").first { $0.contains("active series") }.flatMap { line in
            line.split(separator: " ").compactMap { Int($0) }.first
        }
        #expect((series ?? 0) >= 2000, "the windows hold every generated series: \(text)")
    }
}
