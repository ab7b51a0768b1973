public import NIOCore

/// Frame types of the native protocol (docs/protocol.md, section 3).
public enum NativeFrameType: UInt8, Sendable {
    case hello = 0x01
    case helloOK = 0x02
    case batch = 0x03
    case ack = 0x04
    case nack = 0x05
    case heartbeat = 0x06
    case heartbeatAck = 0x07
    /// Version 2 only, and only with the codec HELLO_OK named (docs/protocol.md, section 5.10).
    case batchCompressed = 0x08
    case error = 0x0F
    // Reserved for the control plane.
    case configPush = 0x10
    case taskAssign = 0x11
    case taskControl = 0x12
    case configStatus = 0x20
    case taskStatus = 0x21
}

/// ERROR frame codes (docs/protocol.md, "Errors").
public enum NativeErrorCode: UInt16, Sendable {
    case unsupportedVersion = 1
    case protocolViolation = 2
    case frameTooLarge = 3
    case malformedFrame = 4
    case unauthorized = 5
    case shuttingDown = 6
    case tooManyConnections = 7
    case internalError = 8
    case idleTimeout = 9
}

/// Why a record of a BATCH was rejected (NACK reason codes).
public enum NativeRejectCode: UInt16, Sendable {
    case malformed = 1
    case invalidUTF8 = 2
    case unknownKind = 3
    case tooLarge = 4
    /// A task's data sent without the task's current lease (stale epoch, lost lease).
    case fenced = 5
}

/// A HELLO, the first frame of a daemon (docs/protocol.md, section 5.1).
///
/// Version 1 carries the daemon's identity, labels and token; version 2 adds `extensions`,
/// pairs that offer compression (``compression``) and name the daemon's de-duplication state
/// (``incarnation``). A version 1 HELLO has no extensions: ``frame(allocator:)`` leaves them
/// out, byte for byte as before version 2 existed.
public struct NativeHello: Sendable, Equatable {
    /// 1 or 2 (``supportedVersions``).
    public var version: UInt16
    public var daemonID: String
    public var region: String
    public var labels: [String: String]
    public var token: String
    public var agentVersion: String
    /// Version 2's extension pairs, by key (``NativeExtensionKey``); unknown keys are kept
    /// and ignored. Not sent with version 1.
    public var extensions: [String: String]

    public init(
        version: UInt16 = 1, daemonID: String, region: String = "", labels: [String: String] = [:], token: String = "", agentVersion: String = "",
        extensions: [String: String] = [:]
    ) {
        self.version = version
        self.daemonID = daemonID
        self.region = region
        self.labels = labels
        self.token = token
        self.agentVersion = agentVersion
        self.extensions = extensions
    }
}

/// A decoded HEARTBEAT: the daemon's own account of its state.
public struct NativeHeartbeat: Sendable, Equatable {
    public var sentAtMilliseconds: UInt64
    public var backlogBytes: UInt64
    public var oldestUnackedAgeMilliseconds: UInt64
    public var recordsSent: UInt64
    public var errors: UInt64
    public var extra: [String: String]

    public init(
        sentAtMilliseconds: UInt64 = 0, backlogBytes: UInt64 = 0, oldestUnackedAgeMilliseconds: UInt64 = 0, recordsSent: UInt64 = 0,
        errors: UInt64 = 0, extra: [String: String] = [:]
    ) {
        self.sentAtMilliseconds = sentAtMilliseconds
        self.backlogBytes = backlogBytes
        self.oldestUnackedAgeMilliseconds = oldestUnackedAgeMilliseconds
        self.recordsSent = recordsSent
        self.errors = errors
        self.extra = extra
    }
}

/// A malformed frame body: what is wrong with it.
public struct NativeMalformed: Error, Sendable {
    public let what: String

    public init(what: String) {
        self.what = what
    }
}

