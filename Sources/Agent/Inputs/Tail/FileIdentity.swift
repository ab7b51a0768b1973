/// Which file this is, whatever its name: the device and inode numbers (`st_dev`, `st_ino`).
///
/// Two names with the same identity are one file (a rename keeps it). An inode number is reused
/// once its file is deleted, so an identity alone does not prove that a file seen later is the
/// one seen before: ``FileFollower`` checks a fingerprint of the first bytes too.
struct FileIdentity: Hashable, Sendable, CustomStringConvertible {
    var device: UInt64
    var inode: UInt64

    var description: String { "\(device):\(inode)" }
}

/// What `stat`/`fstat` says about a file, in the units the follower uses.
struct FileStatus: Equatable {
    var identity: FileIdentity
    /// Bytes.
    var size: Int64
    /// Hard links; 0 once the file was deleted (it lives on while it is open).
    var links: UInt64
    /// Last modification, nanoseconds since the epoch.
    var modified: Int64
    var isRegularFile: Bool
}
