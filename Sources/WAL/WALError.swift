public import Platform

/// An error from the write-ahead log: what went wrong, where, and the system error underneath
/// (whose `errno` is kept: ``Swift/Error/systemErrno``).
///
/// `Code` is extensible: new codes can be added without breaking callers that switch over
/// the ones they know.
public struct WALError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case io, shardCountMismatch, corruptMetadata, batchTooLarge, codec, invalidArgument, closed, shardStopped
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A system call failed (`errno` is in the message).
        public static let io = Code(.io)
        /// The data directory was created with another shard count.
        public static let shardCountMismatch = Code(.shardCountMismatch)
        /// The data directory's metadata file cannot be read.
        public static let corruptMetadata = Code(.corruptMetadata)
        /// A batch does not fit in one segment or exceeds the format's limit.
        public static let batchTooLarge = Code(.batchTooLarge)
        /// Compression or decompression failed.
        public static let codec = Code(.codec)
        /// An argument is out of range.
        public static let invalidArgument = Code(.invalidArgument)
        /// The log was closed.
        public static let closed = Code(.closed)
        /// A sync of the shard failed earlier; the shard accepts and acknowledges nothing more
        /// until the node restarts (``ShardLog/failure``).
        public static let shardStopped = Code(.shardStopped)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What happened, for a person.
    public var message: String
    /// The path involved, if any.
    public var path: String?
    /// The error underneath, if any (a ``SystemError`` with `errno` for I/O failures).
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, path: String? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.cause = cause
    }

    /// An ``Code/io`` error for a failed system call: the system error's message and path, and
    /// the system error itself as the cause.
    public init(_ system: SystemError) {
        self.init(.io, system.message, path: system.path, cause: system)
    }

    /// An ``Code/io`` error for the C call that just failed, with the calling thread's `errno`.
    static func lastError(_ message: String, path: String) -> WALError { WALError(.lastError(message, path: path)) }

    /// `message (path): cause`, or the system error's own text when this only wraps it.
    public var description: String {
        if let system = cause as? SystemError, system.message == message, system.path == path { return system.description }
        var text = message
        if let path { text += " (\(path))" }
        if let cause { text += ": \(cause)" }
        return text
    }
}

extension WALError: ErrorWithCause {}

/// Runs a file-system call, reporting its failure as a WAL I/O error (`errno` kept in the cause).
@inline(__always)
func io<T>(_ body: () throws(SystemError) -> T) throws(WALError) -> T {
    do { return try body() } catch { throw WALError(error) }
}
