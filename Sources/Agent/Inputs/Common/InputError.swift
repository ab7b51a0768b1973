public import Platform

/// Why a reader cannot start or go on: what failed, the path or command concerned, and the
/// error underneath (a ``Platform/SystemError`` keeps the `errno`).
///
/// The description reads as one sentence a user can act on, e.g.
/// `cannot open a followed file (/var/log/app/app.log): Permission denied (errno 13)`.
/// `Code` is extensible: new codes can be added without breaking callers.
public struct InputError: Error, Sendable, CustomStringConvertible, ErrorWithCause {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case invalidParameter, invalidCheckpoint, fileAccess, commandNotFound, commandFailed, journalUnavailable, bindFailed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A task parameter or option cannot be used (a bad pattern, a value out of range).
        public static let invalidParameter = Code(.invalidParameter)
        /// A checkpoint entry cannot be read.
        public static let invalidCheckpoint = Code(.invalidCheckpoint)
        /// A file or directory cannot be read (permission denied, I/O error).
        public static let fileAccess = Code(.fileAccess)
        /// The program to run is not on the search path, or not executable.
        public static let commandNotFound = Code(.commandNotFound)
        /// A child process could not be started, or (journalctl) ended on its own.
        public static let commandFailed = Code(.commandFailed)
        /// The host has no systemd journal to read.
        public static let journalUnavailable = Code(.journalUnavailable)
        /// A `listen` task cannot bind its address and port (in use, not an address of this
        /// host, a privileged port).
        public static let bindFailed = Code(.bindFailed)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, for a person.
    public var message: String
    /// The path, parameter or command concerned, if any.
    public var subject: String?
    /// The error underneath, if any.
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, subject: String? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.subject = subject
        self.cause = cause
    }

    /// `message (subject): cause`.
    public var description: String {
        var text = message
        if let subject { text += " (\(subject))" }
        if let cause { text += ": \(cause)" }
        return text
    }
}
