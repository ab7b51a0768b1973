public import NIOCore

// The control plane's frames of the native protocol (docs/protocol.md, section 5.9): the node
// assigns tasks and pushes configuration; the daemon reports back. Each type encodes its body
// (after the type byte) and decodes it back; `decode` rejects short bodies, trailing bytes and
// strings that are not UTF-8, like every other native frame.

/// Producer ids with the top bit set carry a task's data and are fenced by the task's lease
/// (docs/protocol.md, section 5.9.6).
public enum TaskProducerID {
    /// The bit that marks a producer id as belonging to a task.
    public static let taskBit: UInt64 = 1 << 63

    /// The producer id of a task's data at one epoch: top bit, 39 bits of the task's serial
    /// number, 24 bits of the epoch.
    public static func make(serial: UInt64, epoch: UInt64) -> UInt64 {
        taskBit | (serial & 0x7F_FFFF_FFFF) << 24 | (epoch & 0xFF_FFFF)
    }

    /// The (serial, low 24 bits of epoch) a task producer id carries; `nil` for other ids.
    public static func parse(_ producerID: UInt64) -> (serial: UInt64, epoch: UInt64)? {
        guard producerID & taskBit != 0 else { return nil }
        return ((producerID >> 24) & 0x7F_FFFF_FFFF, producerID & 0xFF_FFFF)
    }
}

/// TASK_ASSIGN (0x11, node → daemon): run this task under a lease, from this checkpoint.
public struct TaskAssignment: Sendable, Equatable {
    public var taskID: String
    /// The lease epoch; grows by one at every new assignment of the task.
    public var epoch: UInt64
    /// How long the lease lasts without a renewal (a HEARTBEAT of the holder renews it).
    public var leaseMilliseconds: UInt32
    /// The producer id the daemon must use for the task's BATCHes at this epoch.
    public var producerID: UInt64
    /// `tail`, `exec`, `hostmetrics` or `listen` (docs/control.md).
    public var kind: String
    /// The stream the task's records go to (the `stream` label of each record).
    public var stream: String
    /// Kind-specific parameters, e.g. `path` for `tail`.
    public var parameters: [String: String]
    /// Where to resume; empty means from the start. Opaque to the node.
    public var checkpoint: [String: String]

    public init(
        taskID: String, epoch: UInt64, leaseMilliseconds: UInt32, producerID: UInt64, kind: String, stream: String,
        parameters: [String: String] = [:], checkpoint: [String: String] = [:]
    ) {
        self.taskID = taskID
        self.epoch = epoch
        self.leaseMilliseconds = leaseMilliseconds
        self.producerID = producerID
        self.kind = kind
        self.stream = stream
        self.parameters = parameters
        self.checkpoint = checkpoint
    }
}

/// What TASK_CONTROL asks of the holder.
public enum TaskControlAction: UInt8, Sendable {
    /// Stop running and keep the checkpoint; answer TASK_STATUS `suspended`.
    case suspend = 1
    /// Stop running for good; answer TASK_STATUS `terminated`.
    case terminate = 2
    /// The daemon does not hold this task (any more): stop at once, no answer expected.
    case revoke = 3
}

/// TASK_CONTROL (0x12, node → daemon).
public struct TaskControl: Sendable, Equatable {
    public var taskID: String
    public var epoch: UInt64
    public var action: TaskControlAction

    public init(taskID: String, epoch: UInt64, action: TaskControlAction) {
        self.taskID = taskID
        self.epoch = epoch
        self.action = action
    }
}

/// The state a daemon reports for a task it was assigned.
public enum TaskReportState: UInt8, Sendable {
    case running = 1
    case suspended = 2
    case terminated = 3
    case failed = 4
}

/// TASK_STATUS (0x21, daemon → node): progress (checkpoint) or an acknowledgement.
public struct TaskStatus: Sendable, Equatable {
    public var taskID: String
    public var epoch: UInt64
    public var state: TaskReportState
    public var checkpoint: [String: String]
    public var message: String

    public init(taskID: String, epoch: UInt64, state: TaskReportState, checkpoint: [String: String] = [:], message: String = "") {
        self.taskID = taskID
        self.epoch = epoch
        self.state = state
        self.checkpoint = checkpoint
        self.message = message
    }
}

