/// Answers PromQL queries and the Prometheus API's series and label questions from the
/// metric samples of a data directory's write-ahead log.
///
/// Each call reads the WAL afresh (``SeriesScan``): only the batches whose time range meets
/// the query's, only the series its selectors match. It reads beside a running writer and
/// never sees a batch that is not complete.
///
/// ```swift
/// let engine = MetricsQueryEngine(dataDirectory: "hypha-data")
/// let result = try engine.rangeQuery("sum by (host) (rate(m[5m]))", start: from, end: to, step: 60_000)
/// print(PrometheusJSON.success(result))
/// ```
///
/// Thread safety: a value type; calls may run on any thread, concurrently. They block (file
/// reads, one scan thread per shard): call them from a worker thread, not an event loop.
public struct MetricsQueryEngine: Sendable {
    /// The data directory holding `wal/`.
    public let dataDirectory: String
    /// The limits every call runs under.
    public let limits: QueryLimits

    public init(dataDirectory: String, limits: QueryLimits = QueryLimits()) {
        self.dataDirectory = dataDirectory
        self.limits = limits
    }

    /// Prometheus' cap on the points of one series in a range query.
    public static let maxPointsPerSeries = 11_000

    /// Evaluates `query` at `time` (ms): a vector, a scalar, or — for a range selector — a
    /// matrix of the raw samples in `(time − range, time]`.
    public func instantQuery(_ query: String, at time: Int64) throws(PromQLError) -> QueryResult {
        let deadline = Deadline(limits.timeout)
        let expression = try PromQLParser.parse(query)
        if case .range(let s, let range) = expression {
            let end = time - s.offsetMilliseconds
            let series = try load(expression, from: time, to: time, deadline: deadline)
            let matrix = series.filter { s.selector.matches($0.labels) }.compactMap { series -> RangeSeries? in
                let points = zip(series.timestamps, series.values).filter { $0.0 > end - range && $0.0 <= end }.map { (timestamp: $0.0, value: $0.1) }
                return points.isEmpty ? nil : RangeSeries(labels: series.labels, points: points)
            }
            return .matrix(sorted(matrix))
        }
        switch try evaluate(expression, steps: [time], deadline: deadline) {
        case .scalar(let v):
            return .scalar(timestamp: time, value: v[0])
        case .vector(let vector):
            let samples = vector.compactMap { s in s.values[0].map { InstantSample(labels: s.labels, timestamp: time, value: $0) } }
            try checkUnique(samples.map(\.labels))
            return .vector(samples.sorted { $0.labels.description < $1.labels.description })
        }
    }

