import Glibc
import Ingest
import Platform

/// A mounted file system worth reporting, from /proc/self/mounts.
struct MountedFilesystem: Equatable {
    var device: String
    var mountPoint: String
    var type: String
}

/// What statvfs(3) says about a file system, in bytes and inodes.
struct FilesystemUsage: Equatable {
    var size: Double
    var free: Double
    var available: Double
    var files: Double
    var filesFree: Double
    var isReadOnly: Bool
}

/// Mounted file systems → `node_filesystem_{size,free,avail}_bytes`, `node_filesystem_files`,
/// `node_filesystem_files_free` and `node_filesystem_readonly`, labelled `device`, `fstype`,
/// `mountpoint`, as node_exporter names them.
///
/// Left out, as node_exporter's defaults do: virtual file systems (`proc`, `sysfs`, `cgroup`,
/// `overlay`, `squashfs`, … see ``excludedTypes``) and mount points under `/dev`, `/proc`,
/// `/sys`, `/run/credentials/`, `/var/lib/docker/` and `/var/lib/containers/storage/`. Also left
/// out, unlike node_exporter: network file systems (`nfs`, `cifs`, …), because statvfs on an
/// unreachable server blocks the reading thread for minutes. When a mount point appears twice,
/// the later mount (the one visible) counts.
enum FilesystemStats {
    static let excludedTypes: Set<String> = [
        "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs", "devpts", "devtmpfs", "fusectl", "hugetlbfs",
        "iso9660", "mqueue", "nsfs", "overlay", "proc", "procfs", "pstore", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs",
        "erofs", "sysfs", "tracefs",
        // Network file systems: statvfs may hang.
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "fuse.sshfs",
    ]
    static let excludedMountPoints = ["/dev", "/proc", "/sys"]
    static let excludedMountPrefixes = ["/run/credentials/", "/var/lib/docker/", "/var/lib/containers/storage/"]

    /// The file systems of a mounts table (`/proc/self/mounts`) worth reporting, in the order
    /// of their last mount.
    static func mounted(_ mounts: ByteView) -> [MountedFilesystem] {
        var found: [MountedFilesystem] = []
        var words = Words()
        forEachLine(mounts) { line in
            words.split(line)
            guard words.count >= 3 else { return }
            let entry = MountedFilesystem(
                device: unescape(line[words.ranges[0]]), mountPoint: unescape(line[words.ranges[1]]), type: unescape(line[words.ranges[2]]))
            guard !excludedTypes.contains(entry.type), !isExcluded(mountPoint: entry.mountPoint) else { return }
            found.removeAll { $0.mountPoint == entry.mountPoint }
            found.append(entry)
        }
        return found
    }

    /// statvfs of `mountPoint`; `nil` when it cannot be read.
    static func usage(of mountPoint: String) -> FilesystemUsage? {
        var s = statvfs()
        guard unsafe statvfs(mountPoint, &s) == 0 else { return nil }
        let block = Double(s.f_frsize)
        return FilesystemUsage(
            size: Double(s.f_blocks) * block, free: Double(s.f_bfree) * block, available: Double(s.f_bavail) * block,
            files: Double(s.f_files), filesFree: Double(s.f_ffree), isReadOnly: s.f_flag & UInt(ST_RDONLY) != 0)
    }

    static func emit(_ filesystems: [(MountedFilesystem, FilesystemUsage)], writer: inout MetricWriter, into sink: inout some RecordSink) {
        for (mount, usage) in filesystems {
            let values: [(StaticString, Double)] = [
                ("node_filesystem_size_bytes", usage.size), ("node_filesystem_free_bytes", usage.free),
                ("node_filesystem_avail_bytes", usage.available), ("node_filesystem_files", usage.files),
                ("node_filesystem_files_free", usage.filesFree), ("node_filesystem_readonly", usage.isReadOnly ? 1 : 0),
            ]
            ByteView.with(mount.device) { device in
                ByteView.with(mount.type) { type in
                    ByteView.with(mount.mountPoint) { mountPoint in
                        for (name, value) in values {
                            writer.emit(name, value, into: &sink) {
                                label("device", device, &$0)
                                label("fstype", type, &$0)
                                label("mountpoint", mountPoint, &$0)
                            }
                        }
                    }
                }
            }
        }
    }

    private static func isExcluded(mountPoint: String) -> Bool {
        excludedMountPoints.contains { mountPoint == $0 || mountPoint.hasPrefix($0 + "/") }
            || excludedMountPrefixes.contains { mountPoint.hasPrefix($0) }
    }

    /// A mounts-table word with its octal escapes (`\040` for a space) decoded.
    private static func unescape(_ word: ByteView) -> String {
        var bytes: [UInt8] = []
        var i = 0
        while i < word.count {
            if word[i] == UInt8(ascii: "\\"), i + 3 < word.count,
                let value = (1 ... 3).reduce(Optional(0), { acc, k in acc.flatMap { a in word[i + k] &- 48 < 8 ? a * 8 + Int(word[i + k] - 48) : nil } }),
                value < 256
            {
                bytes.append(UInt8(value))
                i += 4
            } else {
                bytes.append(word[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