/// CONFIG_PUSH (0x10, node → daemon): apply this version of a configuration document.
public struct ConfigPush: Sendable, Equatable {
    public var name: String
    public var version: UInt64
    /// `sha256:` and 64 hex digits of the content.
    public var hash: String
    /// `yaml` or `json`.
    public var format: String
    public var content: [UInt8]

    public init(name: String, version: UInt64, hash: String, format: String, content: [UInt8]) {
        self.name = name
        self.version = version
        self.hash = hash
        self.format = format
        self.content = content
    }
}

/// Where a daemon is with a configuration version (as in OpAMP's RemoteConfigStatus).
public enum ConfigApplyState: UInt8, Sendable {
    case applying = 1
    case applied = 2
    case failed = 3
}

/// CONFIG_STATUS (0x20, daemon → node).
public struct ConfigStatus: Sendable, Equatable {
    public var name: String
    public var version: UInt64
    public var hash: String
    public var state: ConfigApplyState
    public var message: String

    public init(name: String, version: UInt64, hash: String, state: ConfigApplyState, message: String = "") {
        self.name = name
        self.version = version
        self.hash = hash
        self.state = state
        self.message = message
    }
}

/// A control frame from the node to a daemon.
public enum NodeControlMessage: Sendable, Equatable {
    case assign(TaskAssignment)
    case control(TaskControl)
    case config(ConfigPush)
}

/// A control frame from a daemon to the node.
public enum DaemonControlReport: Sendable, Equatable {
    case task(TaskStatus)
    case config(ConfigStatus)
}

// MARK: Encoding

extension NodeControlMessage {
    /// The whole frame (length, type, body).
    public func frame(allocator: ByteBufferAllocator) -> ByteBuffer {
        switch self {
        case .assign(let a):
            NativeFrames.frame(.taskAssign, allocator: allocator) {
                $0.writeNativeString(a.taskID)
                $0.writeInteger(a.epoch, endianness: .big)
                $0.writeInteger(a.leaseMilliseconds, endianness: .big)
                $0.writeInteger(a.producerID, endianness: .big)
                $0.writeNativeString(a.kind)
                $0.writeNativeString(a.stream)
                $0.writeNativePairs(a.parameters)
                $0.writeNativePairs(a.checkpoint)
            }
        case .control(let c):
            NativeFrames.frame(.taskControl, allocator: allocator) {
                $0.writeNativeString(c.taskID)
                $0.writeInteger(c.epoch, endianness: .big)
                $0.writeInteger(c.action.rawValue)
            }
        case .config(let p):
            NativeFrames.frame(.configPush, allocator: allocator) {
                $0.writeNativeString(p.name)
                $0.writeInteger(p.version, endianness: .big)
                $0.writeNativeString(p.hash)
                $0.writeNativeString(p.format)
                $0.writeInteger(UInt32(p.content.count), endianness: .big)
                $0.writeBytes(p.content)
            }
        }
    }

    /// Decodes a node → daemon control frame's body (after the type byte); `nil` for other types.
    public static func decode(type: UInt8, body: inout ByteBuffer) throws(NativeMalformed) -> NodeControlMessage? {
        let message: NodeControlMessage
        switch NativeFrameType(rawValue: type) {
        case .taskAssign?:
            message = .assign(TaskAssignment(
                taskID: try body.readNativeString("task_id", max: 128), epoch: try body.readNativeInteger(UInt64.self, "epoch"),
                leaseMilliseconds: try body.readNativeInteger(UInt32.self, "lease_ms"),
                producerID: try body.readNativeInteger(UInt64.self, "producer_id"), kind: try body.readNativeString("kind"),
                stream: try body.readNativeString("stream"), parameters: try body.readNativePairs("parameters"),
                checkpoint: try body.readNativePairs("checkpoint")))
        case .taskControl?:
            let id = try body.readNativeString("task_id", max: 128)
            let epoch = try body.readNativeInteger(UInt64.self, "epoch")
            guard let action = TaskControlAction(rawValue: try body.readNativeInteger(UInt8.self, "action")) else {
                throw NativeMalformed(what: "unknown TASK_CONTROL action")
            }
            message = .control(TaskControl(taskID: id, epoch: epoch, action: action))
        case .configPush?:
            let name = try body.readNativeString("name", max: 128)
            let version = try body.readNativeInteger(UInt64.self, "version")
            let hash = try body.readNativeString("hash")
            let format = try body.readNativeString("format")
            let length = Int(try body.readNativeInteger(UInt32.self, "content_length"))
            guard let content = body.readBytes(length: length) else { throw NativeMalformed(what: "content is truncated") }
            message = .config(ConfigPush(name: name, version: version, hash: hash, format: format, content: content))
        default:
            return nil
        }
        guard body.readableBytes == 0 else { throw NativeMalformed(what: "control frame has \(body.readableBytes) trailing bytes") }
        return message
    }
}

