/// A control-store failure: a change over a limit, an I/O error, or a damaged file.
///
/// The description names the store (directory or file), the byte offset when one applies and
/// the operating system's text for `errno`, for example
/// `control store /data/control/log-3 at offset 8192: record checksum mismatch and a valid record follows at offset 8310`.
public struct ControlStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Backing: String, Sendable, Hashable {
            case io, corrupt, limitExceeded, invalidChange, unusable
        }
        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// Opening, reading, writing, syncing, renaming or removing a file failed.
        public static let io = Code(.io)
        /// A snapshot, or a log record before the log's end, is damaged; nothing was dropped.
        public static let corrupt = Code(.corrupt)
        /// A key, value or commit is larger than ``ControlStoreLimits`` allows.
        public static let limitExceeded = Code(.limitExceeded)
        /// A change is malformed (an empty key).
        public static let invalidChange = Code(.invalidChange)
        /// An earlier failure left the store in a state only reopening can clear.
        public static let unusable = Code(.unusable)

        /// The code's name.
        public var description: String { backing.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// The store directory or the file concerned (`"memory"` for ``MemoryControlStore``).
    public var path: String
    /// The byte offset in ``path`` where the damage is, when one applies.
    public var offset: Int?
    /// Human-readable detail.
    public var message: String
    /// The `errno` of a failed system call.
    public var systemErrno: Int32?

    /// An error about `path`.
    public init(_ code: Code, path: String, offset: Int? = nil, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.path = path
        self.offset = offset
        self.message = message
        self.systemErrno = errno
    }

    /// `control store PATH[ at offset N]: message[: strerror (errno N)]`.
    public var description: String {
        var text = "control store \(path)"
        if let offset { text += " at offset \(offset)" }
        text += ": \(message)"
        if let systemErrno { text += ": \(errnoText(systemErrno)) (errno \(systemErrno))" }
        return text
    }
}