/// Big-endian reads of native frame bodies, each checked against the bytes left.
///
/// Public so that clients of the protocol (the simulated daemons of `Fleet`) read the node's
/// frames with the same rules the node applies to theirs (docs/protocol.md, section 2).
extension ByteBuffer {
    /// Reads a big-endian integer of a native frame body.
    /// - Parameter what: the field's name, for the error (only built when there is one).
    /// - Throws: ``NativeMalformed`` when fewer than `T`'s size bytes are left.
    public mutating func readNativeInteger<T: FixedWidthInteger>(
        _: T.Type = T.self, _ what: @autoclosure () -> String
    ) throws(NativeMalformed) -> T {
        guard let v = readInteger(endianness: .big, as: T.self) else { throw NativeMalformed(what: "\(what()) is missing") }
        return v
    }

    /// Reads a `str` (`u16` byte length, then UTF-8) of a native frame body.
    /// - Parameters:
    ///   - what: the field's name, for the error (only built when there is one).
    ///   - max: the longest accepted byte length (e.g. 128 for ids).
    /// - Throws: ``NativeMalformed`` when the string is truncated, longer than `max` bytes, or not
    ///   well-formed UTF-8.
    public mutating func readNativeString(_ what: @autoclosure () -> String, max: Int = 65_535) throws(NativeMalformed) -> String {
        let length = Int(try readNativeInteger(UInt16.self, what()))
        guard length <= max, length <= readableBytes else { throw NativeMalformed(what: "\(what()) is truncated or too long") }
        // Validated straight from the buffer: no intermediate array.
        guard let s = String(validating: readableBytesView.prefix(length), as: UTF8.self) else {
            throw NativeMalformed(what: "\(what()) is not valid UTF-8")
        }
        moveReaderIndex(forwardBy: length)
        return s
    }

    /// Writes a `str`: the `u16` big-endian byte length, then the UTF-8 bytes. Strings longer
    /// than 65,535 bytes are cut to that length.
    public mutating func writeNativeString(_ s: String) {
        let bytes = Array(s.utf8.prefix(65_535))
        writeInteger(UInt16(bytes.count), endianness: .big)
        writeBytes(bytes)
    }
}

extension NativeHello {
    /// Decodes a HELLO body of version 1 or 2.
    /// - Throws: ``NativeMalformed`` when the body does not decode exactly, `daemon_id` is
    ///   empty, a known extension has a bad value, or the version is not 1 or 2 (the node
    ///   answers another version with ERROR 1 before decoding).
    public static func decode(_ body: inout ByteBuffer) throws(NativeMalformed) -> NativeHello {
        let version = try body.readNativeInteger(UInt16.self, "version")
        guard supportedVersions.contains(version) else { throw NativeMalformed(what: "HELLO version \(version) has no known layout") }
        let daemonID = try body.readNativeString("daemon_id", max: 128)
        let region = try body.readNativeString("region", max: 64)
        let labels = try body.readNativePairs("labels")
        let token = try body.readNativeString("token")
        let agent = try body.readNativeString("agent_version")
        let extensions = try version >= 2 ? body.readNativePairs("extensions") : [:]
        guard body.readableBytes == 0 else { throw NativeMalformed(what: "HELLO has \(body.readableBytes) trailing bytes") }
        guard !daemonID.isEmpty else { throw NativeMalformed(what: "daemon_id is empty") }
        let hello = NativeHello(
            version: version, daemonID: daemonID, region: region, labels: labels, token: token, agentVersion: agent, extensions: extensions)
        try hello.checkExtensions()
        return hello
    }

    /// The whole HELLO frame (length, type 0x01, body) as a daemon sends it (docs/protocol.md,
    /// section 5.1). Labels and extensions are written sorted by key; extensions only from
    /// version 2 on.
    public func frame(allocator: ByteBufferAllocator) -> ByteBuffer {
        NativeFrames.frame(.hello, allocator: allocator) {
            $0.writeInteger(version, endianness: .big)
            $0.writeNativeString(daemonID)
            $0.writeNativeString(region)
            $0.writeNativePairs(labels)
            $0.writeNativeString(token)
            $0.writeNativeString(agentVersion)
            if version >= 2 { $0.writeNativePairs(extensions) }
        }
    }
}

