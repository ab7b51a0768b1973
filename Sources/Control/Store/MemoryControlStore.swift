/// A ``ControlStore`` that keeps everything in memory, for tests and dry runs.
///
/// It enforces the same ``ControlStoreLimits`` and applies changes with the same rules as
/// ``FileControlStore``, so code tested against it behaves the same on disk.
public final class MemoryControlStore: ControlStore {
    /// Every key and value as of the last commit.
    public private(set) var contents: [String: [UInt8]]

    /// Always 0.
    public var diskBytes: Int { 0 }

    /// A store holding `contents` (empty by default).
    public init(contents: [String: [UInt8]] = [:]) {
        self.contents = contents
    }

    /// Validates all changes, then applies them; on an error nothing changes.
    public func commit(_ changes: [ControlChange]) throws(ControlStoreError) {
        _ = try ControlStoreLimits.validatedBodySize(changes, path: "memory")
        contents.apply(changes)
    }
}

/// Not thread-safe: confine to the control loop, hand over with `sending`.
@available(*, unavailable)
extension MemoryControlStore: Sendable {}
