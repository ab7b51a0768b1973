import Control
import Platform
import WAL
import Testing

/// Aggregations over windows, with exact numbers, and the intake's bounds.
@Suite struct AlertAggregationTests {
    typealias T = TestTime
    static let gt0 = AlertCondition(.greater, 0)

    /// Values of `rule` (no group_by) at `now` after feeding `samples`.
    static func value(_ rule: AlertRule, _ samples: [MetricSample], at now: Double) -> Double? {
        var input = AlertInput(rules: [rule])
        input.ingest(samples: samples)
        return input.values(ofRule: rule.name, now: T.at(now))[[:]]
    }

    static let series: [MetricSample] = zip([10.0, 20, 30, 40, 50, 60], [4.0, 8, 15, 16, 23, 42]).map { sample($0, $1) }

    /// (aggregation, value at 65 s with all six samples in the 60 s window, value at 75 s without the first)
    static let cases: [(AlertAggregation, Double, Double)] = [
        (.avg, 18, 20.8),
        (.min, 4, 8),
        (.max, 42, 42),
        (.sum, 108, 104),
        (.count, 6, 5),
        (.last, 42, 42),
        (.p50, 15, 16),
        (.p90, 42, 42),
        (.p99, 42, 42),
    ]

    @Test(arguments: cases.indices)
    func aggregatesOverTheWindow(_ i: Int) {
        let (aggregation, full, trimmed) = Self.cases[i]
        let rule = metricRule("r", aggregation, window: 60, Self.gt0)
        #expect(Self.value(rule, Self.series, at: 65) == full, "\(aggregation) at 65 s")
        #expect(Self.value(rule, Self.series, at: 75) == trimmed, "\(aggregation) at 75 s (first sample out)")
        // Once every sample is older than the window nothing is left.
        let empty = Self.value(rule, Self.series, at: 125)
        #expect(empty == (aggregation == .count ? 0 : nil), "\(aggregation) at 125 s: \(String(describing: empty))")
    }

    @Test func windowEdgeIsExclusiveAtTheOldEnd() {
        let rule = metricRule("r", .count, window: 30, Self.gt0)
        let samples = [sample(10, 1), sample(20, 1), sample(40, 1)]
        #expect(Self.value(rule, samples, at: 40) == 2, "(10, 40]: the samples at 20 and 40")
        #expect(Self.value(rule, samples, at: 39.999) == 3, "(9.999, 39.999]: 10 and 20, and 40 counts though stamped later")
    }

    @Test func percentilesUseNearestRank() {
        let samples = (1 ... 100).map { sample(Double($0), Double(101 - $0)) }  // 100 … 1, in reverse
        for (aggregation, expected) in [(AlertAggregation.p50, 50.0), (.p90, 90), (.p99, 99)] {
            #expect(Self.value(metricRule("r", aggregation, window: 200, Self.gt0), samples, at: 100) == expected, "\(aggregation)")
        }
        let ten = (1 ... 10).map { sample(Double($0), Double($0)) }
        #expect(Self.value(metricRule("r", .p90, window: 200, Self.gt0), ten, at: 10) == 9)
        #expect(Self.value(metricRule("r", .p99, window: 200, Self.gt0), ten, at: 10) == 10)
        #expect(Self.value(metricRule("r", .p50, window: 200, Self.gt0), [sample(1, 7)], at: 10) == 7)
    }

    @Test func rateIsTheCounterIncreasePerSecondWithResets() {
        let rule = metricRule("r", .rate, window: 30, Self.gt0)
        // Increases land at 10 (+10), 20 (+20), 30 (reset: +5) and 40 (+20); (10, 40] holds the last three.
        let samples = [sample(0, 100), sample(10, 110), sample(20, 130), sample(30, 5), sample(40, 25)]
        #expect(Self.value(rule, samples, at: 40) == 45.0 / 30)
    }

    @Test func rateSumsTheRatesOfEveryCounterInAGroup() {
        let rule = metricRule("r", .rate, window: 20, Self.gt0)
        let a = [sample(0, 0, [("host", "a")]), sample(10, 10, [("host", "a")]), sample(20, 20, [("host", "a")])]
        let b = [sample(0, 1000, [("host", "b")]), sample(10, 1030, [("host", "b")]), sample(20, 1060, [("host", "b")])]
        // Interleaved as they would arrive; (0, 20] holds +10 +10 from a and +30 +30 from b.
        let samples = zip(a, b).flatMap { [$0, $1] }
        #expect(Self.value(rule, samples, at: 20) == 80.0 / 20)
    }

