import Platform

/// Reconnect delays: exponential from `minimum` to `maximum`, with full jitter in the upper half
/// (a delay is drawn between half and all of the exponential value), so a fleet that lost its
/// node does not reconnect in one wave. A pure value: the caller keeps it and draws from it.
struct Backoff: Sendable {
    let minimum: Duration
    let maximum: Duration
    private(set) var failures = 0

    init(minimum: Duration, maximum: Duration) {
        self.minimum = minimum
        self.maximum = max(minimum, maximum)
    }

    /// The delay before the next attempt, after one more failure.
    mutating func next<G: RandomNumberGenerator>(using generator: inout G) -> Duration {
        let ceiling = ceiling(after: failures)
        failures += 1
        let nanoseconds = ceiling.clampedNanoseconds
        return .nanoseconds(Int64.random(in: nanoseconds / 2 ... max(nanoseconds / 2, nanoseconds), using: &generator))
    }

    mutating func next() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    /// A connection worked: start again from `minimum`.
    mutating func reset() { failures = 0 }

    /// The exponential value after `failures` failures, capped at `maximum`.
    func ceiling(after failures: Int) -> Duration {
        var value = minimum
        for _ in 0 ..< min(failures, 40) {
            value = value * 2
            if value >= maximum { return maximum }
        }
        return min(value, maximum)
    }
}
