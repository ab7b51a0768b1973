/// A value during evaluation, over every step of the query at once.
enum StepValue {
    /// One number per step.
    case scalar([Double])
    /// Series with a value (or none) per step.
    case vector([StepSeries])
}

/// One output series of a vector expression: a value, or `nil`, at each step.
struct StepSeries {
    var labels: Labels
    var values: [Double?]
}

/// Evaluates an ``Expression`` at every step of a query, a whole expression node at a time
/// (each selector walks each series once, with two pointers, across all steps).
struct Evaluator {
    let series: [Series]
    /// The evaluation times, milliseconds, ascending.
    let steps: [Int64]
    let lookback: Int64
    let deadline: Deadline

    func evaluate(_ expression: Expression) throws(PromQLError) -> StepValue {
        switch expression {
        case .number(let n):
            return .scalar(Array(repeating: n, count: steps.count))
        case .selector(let s):
            return .vector(try instant(s))
        case .range:
            throw PromQLError(.badData, "invalid expression type \"range vector\" for range query, must be scalar or instant vector")
        case .rangeFunction(let function, let parameter, let s, let range):
            let phi = try parameter.map { e throws(PromQLError) in try scalar(e) } ?? Array(repeating: 0, count: steps.count)
            return .vector(try rangeFunction(function, phi, s, range))
        case .aggregation(let op, let parameter, let grouping, let operand):
            guard case .vector(let input) = try evaluate(operand) else {
                throw PromQLError(.badData, "expected an instant vector in aggregation \(op.rawValue)")
            }
            let k = try parameter.map { e throws(PromQLError) in try scalar(e) } ?? []
            return .vector(Aggregator(op: op, grouping: grouping, steps: steps.count).apply(input, parameter: k))
        case .binary(let op, let l, let r, let returnsBool):
            return try binary(op, try evaluate(l), try evaluate(r), returnsBool: returnsBool)
        case .negation(let e):
            switch try evaluate(e) {
            case .scalar(let v): return .scalar(v.map { -$0 })
            case .vector(let v): return .vector(v.map { StepSeries(labels: $0.labels.droppingName, values: $0.values.map { $0.map { -$0 } }) })
            }
        }
    }

    private func scalar(_ e: Expression) throws(PromQLError) -> [Double] {
        guard case .scalar(let v) = try evaluate(e) else { throw PromQLError(.badData, "expected a scalar parameter") }
        return v
    }

    /// The latest sample within the lookback delta, `(t − lookback, t]`, at each step.
    private func instant(_ s: VectorSelector) throws(PromQLError) -> [StepSeries] {
        var out: [StepSeries] = []
        for series in self.series where s.selector.matches(series.labels) {
            try deadline.check()
            var values = [Double?](repeating: nil, count: steps.count)
            var next = 0
            var any = false
            for (i, step) in steps.enumerated() {
                let t = step - s.offsetMilliseconds
                while next < series.timestamps.count, series.timestamps[next] <= t { next += 1 }
                if next > 0, series.timestamps[next - 1] > t - lookback {
                    values[i] = series.values[next - 1]
                    any = true
                }
            }
            if any { out.append(StepSeries(labels: series.labels, values: values)) }
        }
        return out
    }

    /// A range function over `(t − range, t]` at each step.
    private func rangeFunction(_ f: RangeFunction, _ phi: [Double], _ s: VectorSelector, _ range: Int64) throws(PromQLError) -> [StepSeries] {
        var out: [StepSeries] = []
        for series in self.series where s.selector.matches(series.labels) {
            try deadline.check()
            var values = [Double?](repeating: nil, count: steps.count)
            var lower = 0
            var upper = 0
            var any = false
            let ts = series.timestamps
            for (i, step) in steps.enumerated() {
                let end = step - s.offsetMilliseconds
                let begin = end - range
                while upper < ts.count, ts[upper] <= end { upper += 1 }
                while lower < upper, ts[lower] <= begin { lower += 1 }
                let window = Window(timestamps: ts, values: series.values, lower: lower, upper: upper, begin: begin, end: end)
                if let v = f.apply(window, parameter: phi[i]) {
                    values[i] = v
                    any = true
                }
            }
            if any { out.append(StepSeries(labels: series.labels.droppingName, values: values)) }
        }
        return out
    }

    private func binary(_ op: BinaryOperator, _ l: StepValue, _ r: StepValue, returnsBool: Bool) throws(PromQLError) -> StepValue {
        switch (l, r) {
        case (.scalar(let a), .scalar(let b)):
            return .scalar(zip(a, b).map { x, y in
                let v = op.apply(x, y)
                return op.isComparison ? (v == nil ? 0 : 1) : v ?? .nan
            })
        case (.vector(let v), .scalar(let s)):
            return .vector(Self.vectorScalar(op, v, s, vectorOnLeft: true, returnsBool: returnsBool))
        case (.scalar(let s), .vector(let v)):
            return .vector(Self.vectorScalar(op, v, s, vectorOnLeft: false, returnsBool: returnsBool))
        case (.vector, .vector):
            throw PromQLError(.badData, "binary operations between two vectors (vector matching) are not supported")
        }
    }

    /// An operator between each series and the scalar at the same step: arithmetic drops the
    /// metric name; a comparison keeps the vector's value where it holds (or gives 1/0 with
    /// `bool`, without the name).
    private static func vectorScalar(
        _ op: BinaryOperator, _ vector: [StepSeries], _ scalar: [Double], vectorOnLeft: Bool, returnsBool: Bool
    ) -> [StepSeries] {
        let dropName = !op.isComparison || returnsBool
        var out: [StepSeries] = []
        for s in vector {
            var any = false
            let values: [Double?] = s.values.enumerated().map { i, value in
                guard let value else { return nil }
                let (a, b) = vectorOnLeft ? (value, scalar[i]) : (scalar[i], value)
                let result = op.apply(a, b)
                let v: Double?
                if op.isComparison {
                    v = returnsBool ? (result == nil ? 0 : 1) : (result == nil ? nil : value)
                } else {
                    v = result
                }
                if v != nil { any = true }
                return v
            }
            if any { out.append(StepSeries(labels: dropName ? s.labels.droppingName : s.labels, values: values)) }
        }
        return out
    }
}
