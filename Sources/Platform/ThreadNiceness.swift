import CShims

/// The nice value of the calling thread: Linux schedules threads, and keeps one per thread.
public enum ThreadNiceness {
    /// Sets the calling thread's nice value (-20 … 19; raising it needs no privilege), so
    /// background work such as a query scan yields the CPU to the ingest threads.
    /// - Returns: whether the kernel took it.
    @discardableResult
    public static func set(_ nice: Int32) -> Bool {
        hy_thread_set_niceness(nice) == HY_OK
    }
}
