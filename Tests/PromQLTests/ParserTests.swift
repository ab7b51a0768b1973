import PromQL
import Testing

/// The parser: the subset parses, everything else is refused with a message that names it.
@Suite struct ParserTests {
    @Test(arguments: [
        #"m"#, #"{__name__="m"}"#, #"m{a="x", b!="y", c=~"re.*", d!~"re"}"#, #"m{a='x',}"#, "rate(m[5m])", "increase(m[1h30m] offset 5m)",
        "quantile_over_time(0.9, m[5m])", "sum by (host) (rate(m[5m]))", "sum(rate(m[5m])) without (cpu)", "topk(3, m)",
        "count without (a, b) (m)", "-m * 2 + 1", "2 ^ 3 ^ 2", "m > bool 3", "(m)", "1 > bool 2", "m offset 1m", "avg(m) / 100",
        "min_over_time(m[30s]) <= 5", "NaN", "Inf", "0x1F",
    ])
    func parses(_ query: String) throws {
        _ = try PromQLParser.parse(query)
    }

    @Test(arguments: [
        ("m + n", "binary operation between two vectors"),
        ("histogram_quantile(0.9, m)", "the function \"histogram_quantile\" is not supported"),
        ("abs(m)", "the function \"abs\" is not supported"),
        ("stddev(m)", "the aggregation \"stddev\" is not supported"),
        ("quantile by (a) (0.5, m)", "the aggregation \"quantile\" is not supported"),
        ("m and n", "the set operator \"and\" is not supported"),
        ("rate(m[5m:1m])", "a subquery is not supported"),
        ("(m)[5m]", "a subquery is not supported"),
        ("m @ 1700000000", "the @ modifier is not supported"),
        ("m * on (a) n", "vector matching (\"on\") is not supported"),
        (#""text""#, "a string literal is not supported"),
    ])
    func refusesWhatIsNotSupported(_ query: String, _ message: String) {
        let error = #expect(throws: PromQLError.self) { try PromQLParser.parse(query) }
        #expect(error?.kind == .badData && error?.message.contains(message) == true && error?.message.contains("not supported") == true, "\(String(describing: error))")
    }

    @Test(arguments: [
        ("rate(m)", "expected type range vector in call to function \"rate\""),
        ("sum(m[5m])", "expected type instant vector in aggregation expression"),
        ("1 > 2", "comparisons between scalars must use BOOL modifier"),
        (#"{a=~".*"}"#, "at least one non-empty matcher"),
        (#"m{a="x""#, "unexpected end of input"),
        ("m[5x]", "bad number or duration syntax"),
        ("sum(m", "unexpected end of input"),
        (#"m{a=~"("}"#, "invalid regular expression"),
        ("m +", "unexpected end of input"),
        ("m + bool 1", "bool modifier can only be used on comparison operators"),
    ])
    func refusesMalformedQueries(_ query: String, _ message: String) {
        let error = #expect(throws: PromQLError.self) { try PromQLParser.parse(query) }
        #expect(error?.kind == .badData && error?.message.contains(message) == true, "\(String(describing: error))")
    }

    @Test func errorsNameTheColumn() {
        #expect(throws: PromQLError(.badData, "parse error at char 5: the function \"abs\" is not supported (see docs/promql.md for the supported subset)")) {
            try PromQLParser.parse("1 + abs(m)")
        }
    }

    @Test func regularExpressionsAreAnchored() throws {
        let selector = try PromQLParser.parseSelector(#"{host=~"web"}"#)
        #expect(selector.matchers[0].matches("web") && !selector.matchers[0].matches("web1") && !selector.matchers[0].matches("aweb"))
    }

    @Test func timesAndDurations() {
        #expect(QueryTime.parse("2023-11-14T22:13:20Z", nowMilliseconds: 0) == 1_700_000_000_000)
        #expect(QueryTime.parse("2023-11-14T23:13:20.5+01:00", nowMilliseconds: 0) == 1_700_000_000_500)
        #expect(QueryTime.parse("1700000000.25", nowMilliseconds: 0) == 1_700_000_000_250)
        #expect(QueryTime.parse("-15m", nowMilliseconds: 1_000_000) == 100_000)
        #expect(QueryTime.parse("now-2h", nowMilliseconds: 7_200_000) == 0)
        #expect(QueryTime.parse("yesterday", nowMilliseconds: 0) == nil)
        #expect(QueryTime.duration("15s") == 15_000 && QueryTime.duration("1m30s") == 90_000 && QueryTime.duration("0.5") == 500)
    }

    @Test func valuesAreFormattedAsPrometheusDoes() {
        let cases: [(Double, String)] = [(1, "1"), (0.5, "0.5"), (1e20, "100000000000000000000"), (1.5e-7, "0.00000015"), (-2.25, "-2.25"),
            (.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf"), (123456.789, "123456.789"), (0, "0")]
        for (v, s) in cases { #expect(PrometheusFormat.value(v) == s, "\(v) → \(PrometheusFormat.value(v)), expected \(s)") }
        #expect(PrometheusFormat.time(1_700_000_000_500) == "1700000000.5" && PrometheusFormat.time(1_700_000_000_000) == "1700000000")
    }

    @Test func namesAreMappedToPrometheusRules() {
        #expect(PrometheusNames.metricName("cpu.load") == "cpu_load")
        #expect(PrometheusNames.metricName("9lives") == "_9lives")
        #expect(PrometheusNames.metricName("a:b-c") == "a:b_c")
        #expect(PrometheusNames.labelName("a:b") == "a_b")
        #expect(PrometheusNames.labels(name: "x", labels: [("b", "2"), ("a", "1"), ("e", ""), ("__name__", "y")]).description == #"x{a="1", b="2"}"#)
    }
}
