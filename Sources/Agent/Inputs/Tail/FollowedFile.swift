import Platform

/// One file a ``FileFollower`` knows: its identity, where it stands, and its descriptor while it
/// is open.
///
/// Thread: its follower's thread.
final class FollowedFile {
    let identity: FileIdentity
    /// Discovery order: older files are read first.
    let serial: Int
    /// The name it was last seen by.
    private(set) var path: String
    private(set) var pathBytes: [UInt8]
    /// The record's `app`: the file's name when it was found.
    let appBytes: [UInt8]
    /// The open descriptor, `nil` while closed.
    var handle: OpenFile?
    /// The byte offset right after the last record emitted.
    var offset: Int64 = 0
    /// CRC32C of the first ``fingerprintLength`` bytes; after every update
    /// `fingerprintLength == min(offset, 1024)`.
    var fingerprint: UInt32 = 0
    var fingerprintLength = 0
    /// Renamed away or deleted: read to its end, then dropped.
    var isDetached = false
    /// Size and modification time at the last `fstat` while open (-1: not looked at yet).
    var lastSize: Int64 = -1
    var lastModified: Int64 = -1
    /// While closed: a rescan saw it change, so it is to be opened and read.
    var needsLook = false
    /// Monotonic time it last changed (or was found).
    var lastChange: Int64
    /// Monotonic time a read last returned bytes: the idlest open file is closed first.
    var lastRead: Int64
    /// The end of the complete lines of a pending multiline record, and since when it has stood
    /// there; `nil` when no record is pending.
    var pendingEnd: Int64?
    var pendingSince: Int64 = 0

    init(identity: FileIdentity, serial: Int, path: String, now: Int64) {
        self.identity = identity
        self.serial = serial
        self.path = path
        pathBytes = Array(path.utf8)
        appBytes = Array(FileSystem.name(of: path).utf8)
        lastChange = now
        lastRead = now
    }

    /// Notes a new name for the file.
    func rename(to path: String) {
        self.path = path
        pathBytes = Array(path.utf8)
    }

    /// Starts over at the first byte (the file was truncated or replaced).
    func restart() {
        offset = 0
        fingerprint = 0
        fingerprintLength = 0
        pendingEnd = nil
    }

    /// Whether everything it holds was emitted at the last look.
    var isReadToEnd: Bool { offset >= lastSize && pendingEnd == nil }

    var position: TailCheckpoint.Position {
        TailCheckpoint.Position(device: identity.device, inode: identity.inode, fingerprint: fingerprint, offset: offset)
    }
}

@available(*, unavailable)
extension FollowedFile: Sendable {}
