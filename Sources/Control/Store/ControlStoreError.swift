public import Platform

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
    /// The error underneath: a ``SystemError`` (with its `errno`) for I/O failures.
    public var cause: (any Error & Sendable)?

    /// An error about `path`.
    public init(_ code: Code, path: String, offset: Int? = nil, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.path = path
        self.offset = offset
        self.message = message
        self.cause = cause
    }

    /// An ``Code/io`` error for a failed system call on `path`.
    init(_ system: SystemError, path: String) {
        self.init(.io, path: system.path ?? path, system.message, cause: system)
    }

    /// `control store PATH[ at offset N]: message[: strerror (errno N)]`, or `: cause` for
    /// other causes.
    public var description: String {
        var text = "control store \(path)"
        if let offset { text += " at offset \(offset)" }
        text += ": \(message)"
        if let system = cause as? SystemError, system.message == message {
            if let errno = system.errno { text += ": " + SystemError.describe(errno: errno) }
        } else if let cause {
            text += ": \(cause)"
        }
        return text
    }
}

extension ControlStoreError: ErrorWithCause {}
