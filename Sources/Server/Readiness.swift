import Synchronization

/// Collects the bound address of every listener as the services report them, and calls
/// `onReady` once, as soon as every expected listener has reported. Thread-safe.
final class Readiness: Sendable {
    private let expected: Set<String>
    private let onReady: @Sendable ([String: String]) -> Void
    private let state = Mutex<(addresses: [String: String], announced: Bool)>(([:], false))

    init(expecting expected: Set<String>, onReady: @escaping @Sendable ([String: String]) -> Void) {
        self.expected = expected
        self.onReady = onReady
    }

    /// Records bound addresses (`name: "host:port"`); announces readiness once all are in.
    func report(_ addresses: [String: String]) {
        let ready = state.withLock { s -> [String: String]? in
            s.addresses.merge(addresses) { _, new in new }
            guard !s.announced, expected.isSubset(of: s.addresses.keys) else { return nil }
            s.announced = true
            return s.addresses
        }
        if let ready { onReady(ready) }
    }
}