extension DaemonControlReport {
    /// The whole frame (length, type, body).
    public func frame(allocator: ByteBufferAllocator) -> ByteBuffer {
        switch self {
        case .task(let s):
            NativeFrames.frame(.taskStatus, allocator: allocator) {
                $0.writeNativeString(s.taskID)
                $0.writeInteger(s.epoch, endianness: .big)
                $0.writeInteger(s.state.rawValue)
                $0.writeNativePairs(s.checkpoint)
                $0.writeNativeString(s.message)
            }
        case .config(let s):
            NativeFrames.frame(.configStatus, allocator: allocator) {
                $0.writeNativeString(s.name)
                $0.writeInteger(s.version, endianness: .big)
                $0.writeNativeString(s.hash)
                $0.writeInteger(s.state.rawValue)
                $0.writeNativeString(s.message)
            }
        }
    }

    /// Decodes a daemon → node report's body (after the type byte); `nil` for other types.
    public static func decode(type: UInt8, body: inout ByteBuffer) throws(NativeMalformed) -> DaemonControlReport? {
        let report: DaemonControlReport
        switch NativeFrameType(rawValue: type) {
        case .taskStatus?:
            let id = try body.readNativeString("task_id", max: 128)
            let epoch = try body.readNativeInteger(UInt64.self, "epoch")
            guard let state = TaskReportState(rawValue: try body.readNativeInteger(UInt8.self, "state")) else {
                throw NativeMalformed(what: "unknown TASK_STATUS state")
            }
            report = .task(TaskStatus(
                taskID: id, epoch: epoch, state: state, checkpoint: try body.readNativePairs("checkpoint"),
                message: try body.readNativeString("message")))
        case .configStatus?:
            let name = try body.readNativeString("name", max: 128)
            let version = try body.readNativeInteger(UInt64.self, "version")
            let hash = try body.readNativeString("hash")
            guard let state = ConfigApplyState(rawValue: try body.readNativeInteger(UInt8.self, "state")) else {
                throw NativeMalformed(what: "unknown CONFIG_STATUS state")
            }
            report = .config(ConfigStatus(name: name, version: version, hash: hash, state: state, message: try body.readNativeString("message")))
        default:
            return nil
        }
        guard body.readableBytes == 0 else { throw NativeMalformed(what: "report has \(body.readableBytes) trailing bytes") }
        return report
    }
}

extension ByteBuffer {
    /// Writes `pairs`: a `u16` count, then each key and value as a `str`, sorted by key so the
    /// bytes do not depend on dictionary order. At most 65,535 pairs are written.
    public mutating func writeNativePairs(_ pairs: [String: String]) {
        let sorted = pairs.sorted { $0.key < $1.key }.prefix(65_535)
        writeInteger(UInt16(sorted.count), endianness: .big)
        for (key, value) in sorted {
            writeNativeString(key)
            writeNativeString(value)
        }
    }

    /// Reads `pairs`: a `u16` count, then that many `str` key and value. A repeated key keeps
    /// its last value.
    /// - Throws: ``NativeMalformed`` when a string is truncated or not UTF-8.
    public mutating func readNativePairs(_ what: @autoclosure () -> String) throws(NativeMalformed) -> [String: String] {
        let count = try readNativeInteger(UInt16.self, "\(what()) count")
        var pairs: [String: String] = [:]
        pairs.reserveCapacity(min(Int(count), readableBytes / 4))  // a pair takes 4 bytes at least
        for _ in 0 ..< count { pairs[try readNativeString("\(what()) key")] = try readNativeString("\(what()) value") }
        return pairs
    }
}