    /// Evaluates `query` at `start`, `start + step`, … up to `end` (ms): a matrix.
    public func rangeQuery(_ query: String, start: Int64, end: Int64, step: Int64) throws(PromQLError) -> QueryResult {
        guard step > 0 else { throw PromQLError(.badData, "zero or negative query resolution step widths are not accepted. Try a positive integer") }
        guard end >= start else { throw PromQLError(.badData, "end timestamp must not be before start time") }
        guard (end - start) / step < Int64(Self.maxPointsPerSeries) else {
            throw PromQLError(.badData, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
        }
        let deadline = Deadline(limits.timeout)
        let expression = try PromQLParser.parse(query)
        if expression.type == .matrix {
            throw PromQLError(.badData, "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector")
        }
        let steps = Array(stride(from: start, through: end, by: Int(step)))
        let series: [StepSeries]
        switch try evaluate(expression, steps: steps, deadline: deadline) {
        case .scalar(let v): series = [StepSeries(labels: Labels([]), values: v)]
        case .vector(let v): series = v
        }
        try checkUnique(series.map(\.labels))
        var points = 0
        let matrix = series.compactMap { s -> RangeSeries? in
            let p = zip(steps, s.values).compactMap { t, v in v.map { (timestamp: t, value: $0) } }
            points += p.count
            return p.isEmpty ? nil : RangeSeries(labels: s.labels, points: p)
        }
        if points > limits.maxSamples { throw tooManySamples }
        return .matrix(sorted(matrix))
    }

    /// The series that match any of `selectors` with a sample in `[start, end]` (ms).
    public func series(matching selectors: [String], start: Int64, end: Int64) throws(PromQLError) -> [Labels] {
        guard !selectors.isEmpty else { throw PromQLError(.badData, "no match[] parameter provided") }
        var parsed: [SeriesSelector] = []
        for text in selectors { parsed.append(try PromQLParser.parseSelector(text)) }
        let all = parsed
        let series = try SeriesScan.load(
            dataDirectory: dataDirectory, range: start ... max(start, end), limits: limits, deadline: Deadline(limits.timeout),
            wanted: { labels in all.contains { $0.matches(labels) } })
        return series.map(\.labels).sorted { $0.description < $1.description }
    }

    /// The label names of the series in `[start, end]` matching any of `selectors` (every series
    /// when there are none), sorted.
    public func labelNames(matching selectors: [String], start: Int64, end: Int64) throws(PromQLError) -> [String] {
        let labels = try labelSets(selectors, start, end)
        return Set(labels.flatMap { $0.pairs.map(\.name) }).sorted()
    }

    /// The values of label `name` in the series in `[start, end]` matching any of `selectors`
    /// (every series when there are none), sorted.
    public func labelValues(_ name: String, matching selectors: [String], start: Int64, end: Int64) throws(PromQLError) -> [String] {
        let labels = try labelSets(selectors, start, end)
        return Set(labels.map { $0[name] }.filter { !$0.isEmpty }).sorted()
    }

    private func labelSets(_ selectors: [String], _ start: Int64, _ end: Int64) throws(PromQLError) -> [Labels] {
        if !selectors.isEmpty { return try series(matching: selectors, start: start, end: end) }
        return try SeriesScan.load(
            dataDirectory: dataDirectory, range: start ... max(start, end), limits: limits, deadline: Deadline(limits.timeout),
            wanted: { _ in true }
        ).map(\.labels)
    }

    // MARK: Evaluation

    private func evaluate(_ expression: Expression, steps: [Int64], deadline: Deadline) throws(PromQLError) -> StepValue {
        let series = try load(expression, from: steps.first ?? 0, to: steps.last ?? 0, deadline: deadline)
        return try Evaluator(series: series, steps: steps, lookback: limits.lookbackMilliseconds, deadline: deadline).evaluate(expression)
    }

    /// The series any selector of `expression` matches, with the samples any of them needs
    /// for evaluation times in `[from, to]`.
    private func load(_ expression: Expression, from: Int64, to: Int64, deadline: Deadline) throws(PromQLError) -> [Series] {
        var needs: [(SeriesSelector, Int64, Int64)] = []  // selector, earliest, latest
        collect(expression, from: from, to: to, into: &needs)
        guard let earliest = needs.map(\.1).min(), let latest = needs.map(\.2).max() else { return [] }
        let selectors = needs.map(\.0)
        return try SeriesScan.load(
            dataDirectory: dataDirectory, range: earliest ... latest, limits: limits, deadline: deadline,
            wanted: { labels in selectors.contains { $0.matches(labels) } })
    }

    private func collect(_ e: Expression, from: Int64, to: Int64, into needs: inout [(SeriesSelector, Int64, Int64)]) {
        switch e {
        case .number: break
        case .selector(let s):
            needs.append((s.selector, from - s.offsetMilliseconds - limits.lookbackMilliseconds, to - s.offsetMilliseconds))
        case .range(let s, let r), .rangeFunction(_, _, let s, let r):
            needs.append((s.selector, from - s.offsetMilliseconds - r, to - s.offsetMilliseconds))
        case .aggregation(_, let p, _, let operand):
            if let p { collect(p, from: from, to: to, into: &needs) }
            collect(operand, from: from, to: to, into: &needs)
        case .binary(_, let l, let r, _):
            collect(l, from: from, to: to, into: &needs)
            collect(r, from: from, to: to, into: &needs)
        case .negation(let operand):
            collect(operand, from: from, to: to, into: &needs)
        }
    }

    private var tooManySamples: PromQLError {
        PromQLError(.execution, "query processing would load too many samples into memory in query execution (limit \(limits.maxSamples))")
    }

    private func checkUnique(_ labels: [Labels]) throws(PromQLError) {
        var seen = Set<Labels>()
        for l in labels where !seen.insert(l).inserted {
            throw PromQLError(.execution, "vector cannot contain metrics with the same labelset (\(l))")
        }
    }

    private func sorted(_ matrix: [RangeSeries]) -> [RangeSeries] {
        matrix.sorted { $0.labels.description < $1.labels.description }
    }
}
