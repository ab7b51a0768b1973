import Glibc

/// The process's limit on open file descriptors (`RLIMIT_NOFILE`).
///
/// A node holds one descriptor per connection (10,000 by default) plus its segments, so it
/// raises the soft limit to the hard one at start, as servers commonly do; so does a client
/// process that simulates thousands of daemons.
public enum FileLimit {
    /// Raises the soft limit to the hard limit.
    /// - Returns: the soft limit before and after (equal when nothing changed or it failed).
    @discardableResult
    public static func raiseToHard() -> (before: Int, after: Int) {
        var limit = rlimit()
        guard unsafe getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (0, 0) }
        let before = Int(limit.rlim_cur)
        guard limit.rlim_cur < limit.rlim_max else { return (before, before) }
        limit.rlim_cur = limit.rlim_max
        guard unsafe setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (before, before) }
        return (before, Int(limit.rlim_max))
    }
}
