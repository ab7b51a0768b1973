import Dispatch

/// Dispatch's semaphore, which is thread-safe, under a Sendable wrapper.
final class DispatchSemaphoreBox: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func wait() { semaphore.wait() }
    func signal() { semaphore.signal() }
}
