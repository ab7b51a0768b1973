import CShims
import Glibc

/// A failed system call or file operation: what was attempted, on which path, the `errno` the
/// kernel gave, and (for errors raised on top of another) the underlying cause.
///
/// `Code` is extensible: new codes can be added without breaking callers that switch over the
/// ones they know. The description reads as one sentence a user can act on, for example
/// `cannot create segment (/data/wal/shard-0000/00000000000000000000.seg): No space left on device (errno 28)`,
/// followed by the chain of causes.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case io, busy, invalidArgument
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A system call failed; ``SystemError/errno`` says why.
        public static let io = Code(.io)
        /// A resource is held by another process (the data-directory lock).
        public static let busy = Code(.busy)
        /// An argument is out of range.
        public static let invalidArgument = Code(.invalidArgument)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What was attempted, for a person ("cannot open for writing").
    public var message: String
    /// The file or directory concerned, if any.
    public var path: String?
    /// The `errno` of the failed system call, if any.
    public var errno: Int32?
    /// The error this one was raised on top of, if any.
    public var cause: (any Error & Sendable)?

    /// An error of `code`; `errno` defaults to none.
    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
        self.cause = cause
    }

    /// An ``Code/io`` error carrying the calling thread's current `errno`.
    public static func lastError(_ message: String, path: String? = nil) -> SystemError {
        SystemError(.io, message, path: path, errno: hy_errno())
    }

    /// `message (path): strerror (errno N)`, then `: cause` for each cause.
    public var description: String {
        var text = message
        if let path { text += " (\(path))" }
        if let errno { text += ": " + Self.describe(errno: errno) }
        if let cause { text += ": \(cause)" }
        return text
    }

    /// The system's text for `code`, with the number: `No space left on device (errno 28)`.
    public static func describe(errno code: Int32) -> String {
        unsafe "\(String(cString: strerror(code))) (errno \(code))"
    }
}

extension Error {
    /// The first `errno` in this error's chain of causes, if any.
    public var systemErrno: Int32? {
        var current: (any Error)? = self
        while let error = current {
            if let system = error as? SystemError {
                if let errno = system.errno { return errno }
                current = system.cause
            } else if let caused = error as? any ErrorWithCause {
                current = caused.cause
            } else {
                return nil
            }
        }
        return nil
    }
}

/// An error that was raised on top of another one; its ``cause`` is followed by
/// ``Swift/Error/systemErrno``.
public protocol ErrorWithCause: Error {
    /// The underlying error, if any.
    var cause: (any Error & Sendable)? { get }
}

extension SystemError: ErrorWithCause {}
