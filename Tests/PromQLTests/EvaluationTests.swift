import PromQL
import Testing
import TestSupport

/// Each function, aggregation and operator against answers computed by hand from
/// ``testData()`` (see there for the samples).
@Suite struct EvaluationTests {
    static let directory = try! writeWAL(testData())
    let engine = MetricsQueryEngine(dataDirectory: directory.path)

    func instant(_ query: String, _ seconds: Int64) throws -> [String: Double] {
        try engine.instantQuery(query, at: (t0 + seconds) * 1000).vectorValues
    }

    @Test func instantSelectorTakesTheLatestSampleWithinFiveMinutes() throws {
        #expect(try instant("requests_total", 60) == [#"requests_total{host="a"}"#: 15, #"requests_total{host="b"}"#: 30])
        #expect(try instant("requests_total", 60 + 299) == [#"requests_total{host="a"}"#: 15, #"requests_total{host="b"}"#: 30])
        #expect(try instant("requests_total", 60 + 300).isEmpty, "past the lookback delta")
        #expect(try instant(#"{__name__="requests_total", host!="a"}"#, 60) == [#"requests_total{host="b"}"#: 30])
        #expect(try instant(#"temp{room=~"x|z"}"#, 40) == [#"temp{host="a", room="x"}"#: 5])
        #expect(try instant(#"temp{room!~"x"}"#, 40) == [#"temp{host="b", room="y"}"#: 50])
        #expect(try instant("requests_total offset 1m", 60) == [#"requests_total{host="a"}"#: 0, #"requests_total{host="b"}"#: 0])
        #expect(try instant("cpu_load", 0) == [#"cpu_load{host="c"}"#: 0.5], "Graphite's dotted name maps to underscores")
    }

    @Test func rateAndIncreaseExtrapolateAndHandleCounterResets() throws {
        // a in (t0, t0+60]: 10 20 30 40 5 15 → 15 − 10 + 40 (reset) = 45 over 50 s sampled,
        // extrapolated by 10 s to the window's start: 45 × 60 / 50 = 54.
        let increase = try instant("increase(requests_total[1m])", 60)
        #expect(isClose(increase[#"{host="a"}"#], 54) && isClose(increase[#"{host="b"}"#], 30), "\(increase)")
        let rate = try instant("rate(requests_total[1m])", 60)
        #expect(isClose(rate[#"{host="a"}"#], 0.9) && isClose(rate[#"{host="b"}"#], 0.5), "\(rate)")
        // All seven samples, first value 0: no extrapolation past the counter's zero.
        let whole = try instant("increase(requests_total[70s])", 60)
        #expect(isClose(whole[#"{host="a"}"#], 55) && isClose(whole[#"{host="b"}"#], 30), "\(whole)")
        #expect(try instant("rate(requests_total[5s])", 60).isEmpty, "one sample is not enough")
    }

    @Test func overTimeFunctions() throws {
        let expected: [(String, Double, Double)] = [
            ("avg_over_time", 3, 30), ("min_over_time", 1, 10), ("max_over_time", 5, 50), ("sum_over_time", 15, 150),
            ("count_over_time", 5, 5),
        ]
        for (function, a, b) in expected {
            let got = try instant("\(function)(temp[1m])", 40)
            #expect(got == [#"{host="a", room="x"}"#: a, #"{host="b", room="y"}"#: b], "\(function): \(got)")
        }
        for (phi, a, b) in [(0.5, 3.0, 30.0), (0.25, 2, 20), (0.9, 4.6, 46)] {
            let got = try instant("quantile_over_time(\(phi), temp[1m])", 40)
            #expect(isClose(got[#"{host="a", room="x"}"#], a) && isClose(got[#"{host="b", room="y"}"#], b), "φ \(phi): \(got)")
        }
        #expect(try instant("quantile_over_time(2, temp[1m])", 40)[#"{host="a", room="x"}"#] == .infinity)
        #expect(try instant("count_over_time(temp[25s])", 40)[#"{host="a", room="x"}"#] == 3, "the window is left-open: (t − 25s, t]")
    }

    @Test func aggregations() throws {
        #expect(try instant("sum(temp)", 40) == ["{}": 55])
        #expect(try instant("avg(temp)", 40) == ["{}": 27.5])
        #expect(try instant("min(temp)", 40) == ["{}": 5])
        #expect(try instant("max(temp)", 40) == ["{}": 50])
        #expect(try instant("count(temp)", 40) == ["{}": 2])
        #expect(try instant("sum by (room) (temp)", 40) == [#"{room="x"}"#: 5, #"{room="y"}"#: 50])
        #expect(try instant("sum(temp) by (room)", 40) == [#"{room="x"}"#: 5, #"{room="y"}"#: 50])
        #expect(try instant("max without (room) (temp)", 40) == [#"{host="a"}"#: 5, #"{host="b"}"#: 50])
        #expect(try instant("topk(1, temp)", 40) == [#"temp{host="b", room="y"}"#: 50])
        #expect(try instant("topk by (host) (1, temp)", 40).count == 2)
        let perHost = try instant("sum by (host) (rate(requests_total[1m]))", 60)
        #expect(isClose(perHost[#"{host="a"}"#], 0.9) && isClose(perHost[#"{host="b"}"#], 0.5), "\(perHost)")
    }