    @Test func countAndRateOfLogs() {
        let logs = LogSelector(source: try! LabelMatcher(label: "source", parsing: "~auth-.*"), severityAtMost: 3, contains: "denied")
        func rule(_ aggregation: AlertAggregation, groupBy: [String] = []) -> AlertRule {
            AlertRule(name: "r", selector: .logs(logs), aggregation: aggregation, window: 60 * T.s, condition: Self.gt0, groupBy: groupBy)
        }
        func log(_ t: Double, _ host: String, severity: UInt8 = 3, _ message: String = "access denied for root") -> LogRecord {
            LogRecord(timestamp: T.at(t), severity: severity, host: host, app: "sshd", message: message)
        }
        var records: [LogRecord] = []
        for t in 0 ..< 30 { records.append(log(Double(t), t % 3 == 0 ? "auth-2" : "auth-1")) }
        records += [
            log(5, "auth-1", severity: 6),  // too mild
            log(5, "auth-1", severity: LogRecord.unknownLevel),  // unknown severity never passes severity_at_most
            log(5, "web-1"),  // wrong source
            log(5, "xauth-1"),  // the regex covers the whole value
            log(5, "auth-1", "accepted"),  // no substring
            log(5, "auth-1", "denie"),
        ]
        var count = AlertInput(rules: [rule(.count)])
        count.ingest(logs: records)
        #expect(count.values(ofRule: "r", now: T.at(30)) == [[:]: 30])
        var rate = AlertInput(rules: [rule(.rate)])
        rate.ingest(logs: records)
        #expect(rate.values(ofRule: "r", now: T.at(30)) == [[:]: 0.5])
        var grouped = AlertInput(rules: [rule(.count, groupBy: ["source", "severity"])])
        grouped.ingest(logs: records)
        #expect(grouped.values(ofRule: "r", now: T.at(30)) == [
            ["source": "auth-1", "severity": "3"]: 20, ["source": "auth-2", "severity": "3"]: 10,
        ])
    }

    @Test func groupByMakesOneSeriesPerLabelSet() {
        let rule = metricRule("r", .avg, Self.gt0, groupBy: ["host", "dc"], matchers: [try! LabelMatcher(label: "env", parsing: "!=dev")])
        var input = AlertInput(rules: [rule])
        input.ingest(samples: [
            sample(1, 10, [("host", "a"), ("dc", "x")]), sample(2, 20, [("dc", "x"), ("host", "a"), ("extra", "1")]),
            sample(1, 5, [("host", "b"), ("dc", "x")]), sample(1, 7, [("host", "c")]),
            sample(1, 1000, [("host", "a"), ("dc", "x"), ("env", "dev")]),  // filtered out
        ])
        #expect(input.values(ofRule: "r", now: T.at(10)) == [
            ["host": "a", "dc": "x"]: 15, ["host": "b", "dc": "x"]: 5, ["host": "c"]: 7,
        ])
        #expect(input.stats.activeSeries == 3)
    }

    @Test func samplesInOneSlotMergeExactly() {
        let samples = [sample(10.1, 2), sample(10.5, 4), sample(10.9, 6), sample(11.2, 10)]
        #expect(Self.value(metricRule("r", .avg, Self.gt0), samples, at: 20) == 5.5)
        #expect(Self.value(metricRule("r", .count, Self.gt0), samples, at: 20) == 4)
        #expect(Self.value(metricRule("r", .min, Self.gt0), samples, at: 20) == 2)
        #expect(Self.value(metricRule("r", .max, Self.gt0), samples, at: 20) == 10)
        #expect(Self.value(metricRule("r", .last, Self.gt0), samples, at: 20) == 10)
        #expect(Self.value(metricRule("r", .last, Self.gt0), [sample(12, 1), sample(11, 2)], at: 20) == 1, "newest by timestamp, not by arrival")
    }

    @Test func newSeriesPastTheBoundAreDroppedAndCounted() {
        let rule = metricRule("r", .last, window: 10, Self.gt0, groupBy: ["host"])
        var input = AlertInput(rules: [rule], limits: AlertInputLimits(maxSeries: 3))
        input.ingest(samples: (0 ..< 5).map { sample(1, 1, [("host", "h\($0)")]) })
        #expect(input.stats.activeSeries == 3)
        #expect(input.stats.seriesRefused == 2)
        input.ingest(samples: [sample(2, 2, [("host", "h0")])])
        #expect(input.stats.seriesRefused == 2, "existing series still take samples")
        #expect(input.values(ofRule: "r", now: T.at(5)).count == 3)
        // Once the windows empty, the series go and new ones fit again.
        #expect(input.values(ofRule: "r", now: T.at(30)).isEmpty)
        #expect(input.stats.activeSeries == 0)
        input.ingest(samples: [sample(31, 1, [("host", "h4")])])
        #expect(input.stats.activeSeries == 1)
    }

    @Test func manyGroupsSurviveRemovalAndRegrowth() {
        let rule = metricRule("r", .sum, window: 10, Self.gt0, groupBy: ["host"])
        var input = AlertInput(rules: [rule])
        // Even hosts report at 1 s, odd ones at 8 s; at 12 s the even ones have left the window.
        input.ingest(samples: (0 ..< 2000).map { sample($0 % 2 == 0 ? 1 : 8, Double($0), [("host", "h\($0)")]) })
        #expect(input.values(ofRule: "r", now: T.at(5)).count == 2000)
        let odd = input.values(ofRule: "r", now: T.at(12))
        #expect(odd.count == 1000)
        #expect(odd.allSatisfy { Int($0.key["host"]!.dropFirst())! % 2 == 1 && $0.value == Double(Int($0.key["host"]!.dropFirst())!) })
        #expect(input.stats.activeSeries == 1000)
        // Every host again: odd ones add to their series, even ones start new ones.
        input.ingest(samples: (0 ..< 2000).map { sample(13, 1, [("host", "h\($0)")]) })
        let all = input.values(ofRule: "r", now: T.at(14))
        #expect(all.count == 2000)
        #expect(all.allSatisfy { kv in
            let n = Int(kv.key["host"]!.dropFirst())!
            return kv.value == (n % 2 == 1 ? Double(n) + 1 : 1)
        })
        #expect(input.stats.activeSeries == 2000)
    }

    @Test func percentileSeriesAreCapped() {
        let rule = metricRule("r", .p50, window: 100, Self.gt0)
        var input = AlertInput(rules: [rule], limits: AlertInputLimits(maxSamplesPerSeries: 4))
        input.ingest(samples: (1 ... 6).map { sample(Double($0), Double($0)) })
        #expect(input.stats.samplesOverCap == 2)
        #expect(input.values(ofRule: "r", now: T.at(10)) == [[:]: 4], "p50 of the newest four (3, 4, 5, 6)")
    }

    @Test func prefilterAndReservedNames() {
        let rules = AlertRuleSet.builtinRules() + [metricRule("cpu", metric: "cpu", .avg, Self.gt0)]
        var input = AlertInput(rules: rules)
        #expect(input.interest.metricNames == ["cpu"], "reserved names are not wanted from the stream")
        #expect(!input.wantsLogs)
        #expect(input.wantsMetric(named: "cpu") && !input.wantsMetric(named: "mem"))
        #expect(!input.interest.wantsLog(severity: 0))
        let errors = AlertRule(name: "e", selector: .logs(LogSelector(severityAtMost: 3)), aggregation: .count, window: T.s, condition: Self.gt0)
        let warnings = AlertRule(name: "w", selector: .logs(LogSelector(severityAtMost: 4)), aggregation: .count, window: T.s, condition: Self.gt0)
        let interest = AlertInput(rules: [errors, warnings]).interest
        #expect(interest.wantsLog(severity: 4) && !interest.wantsLog(severity: 5) && !interest.wantsLog(severity: LogRecord.unknownLevel))
        #expect(AlertInput(rules: [errors, AlertRule(name: "any", selector: .logs(LogSelector()), aggregation: .count, window: T.s, condition: Self.gt0)])
            .interest.wantsLog(severity: LogRecord.unknownLevel))
        input.ingest(samples: [MetricSample(timestamp: T.at(1), name: ControlSignals.Metric.diskUsedFraction, value: 0.99)])
        #expect(input.stats.reservedIgnored == 1)
        #expect(input.values(ofRule: AlertRuleSet.Builtin.diskUsage, now: T.at(2)).isEmpty)
        input.ingest(signals: ControlSignals(disk: .init(usedFraction: 0.99)), now: T.at(2))
        #expect(input.values(ofRule: AlertRuleSet.Builtin.diskUsage, now: T.at(2)) == [[:]: 0.99])
    }

    @Test func reloadKeepsSeriesOfUnchangedRules() {
        let a = metricRule("a", .sum, Self.gt0)
        let b = metricRule("b", .sum, Self.gt0)
        var input = AlertInput(rules: [a, b])
        input.ingest(samples: [sample(1, 5)])
        var b2 = b
        b2.window = 120 * T.s
        var a2 = a
        a2.condition = AlertCondition(.greater, 100)  // condition changes keep the series
        let reset = input.updateRules([a2, b2])
        #expect(reset == ["b"])
        #expect(input.values(ofRule: "a", now: T.at(2)) == [[:]: 5])
        #expect(input.values(ofRule: "b", now: T.at(2)).isEmpty)
    }
}
