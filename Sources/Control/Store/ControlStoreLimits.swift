/// The bounds every ``ControlStore`` enforces, so that no single commit can exhaust memory or
/// make recovery slow. A change over a limit fails the whole commit with
/// ``ControlStoreError/Code/limitExceeded``.
public enum ControlStoreLimits {
    /// Largest key or prefix, in UTF-8 bytes: 1 KiB.
    public static let maxKeyBytes = 1 << 10
    /// Largest value: 16 MiB.
    public static let maxValueBytes = 16 << 20
    /// Largest encoded commit (a log record including its 8-byte frame header): 64 MiB.
    public static let maxRecordBytes = 64 << 20

    /// Checks every change and returns the size of the encoded record body.
    /// - Parameter path: names the store in errors.
    static func validatedBodySize(_ changes: [ControlChange], path: String) throws(ControlStoreError) -> Int {
        var size = 4
        for (index, change) in changes.enumerated() {
            let key: String
            var valueBytes = 0
            switch change {
            case .put(let k, let value):
                key = k
                valueBytes = value.count
            case .delete(let k):
                key = k
            case .deletePrefix(let prefix):
                key = prefix
            }
            let keyBytes = key.utf8.count
            if keyBytes == 0, !isPrefix(change) {
                throw ControlStoreError(.invalidChange, path: path, "change \(index) (\(name(change))) has an empty key")
            }
            guard keyBytes <= maxKeyBytes else {
                throw ControlStoreError(
                    .limitExceeded, path: path,
                    "change \(index) (\(name(change)) \"\(key.prefix(40))…\"): key of \(keyBytes) bytes exceeds the limit of \(maxKeyBytes) bytes")
            }
            guard valueBytes <= maxValueBytes else {
                throw ControlStoreError(
                    .limitExceeded, path: path,
                    "change \(index) (put \"\(key.prefix(80))\"): value of \(valueBytes) bytes exceeds the limit of \(maxValueBytes) bytes (16 MiB)")
            }
            size += 9 + keyBytes + valueBytes
            guard size + 8 <= maxRecordBytes else {
                throw ControlStoreError(
                    .limitExceeded, path: path,
                    "commit of \(changes.count) changes exceeds the record limit of \(maxRecordBytes) bytes (64 MiB) at change \(index); split it")
            }
        }
        return size
    }

    private static func isPrefix(_ change: ControlChange) -> Bool {
        if case .deletePrefix = change { return true }
        return false
    }

    private static func name(_ change: ControlChange) -> String {
        switch change {
        case .put: "put"
        case .delete: "delete"
        case .deletePrefix: "deletePrefix"
        }
    }
}
