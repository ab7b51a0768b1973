public import Histogram

/// Percentiles of a latency histogram in microseconds, as `hypha bench` reports them.
public struct LatencySummary: Codable, Sendable, Equatable {
    /// Number of values recorded (one per acknowledged batch).
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    /// The 99.9th percentile.
    public var p999: Double
    public var max: Double
    public var mean: Double

    public init(count: UInt64, p50: Double, p90: Double, p99: Double, p999: Double, max: Double, mean: Double) {
        self.count = count
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }

    /// Summarises a histogram whose values are microseconds.
    public init(_ h: Histogram<UInt64>) {
        guard h.totalCount > 0 else {
            self.init(count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0)
            return
        }
        self.init(
            count: h.totalCount, p50: Double(h.valueAtPercentile(50)), p90: Double(h.valueAtPercentile(90)),
            p99: Double(h.valueAtPercentile(99)), p999: Double(h.valueAtPercentile(99.9)), max: Double(h.max), mean: h.mean)
    }

    /// The bars of a latency plot: p50, p90, p99, p99.9 and max.
    public var bars: [(label: String, microseconds: Double)] {
        [("p50", p50), ("p90", p90), ("p99", p99), ("p99.9", p999), ("max", max)]
    }
}

/// The histogram `hypha bench` records acknowledgement latencies in: microseconds from 1 µs to
/// 10 minutes, three significant digits.
public enum LatencyHistogram {
    public static func make() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Records `nanoseconds` as whole microseconds (at least 1, at most the histogram's range).
    public static func record(_ nanoseconds: UInt64, in h: inout Histogram<UInt64>) {
        let us = Swift.max(1, Swift.min(nanoseconds / 1000, h.highestTrackableValue))
        _ = h.record(us)
    }
}
