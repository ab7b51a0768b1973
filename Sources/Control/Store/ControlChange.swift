/// One change to a ``ControlStore``.
///
/// Keys are UTF-8 strings such as `"tasks/t-12"`, `"ckpt/t-12"`, `"configs/app/3"` or
/// `"rollouts/r-2"`; values are opaque bytes. A ``ControlStore/commit(_:)`` applies its changes
/// in order, so `[.put(key: "a", value: v), .delete(key: "a")]` leaves no `"a"`.
///
/// Limits (see ``ControlStoreLimits``): a key or prefix is at most 1 KiB of UTF-8, a value at
/// most 16 MiB, and the encoded commit at most 64 MiB. Keys of ``put(key:value:)`` and
/// ``delete(key:)`` must not be empty.
public enum ControlChange: Sendable, Equatable {
    /// Sets `key` to `value`, replacing any earlier value.
    case put(key: String, value: [UInt8])
    /// Removes `key`; nothing happens when it is absent.
    case delete(key: String)
    /// Removes every key whose UTF-8 bytes start with the prefix's (`""` removes everything).
    case deletePrefix(String)
}

extension Dictionary where Key == String, Value == [UInt8] {
    /// Applies `changes` in order. The changes must already be validated.
    mutating func apply(_ changes: [ControlChange]) {
        for change in changes {
            switch change {
            case .put(let key, let value):
                self[key] = value
            case .delete(let key):
                removeValue(forKey: key)
            case .deletePrefix(let prefix):
                if prefix.isEmpty {
                    removeAll()
                } else {
                    let doomed = keys.filter { $0.utf8.starts(with: prefix.utf8) }
                    for key in doomed { removeValue(forKey: key) }
                }
            }
        }
    }

    /// Every key under `prefix` (byte-wise), sorted by UTF-8 bytes.
    func sortedValues(under prefix: String) -> [(key: String, value: [UInt8])] {
        var matches: [(key: String, value: [UInt8])] = []
        for (key, value) in self where key.utf8.starts(with: prefix.utf8) {
            matches.append((key, value))
        }
        matches.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return matches
    }
}
