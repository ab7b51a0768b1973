import Glibc

/// A value guarded by a mutex with a condition variable on the monotonic clock: the blocking
/// wait that ``WorkerThread`` needs and `Synchronization.Mutex` does not offer.
///
/// The one owner of its pthread objects, destroyed in `deinit`. Thread-safe: the value is only
/// reached through ``withLock(_:)`` and ``withLock(waitingUntil:deadline:_:)``.
@safe final class ConditionLock<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        unsafe mutex = .allocate(capacity: 1)
        unsafe condition = .allocate(capacity: 1)
        unsafe pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        unsafe pthread_condattr_init(&attributes)
        unsafe pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        unsafe pthread_cond_init(condition, &attributes)
        unsafe pthread_condattr_destroy(&attributes)
    }

    deinit {
        unsafe pthread_cond_destroy(condition)
        unsafe pthread_mutex_destroy(mutex)
        unsafe condition.deallocate()
        unsafe mutex.deallocate()
    }

    /// Runs `body` with the value, holding the mutex.
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        unsafe pthread_mutex_lock(mutex)
        defer { unsafe pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Waits (releasing the mutex while it sleeps) until `ready` holds or the monotonic clock
    /// reads `deadline` nanoseconds (`nil`: no deadline), then runs `body` holding the mutex.
    /// `body`'s second argument says whether `ready` held.
    func withLock<R>(
        waitingUntil ready: (Value) -> Bool, deadline: Int64?, _ body: (inout Value, Bool) throws -> R
    ) rethrows -> R {
        unsafe pthread_mutex_lock(mutex)
        defer { unsafe pthread_mutex_unlock(mutex) }
        var satisfied = ready(value)
        while !satisfied {
            if let deadline {
                var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                let timedOut = unsafe pthread_cond_timedwait(condition, mutex, &ts) == ETIMEDOUT
                satisfied = ready(value)
                if timedOut { break }
            } else {
                unsafe pthread_cond_wait(condition, mutex)
                satisfied = ready(value)
            }
        }
        return try body(&value, satisfied)
    }

    /// Wakes one waiter.
    func signal() { unsafe pthread_cond_signal(condition) }

    /// Wakes every waiter.
    func broadcast() { unsafe pthread_cond_broadcast(condition) }
}
