import Platform

/// One series as queries see it: its labels and its samples in time order.
public struct Series: Sendable {
    public var labels: Labels
    /// Milliseconds since the Unix epoch, strictly increasing.
    public var timestamps: [Int64]
    /// The value at each timestamp.
    public var values: [Double]

    public init(labels: Labels, timestamps: [Int64] = [], values: [Double] = []) {
        self.labels = labels
        self.timestamps = timestamps
        self.values = values
    }

    /// Sorts the samples by time (stable) and keeps the last of several at one millisecond:
    /// samples read from several shards, or sent late, may come out of order.
    mutating func normalize() {
        var sorted = true
        for i in timestamps.indices.dropFirst() where timestamps[i] <= timestamps[i - 1] {
            sorted = false
            break
        }
        if sorted { return }
        let order = timestamps.indices.sorted { (timestamps[$0], $0) < (timestamps[$1], $1) }
        var t: [Int64] = []
        var v: [Double] = []
        t.reserveCapacity(order.count)
        v.reserveCapacity(order.count)
        for i in order {
            if let last = t.last, last == timestamps[i] {
                v[v.count - 1] = values[i]
            } else {
                t.append(timestamps[i])
                v.append(values[i])
            }
        }
        timestamps = t
        values = v
    }
}

/// The limits one query runs under.
public struct QueryLimits: Sendable {
    /// Most samples a query may load from the WAL (and return); past it the query fails with
    /// an `execution` error. Prometheus' default (`--query.max-samples`).
    public var maxSamples = 50_000_000
    /// Longest a query may run; past it the query fails with a `timeout` error.
    public var timeout: Duration = .seconds(120)
    /// How far back an instant vector selector looks for a sample (Prometheus' default).
    public var lookbackMilliseconds: Int64 = 300_000

    public init(maxSamples: Int = 50_000_000, timeout: Duration = .seconds(120), lookbackMilliseconds: Int64 = 300_000) {
        self.maxSamples = maxSamples
        self.timeout = timeout
        self.lookbackMilliseconds = lookbackMilliseconds
    }
}

/// A point in monotonic time past which a query gives up.
struct Deadline: Sendable {
    let nanoseconds: Int64
    let timeout: Duration

    init(_ timeout: Duration, now: Int64 = MonotonicClock.nanoseconds()) {
        self.timeout = timeout
        nanoseconds = now &+ timeout.clampedNanoseconds
    }

    /// Throws the `timeout` error once the deadline has passed.
    func check() throws(PromQLError) {
        if MonotonicClock.nanoseconds() > nanoseconds {
            throw PromQLError(.timeout, "query timed out in expression evaluation (limit \(timeout))")
        }
    }
}
