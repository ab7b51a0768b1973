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

/// Sleeps the calling thread.
func sleepMilliseconds(_ ms: Int) {
    var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var remaining = timespec()
    while unsafe nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// Reads the monotonic clock.
enum Monotonic {
    static func nanoseconds() -> Int64 {
        var ts = timespec()
        unsafe clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
