import Glibc

/// Reads the real-time clock.
public enum WallClock {
    /// Nanoseconds since the Unix epoch.
    public static func nanoseconds() -> Int64 {
        var ts = timespec()
        unsafe clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// Reads the monotonic clock (never jumps; for durations and deadlines).
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary point (boot).
    public static func nanoseconds() -> Int64 {
        var ts = timespec()
        unsafe clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`.
    public var clampedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflow2 ? (seconds < 0 ? .min : .max) : total
    }
}