extension NativeHeartbeat {
    /// The whole HEARTBEAT frame (length, type 0x06, body) as a daemon sends it
    /// (docs/protocol.md, section 5.6). Extra pairs are written sorted by key.
    public func frame(allocator: ByteBufferAllocator) -> ByteBuffer {
        NativeFrames.frame(.heartbeat, allocator: allocator) {
            $0.writeInteger(sentAtMilliseconds, endianness: .big)
            $0.writeInteger(backlogBytes, endianness: .big)
            $0.writeInteger(oldestUnackedAgeMilliseconds, endianness: .big)
            $0.writeInteger(recordsSent, endianness: .big)
            $0.writeInteger(errors, endianness: .big)
            $0.writeNativePairs(extra)
        }
    }

    public static func decode(_ body: inout ByteBuffer) throws(NativeMalformed) -> NativeHeartbeat {
        let hb = NativeHeartbeat(
            sentAtMilliseconds: try body.readNativeInteger(UInt64.self, "sent_at"),
            backlogBytes: try body.readNativeInteger(UInt64.self, "backlog_bytes"),
            oldestUnackedAgeMilliseconds: try body.readNativeInteger(UInt64.self, "oldest_unacked_age_ms"),
            recordsSent: try body.readNativeInteger(UInt64.self, "records_sent"),
            errors: try body.readNativeInteger(UInt64.self, "errors"), extra: try body.readNativePairs("extra"))
        guard body.readableBytes == 0 else { throw NativeMalformed(what: "HEARTBEAT has trailing bytes") }
        return hb
    }
}

/// Builds native frames.
public enum NativeFrames {
    /// One frame: the `u32` length, the type byte, then what `body` writes.
    public static func frame(_ type: NativeFrameType, allocator: ByteBufferAllocator, body: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        buffer.writeInteger(UInt32(0), endianness: .big)
        buffer.writeInteger(type.rawValue)
        body(&buffer)
        buffer.setInteger(UInt32(buffer.readableBytes - 4), at: buffer.readerIndex, endianness: .big)
        return buffer
    }

    /// ERROR: the code and a message (either side may send one).
    public static func error(_ code: NativeErrorCode, _ message: String, allocator: ByteBufferAllocator) -> ByteBuffer {
        frame(.error, allocator: allocator) {
            $0.writeInteger(code.rawValue, endianness: .big)
            $0.writeNativeString(message)
        }
    }

    public static func heartbeatAck(echo: UInt64, now: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        frame(.heartbeatAck, allocator: allocator) {
            $0.writeInteger(echo, endianness: .big)
            $0.writeInteger(now, endianness: .big)
        }
    }

    public static func ack(producerID: UInt64, sequence: UInt64, accepted: UInt32, duplicate: Bool, shard: Int, firstSequence: UInt64, allocator: ByteBufferAllocator) -> ByteBuffer {
        frame(.ack, allocator: allocator) {
            $0.writeInteger(producerID, endianness: .big)
            $0.writeInteger(sequence, endianness: .big)
            $0.writeInteger(accepted, endianness: .big)
            $0.writeInteger(UInt8(duplicate ? 1 : 0))
            $0.writeInteger(UInt16(truncatingIfNeeded: shard), endianness: .big)
            $0.writeInteger(duplicate ? UInt64.max : firstSequence, endianness: .big)
        }
    }

    public static func nack(producerID: UInt64, sequence: UInt64, accepted: UInt32, rejected: [(UInt32, NativeRejectCode, String)], allocator: ByteBufferAllocator) -> ByteBuffer {
        frame(.nack, allocator: allocator) {
            $0.writeInteger(producerID, endianness: .big)
            $0.writeInteger(sequence, endianness: .big)
            $0.writeInteger(accepted, endianness: .big)
            $0.writeInteger(UInt32(rejected.count), endianness: .big)
            for (index, code, reason) in rejected {
                $0.writeInteger(index, endianness: .big)
                $0.writeInteger(code.rawValue, endianness: .big)
                $0.writeNativeString(reason)
            }
        }
    }
}
