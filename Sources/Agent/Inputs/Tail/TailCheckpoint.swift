/// Where a ``FileFollower`` stands in each file it knows.
///
/// Encoded as one entry per file: `"<dev>:<inode>:<fingerprint>"` → `"<offset>"`, where `dev`
/// and `inode` are decimal `st_dev` and `st_ino`, `fingerprint` is the CRC32C of the file's
/// first `min(offset, 1024)` bytes in eight lowercase hex digits, and `offset` is the decimal
/// byte offset right after the last record emitted, e.g.
/// `{"2049:1835017:9a3c01fe": "81920"}`.
///
/// On resume, a file whose device and inode match an entry continues at the entry's offset
/// when its first `min(offset, 1024)` bytes still have that fingerprint; otherwise the inode
/// was reused by another file (or the file was rewritten) and it is read from its start.
public struct TailCheckpoint: InputCheckpoint {
    /// One file's position.
    public struct Position: Hashable, Sendable {
        public var device: UInt64
        public var inode: UInt64
        /// CRC32C of the first `min(offset, 1024)` bytes.
        public var fingerprint: UInt32
        /// Bytes read and emitted.
        public var offset: Int64

        public init(device: UInt64, inode: UInt64, fingerprint: UInt32, offset: Int64) {
            self.device = device
            self.inode = inode
            self.fingerprint = fingerprint
            self.offset = offset
        }

        var identity: FileIdentity { FileIdentity(device: device, inode: inode) }
    }

    /// The bytes a fingerprint covers at most.
    public static let fingerprintBytes = 1024

    /// One position per file, ordered by device and inode.
    public var files: [Position]

    public init() { files = [] }

    public init(files: [Position]) {
        self.files = files.sorted { ($0.device, $0.inode) < ($1.device, $1.inode) }
    }

    public init(encoded: [String: String]) throws(InputError) {
        var files: [Position] = []
        for (key, value) in encoded {
            let parts = key.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), parts[2].utf8.count == 8,
                let fingerprint = UInt32(parts[2], radix: 16), let offset = Int64(value), offset >= 0
            else {
                throw InputError(
                    .invalidCheckpoint, "tail checkpoint entry \"\(key)\": \"\(value)\" is not \"<dev>:<inode>:<8 hex digits>\": \"<offset>\"",
                    subject: key)
            }
            files.append(Position(device: device, inode: inode, fingerprint: fingerprint, offset: offset))
        }
        self.init(files: files)
    }

    public var encoded: [String: String] {
        var map: [String: String] = [:]
        for f in files {
            let hex = String(f.fingerprint, radix: 16)
            map["\(f.device):\(f.inode):\(String(repeating: "0", count: 8 - hex.utf8.count))\(hex)"] = String(f.offset)
        }
        return map
    }
}
