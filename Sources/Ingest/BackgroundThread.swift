import CShims
import Glibc
import Synchronization

/// A dedicated OS thread for blocking work (msync, fsync) that must not sit on a shared
/// executor: the WAL's shard writers and flusher, and the control plane's loop.
public final class BackgroundThread: Sendable {
    private let handle: Mutex<pthread_t?>

    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    /// Starts `body` on a new thread named `name` (15 bytes are kept: top -H, perf and
    /// /proc/PID/task show it).
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let box = unsafe Unmanaged.passRetained(Box {
            unsafe hy_thread_set_name(name)
            body()
        }).toOpaque()
        var thread = pthread_t()
        let r = unsafe pthread_create(&thread, nil, { arg in
            let box = unsafe Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        precondition(r == 0, "cannot start thread \(name): error \(r)")
        handle = Mutex(thread)
    }

    /// Waits for the thread to finish; returns at once on later calls.
    public func join() {
        guard let thread = handle.withLock({ h -> pthread_t? in defer { h = nil }; return h }) else { return }
        _ = pthread_join(thread, nil)
    }
}
