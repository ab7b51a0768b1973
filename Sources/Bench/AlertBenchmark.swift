import Control
import WAL
import Logging

/// A micro-benchmark of alert evaluation for `hypha bench`: the target is one
/// evaluation round over 100,000 active series and 200 rules in ≤ 50 ms on one core.
///
/// ```swift
/// let result = AlertBenchmark.runDetailed(series: 100_000, rules: 200)
/// print("alert evaluation round: \(result.evaluation)")
/// ```
public enum AlertBenchmark {
    /// What ``runDetailed(series:rules:samplesPerSeries:rounds:)`` measured.
    public struct Result: Sendable {
        /// Median wall time of one ``AlertEngine/evaluate(now:signals:)`` round.
        public var evaluation: Duration
        /// Slowest round (the first, which creates the alerts, usually).
        public var slowestEvaluation: Duration
        /// Time to ingest all samples, divided by their number.
        public var ingestPerSample: Duration
        /// Samples ingested.
        public var samples: Int
        /// Series held after ingesting (groups plus followed counters).
        public var activeSeries: Int
        /// Alerts firing after the last round.
        public var firing: Int
    }


    /// Builds an ``AlertEngine`` (no hooks, no state file) with `rules` metric rules grouped by
    /// `host`, cycling through every aggregation over a 5-minute window with `for: 10s`; feeds
    /// `series / rules` hosts per rule `samplesPerSeries` samples each (10 s apart, so the
    /// default 30 fill the window; 1 % of the hosts above the threshold), then times `rounds`
    /// evaluations 5 s apart.
    public static func runDetailed(series: Int = 100_000, rules ruleCount: Int = 200, samplesPerSeries: Int = 30, rounds: Int = 5) -> Result {
        let s = AlertDuration.second
        let aggregations = AlertAggregation.allCases
        let hostsPerRule = max(1, series / max(1, ruleCount))
        var rules: [AlertRule] = []
        for r in 0 ..< ruleCount {
            let aggregation = aggregations[r % aggregations.count]
            rules.append(AlertRule(
                name: "bench_rule_\(r)", severity: .warning, selector: .metric(MetricSelector(metric: "bench_metric_\(r)")),
                aggregation: aggregation, window: 300 * s, condition: AlertCondition(.greater, threshold(aggregation, samplesPerSeries: samplesPerSeries)),
                for: 10 * s, groupBy: ["host"], annotations: ["summary": "{{ $labels.host }} at {{ $value }}"]))
        }
        let limits = AlertInputLimits(maxSeries: 3 * series + 1000)
        let engine: AlertEngine
        do {
            engine = try AlertEngine(
                rules: AlertRuleSet(rules: rules, hooks: []), hooks: HookDispatcher(logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })),
                store: nil, options: AlertEngineOptions(nodeName: "bench", limits: limits),
                logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        } catch {
            preconditionFailure("benchmark rules are valid: \(error)")
        }
        let t0: Int64 = 1_800_000_000 * s
        let hosts = (0 ..< hostsPerRule).map { "host-\($0)" }
        var ingestTime = Duration.zero
        var samples = 0
        let clock = ContinuousClock()
        for k in 0 ..< samplesPerSeries {
            let ts = t0 + Int64(k) * 10 * s
            for r in 0 ..< ruleCount {
                let name = "bench_metric_\(r)"
                var batch: [MetricSample] = []
                batch.reserveCapacity(hostsPerRule)
                for (h, host) in hosts.enumerated() {
                    let hot = h % 100 == 0
                    // Counters for rate rules climb; everything else hovers around 50 (hot hosts at 150).
                    let value = rules[r].aggregation == .rate ? Double(k) * (hot ? 100 : 1) : (hot ? 150 : 50) + Double((h + k) % 7)
                    batch.append(MetricSample(timestamp: ts, name: name, value: value, labels: [("host", host), ("dc", "bench")]))
                }
                samples += batch.count
                ingestTime += clock.measure { engine.ingest(samples: batch) }
            }
        }
        var times: [Duration] = []
        let last = t0 + Int64(samplesPerSeries - 1) * 10 * s
        for round in 0 ..< max(1, rounds) {
            let now = last + Int64(round) * 5 * s
            times.append(clock.measure { engine.evaluate(now: now) })
        }
        let stats = engine.stats
        return Result(
            evaluation: times.sorted()[times.count / 2], slowestEvaluation: times.max()!,
            ingestPerSample: samples == 0 ? .zero : ingestTime / samples, samples: samples,
            activeSeries: stats.input.activeSeries, firing: stats.firing)
    }

    private static func threshold(_ aggregation: AlertAggregation, samplesPerSeries: Int) -> Double {
        switch aggregation {
        case .count: 1000  // never
        case .sum: 150 * Double(samplesPerSeries) - 1  // hot hosts only (n × ~150)
        case .rate: 5  // hot counters climb 100 per 10 s
        default: 100
        }
    }
}
