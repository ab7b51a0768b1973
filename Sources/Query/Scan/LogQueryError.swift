import WAL

/// Why a log query has no answer: the data directory, a limit, or the scan itself.
public struct LogQueryError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure; new codes may be added.
    public struct Code: Sendable, Equatable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The WAL could not be read (no WAL, an I/O error).
        public static let wal = Code("wal")
        /// The scan ran past its time limit.
        public static let timeLimit = Code("time limit")
        /// The answer would exceed its row or byte limit.
        public static let sizeLimit = Code("size limit")
        /// Stopped because another part of the scan failed.
        public static let stopped = Code("stopped")

        public var description: String { name }
    }

    public let code: Code
    /// A sentence naming what failed.
    public let message: String
    /// The error underneath, if any.
    public let cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// A WAL error as a query error.
    init(_ error: WALError) {
        self.init(.wal, "\(error)", cause: error)
    }

    public var description: String { message }
}
