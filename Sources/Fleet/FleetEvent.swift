import Platform
import WAL
public import Wire

/// Something a simulated daemon did with a task or a configuration document, stamped with the
/// wall clock.
///
/// Each ``SimulatedDaemon`` appends to its own log (``SimulatedDaemon/events``) in the order it
/// did things; ``Fleet/events`` merges the logs of all daemons by time.
public struct FleetEvent: Sendable, Equatable {
    /// Why a task stopped running.
    public enum StopReason: Sendable, Equatable {
        /// TASK_CONTROL `suspend`.
        case suspended
        /// TASK_CONTROL `terminate`.
        case terminated
        /// ``SimulatedDaemon/kill()``.
        case killed
        /// The node closed the connection (or it broke); a simulated daemon does not reconnect.
        case disconnected
    }

    /// What happened.
    public enum Kind: Sendable, Equatable {
        /// TASK_ASSIGN arrived and the task started running from `checkpoint` (as received).
        case assigned(task: String, epoch: UInt64, checkpoint: [String: String])
        /// The task stopped running at this epoch.
        case stopped(task: String, epoch: UInt64, why: StopReason)
        /// A CONFIG_STATUS was sent for this configuration version: `applying`, then `applied`
        /// or `failed`.
        case config(name: String, version: UInt64, hash: String, state: ConfigApplyState)
        /// TASK_CONTROL `revoke`: the task stopped silently.
        case revoked(task: String, epoch: UInt64)
    }

    /// The daemon the event belongs to.
    public var daemonID: String
    /// Wall-clock time, nanoseconds since the Unix epoch (``WallClock/nanoseconds()``).
    public var wallNanoseconds: Int64
    public var kind: Kind

    public init(daemonID: String, wallNanoseconds: Int64, kind: Kind) {
        self.daemonID = daemonID
        self.wallNanoseconds = wallNanoseconds
        self.kind = kind
    }
}

/// A task assignment as a simulated daemon received it.
public struct ReceivedAssignment: Sendable, Equatable {
    public var taskID: String
    public var epoch: UInt64
    /// The producer id the task's BATCHes carry at this epoch.
    public var producerID: UInt64
    public var kind: String
    public var stream: String
    /// The checkpoint the node sent (where the daemon resumes); empty = from the start.
    public var checkpoint: [String: String]
    public var leaseMilliseconds: UInt32
    /// When it arrived, wall-clock nanoseconds since the Unix epoch.
    public var receivedAtNanoseconds: Int64

    public init(_ assignment: TaskAssignment, receivedAtNanoseconds: Int64) {
        taskID = assignment.taskID
        epoch = assignment.epoch
        producerID = assignment.producerID
        kind = assignment.kind
        stream = assignment.stream
        checkpoint = assignment.checkpoint
        leaseMilliseconds = assignment.leaseMilliseconds
        self.receivedAtNanoseconds = receivedAtNanoseconds
    }
}

/// The configuration version a simulated daemon last applied under one name (content is not
/// kept, to keep daemons small).
public struct AppliedConfig: Sendable, Equatable {
    public var name: String
    public var version: UInt64
    /// The pushed `sha256:…` hash, echoed in CONFIG_STATUS.
    public var hash: String
    public var format: String
    /// Bytes of content that were pushed.
    public var contentBytes: Int

    public init(name: String, version: UInt64, hash: String, format: String, contentBytes: Int) {
        self.name = name
        self.version = version
        self.hash = hash
        self.format = format
        self.contentBytes = contentBytes
    }
}


/// Why a simulated daemon could not do what it was asked.
public struct FleetError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure; new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case refused, connectionClosed, timeout, notConnected, killed, taskNotRunning, invalidArgument, protocolViolation
        }

        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The node answered HELLO with ERROR (``FleetError/nodeErrorCode`` says which).
        public static let refused = Code(.refused)
        /// The connection ended before the answer came.
        public static let connectionClosed = Code(.connectionClosed)
        /// No answer in time.
        public static let timeout = Code(.timeout)
        /// The daemon has not received HELLO_OK (yet).
        public static let notConnected = Code(.notConnected)
        /// The daemon was killed.
        public static let killed = Code(.killed)
        /// Task data for a task the daemon does not run.
        public static let taskNotRunning = Code(.taskNotRunning)
        /// No records, too many, or a frame larger than the node accepts.
        public static let invalidArgument = Code(.invalidArgument)
        /// The node sent a frame the daemon cannot decode or did not expect.
        public static let protocolViolation = Code(.protocolViolation)

        public var description: String { "\(wrapped)" }
    }

    public var code: Code
    public var message: String
    /// The ERROR code the node sent, for ``Code/refused`` (and when a connection ended with one).
    public var nodeErrorCode: UInt16?

    public init(_ code: Code, _ message: String, nodeErrorCode: UInt16? = nil) {
        self.code = code
        self.message = message
        self.nodeErrorCode = nodeErrorCode
    }

    public var description: String {
        "FleetError.\(code): \(message)" + (nodeErrorCode.map { " (node ERROR \($0))" } ?? "")
    }
}

extension FleetEvent {
    /// Every time a task was assigned to a daemon while another daemon still ran it, read from
    /// a time-ordered log (``Fleet/events``); empty when no task ever ran twice at once.
    public static func concurrentRuns(in events: [FleetEvent]) -> [String] {
        var holder: [String: String] = [:]
        var found: [String] = []
        for event in events {
            switch event.kind {
            case .assigned(let task, let epoch, _):
                if let current = holder[task], current != event.daemonID {
                    found.append("\(task) epoch \(epoch) on \(event.daemonID) while \(current) ran it")
                }
                holder[task] = event.daemonID
            case .stopped(let task, _, _), .revoked(let task, _):
                if holder[task] == event.daemonID { holder[task] = nil }
            case .config:
                break
            }
        }
        return found
    }
}
