/// The durable key-value state of the control plane: tasks, leases with their epochs,
/// checkpoints, configuration versions and rollout progress.
///
/// Every backend (``FileControlStore`` today, etcd later, ``MemoryControlStore`` for tests)
/// sits behind this one protocol. A store is used from one thread, the control loop:
/// implementations need not be thread-safe. They are not `Sendable`; hand one to the loop
/// with `sending` (or keep it inside a `Mutex`), never share it.
///
/// ```swift
/// let store = try FileControlStore(directory: "\(data)/control")
/// try store.commit([.put(key: "tasks/t-12", value: taskBytes), .delete(key: "leases/t-9")])
/// for (key, value) in store.values(under: "tasks/") { … }
/// ```
public protocol ControlStore: AnyObject {
    /// Every key and value as of the last successful commit, loaded at open.
    var contents: [String: [UInt8]] { get }

    /// Applies the changes atomically (all or none survive a crash) and durably (synced to disk
    /// before returning).
    ///
    /// An empty array is a no-op.
    /// - Throws: ``ControlStoreError`` when a change breaks a limit (``ControlStoreLimits``) or
    ///   on I/O failure; ``contents`` then stay as before.
    func commit(_ changes: [ControlChange]) throws(ControlStoreError)

    /// Values of every key under `prefix` (compared as UTF-8 bytes), sorted by key bytes.
    /// - Complexity: O(*n* + *m* log *m*) for *n* keys in the store and *m* matches.
    func values(under prefix: String) -> [(key: String, value: [UInt8])]

    /// Bytes the store occupies on disk (0 in memory).
    var diskBytes: Int { get }
}

extension ControlStore {
    /// Values of every key under `prefix`, sorted by key bytes, from ``contents``.
    public func values(under prefix: String) -> [(key: String, value: [UInt8])] {
        contents.sortedValues(under: prefix)
    }
}
