/// The samples of one series inside one step's window, `(begin, end]` in milliseconds:
/// `timestamps[lower ..< upper]`.
struct Window {
    let timestamps: [Int64]
    let values: [Double]
    let lower: Int
    let upper: Int
    let begin: Int64
    let end: Int64

    var count: Int { upper - lower }
}

extension RangeFunction {
    /// The function's value over `window`, `nil` when it has none (too few samples).
    /// - Parameter parameter: φ for `quantile_over_time`.
    func apply(_ w: Window, parameter: Double) -> Double? {
        guard w.count > 0 else { return nil }
        switch self {
        case .rate: return Self.extrapolatedDelta(w, isRate: true)
        case .increase: return Self.extrapolatedDelta(w, isRate: false)
        case .countOverTime: return Double(w.count)
        case .sumOverTime: return w.values[w.lower ..< w.upper].reduce(0, +)
        case .avgOverTime: return w.values[w.lower ..< w.upper].reduce(0, +) / Double(w.count)
        case .minOverTime:
            return w.values[w.lower ..< w.upper].reduce(Double.nan) { $0.isNaN || $1 < $0 ? $1 : $0 }
        case .maxOverTime:
            return w.values[w.lower ..< w.upper].reduce(Double.nan) { $0.isNaN || $1 > $0 ? $1 : $0 }
        case .quantileOverTime: return Self.quantile(parameter, Array(w.values[w.lower ..< w.upper]))
        }
    }

    /// `rate` and `increase` as Prometheus computes them (its `extrapolatedRate`):
    ///
    /// 1. Needs two samples in the window. The raw increase is last − first, plus, for every
    ///    sample lower than the one before it (a counter reset), the value before the reset.
    /// 2. The increase is extrapolated from the first and last sample towards the window's
    ///    edges: by the whole gap to an edge when the gap is under 1.1 × the average interval
    ///    between samples, else by half an average interval. Towards the start, no further than
    ///    where the counter would have been zero (first value / slope).
    /// 3. `rate` divides the extrapolated increase by the window's length in seconds.
    static func extrapolatedDelta(_ w: Window, isRate: Bool) -> Double? {
        guard w.count >= 2 else { return nil }
        let firstValue = w.values[w.lower]
        let lastValue = w.values[w.upper - 1]
        var result = lastValue - firstValue
        var previous = firstValue
        for i in w.lower + 1 ..< w.upper {
            let v = w.values[i]
            if v < previous { result += previous }
            previous = v
        }
        let firstTime = w.timestamps[w.lower]
        let lastTime = w.timestamps[w.upper - 1]
        var durationToStart = Double(firstTime - w.begin) / 1000
        let durationToEnd = Double(w.end - lastTime) / 1000
        let sampledInterval = Double(lastTime - firstTime) / 1000
        let averageInterval = sampledInterval / Double(w.count - 1)
        if result > 0, firstValue >= 0 {
            let durationToZero = sampledInterval * (firstValue / result)
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        let threshold = averageInterval * 1.1
        var extrapolated = sampledInterval
        extrapolated += durationToStart < threshold ? durationToStart : averageInterval / 2
        extrapolated += durationToEnd < threshold ? durationToEnd : averageInterval / 2
        result *= extrapolated / sampledInterval
        if isRate { result /= Double(w.end - w.begin) / 1000 }
        return result
    }

    /// The φ-quantile of `values` by linear interpolation between closest ranks, as
    /// Prometheus' `quantile_over_time`: −Inf for φ < 0, +Inf for φ > 1, NaN for NaN.
    static func quantile(_ phi: Double, _ values: [Double]) -> Double {
        if phi.isNaN { return .nan }
        if phi < 0 { return -.infinity }
        if phi > 1 { return .infinity }
        let sorted = values.sorted()
        let rank = phi * Double(sorted.count - 1)
        let lower = max(0, Int(rank.rounded(.down)))
        let upper = min(sorted.count - 1, lower + 1)
        let weight = rank - rank.rounded(.down)
        return sorted[lower] * (1 - weight) + sorted[upper] * weight
    }
}