    @Test func operatorsWithScalars() throws {
        #expect(try instant("temp * 2", 40) == [#"{host="a", room="x"}"#: 10, #"{host="b", room="y"}"#: 100])
        #expect(try instant("1 - temp", 40) == [#"{host="a", room="x"}"#: -4, #"{host="b", room="y"}"#: -49])
        #expect(try instant("-temp", 40) == [#"{host="a", room="x"}"#: -5, #"{host="b", room="y"}"#: -50])
        #expect(try instant("temp > 10", 40) == [#"temp{host="b", room="y"}"#: 50], "a comparison filters and keeps the name")
        #expect(try instant("10 < temp", 40) == [#"temp{host="b", room="y"}"#: 50], "the vector's value, also on the right")
        #expect(try instant("temp > bool 10", 40) == [#"{host="a", room="x"}"#: 0, #"{host="b", room="y"}"#: 1])
        #expect(try instant("temp == 5", 40) == [#"temp{host="a", room="x"}"#: 5])
        #expect(try instant("temp % 4", 40) == [#"{host="a", room="x"}"#: 1, #"{host="b", room="y"}"#: 2])
        #expect(try instant("temp / 0", 40)[#"{host="a", room="x"}"#] == .infinity)
        for (query, value) in [("2 ^ 3 ^ 2", 512.0), ("-2 ^ 2", -4), ("(1 + 2) * 3", 9), ("7 % 4", 3), ("1 > bool 2", 0), ("2 >= bool 2", 1)] {
            guard case .scalar(_, let v) = try engine.instantQuery(query, at: 0) else { Issue.record("\(query): not a scalar"); continue }
            #expect(v == value, "\(query) = \(v), expected \(value)")
        }
    }

    @Test func rangeQueriesGiveAMatrix() throws {
        guard case .matrix(let series) = try engine.rangeQuery("sum(temp)", start: t0 * 1000, end: (t0 + 40) * 1000, step: 20_000) else {
            Issue.record("not a matrix")
            return
        }
        #expect(series.count == 1 && series[0].points.map(\.value) == [11, 33, 55] && series[0].points.map(\.timestamp) == [t0 * 1000, (t0 + 20) * 1000, (t0 + 40) * 1000])
        guard case .matrix(let scalar) = try engine.rangeQuery("1 + 1", start: 0, end: 10_000, step: 5000) else { return }
        #expect(scalar.count == 1 && scalar[0].labels.pairs.isEmpty && scalar[0].points.map(\.value) == [2, 2, 2])
        #expect(throws: PromQLError.self) { try engine.rangeQuery("temp[1m]", start: 0, end: 10_000, step: 5000) }
        #expect(throws: PromQLError.self) { try engine.rangeQuery("temp", start: 0, end: 86_400_000, step: 1) }
    }

    @Test func aRangeSelectorAnsweredRaw() throws {
        guard case .matrix(let series) = try engine.instantQuery(#"temp{host="a"}[25s]"#, at: (t0 + 40) * 1000) else {
            Issue.record("not a matrix")
            return
        }
        #expect(series.count == 1 && series[0].points.map(\.value) == [3, 4, 5], "\(series)")
    }

    @Test func seriesAndLabels() throws {
        let range = (t0 * 1000, (t0 + 60) * 1000)
        let series = try engine.series(matching: ["temp", "cpu_load"], start: range.0, end: range.1)
        #expect(series.map(\.description) == [#"cpu_load{host="c"}"#, #"temp{host="a", room="x"}"#, #"temp{host="b", room="y"}"#])
        #expect(try engine.labelNames(matching: [], start: range.0, end: range.1) == ["__name__", "host", "room"])
        #expect(try engine.labelValues("host", matching: [], start: range.0, end: range.1) == ["a", "b", "c"])
        #expect(try engine.labelValues("__name__", matching: ["{host=\"a\"}"], start: range.0, end: range.1) == ["requests_total", "temp"])
        #expect(try engine.series(matching: ["temp"], start: (t0 + 1000) * 1000, end: (t0 + 2000) * 1000).isEmpty, "outside the range")
    }

    @Test func limits() {
        let small = MetricsQueryEngine(dataDirectory: Self.directory.path, limits: QueryLimits(maxSamples: 3))
        let tooMany = #expect(throws: PromQLError.self) { try small.instantQuery("requests_total", at: (t0 + 60) * 1000) }
        #expect(tooMany?.kind == .execution)
        let hasty = MetricsQueryEngine(dataDirectory: Self.directory.path, limits: QueryLimits(timeout: .zero))
        let late = #expect(throws: PromQLError.self) { try hasty.instantQuery("requests_total", at: (t0 + 60) * 1000) }
        #expect(late?.kind == .timeout)
    }
}
