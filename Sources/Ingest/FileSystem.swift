import CShims
import Glibc

/// The few file-system operations the WAL needs, with errors that name the path and give the
/// system's text for errno. The directory operations are public: the control store uses them too.
public enum FileSystem {
    /// Creates `path` and its parents (like `mkdir -p`).
    public static func makeDirectory(_ path: String) throws(WALError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if unsafe mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw WALError(.io, "cannot create directory: \(systemError())", path: current)
            }
        }
    }

    /// Names in a directory (without `.` and `..`), sorted.
    public static func list(_ path: String) throws(WALError) -> [String] {
        guard let dir = unsafe opendir(path) else {
            throw WALError(.io, "cannot list directory: \(systemError())", path: path)
        }
        defer { unsafe closedir(dir) }
        var names: [String] = []
        while let entry = unsafe readdir(dir) {
            let name = unsafe withUnsafeBytes(of: entry.pointee.d_name) { raw in
                unsafe String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func exists(_ path: String) -> Bool { unsafe access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return unsafe stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Size and modification time (seconds since the epoch) of a file.
    static func attributes(_ path: String) -> (size: Int, modified: Int64)? {
        var st = stat()
        guard unsafe stat(path, &st) == 0 else { return nil }
        return (Int(st.st_size), Int64(st.st_mtim.tv_sec))
    }

    /// Renames `from` to `to` (atomically replacing `to`).
    public static func rename(_ from: String, _ to: String) throws(WALError) {
        guard unsafe Glibc.rename(from, to) == 0 else {
            throw WALError(.io, "cannot rename to \(to): \(systemError())", path: from)
        }
    }

    /// Removes `path`; a missing file is not an error.
    public static func remove(_ path: String) throws(WALError) {
        guard unsafe unlink(path) == 0 || errno == ENOENT else {
            throw WALError(.io, "cannot remove: \(systemError())", path: path)
        }
    }

    /// Makes the directory's entries (creations, renames, removals) durable.
    public static func syncDirectory(_ path: String) throws(WALError) {
        guard unsafe hy_fsync_directory(path) == HY_OK else {
            throw WALError(.io, "cannot sync directory: \(systemError())", path: path)
        }
    }

    /// Reads a whole (small) file; `nil` when it does not exist.
    static func read(_ path: String) throws(WALError) -> [UInt8]? {
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw WALError(.io, "cannot open: \(systemError())", path: path)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = unsafe chunk.withUnsafeMutableBytes { unsafe Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WALError(.io, "cannot read: \(systemError())", path: path)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0 ..< n])
        }
    }

    /// Writes `bytes` to `path` through a synced temporary file (`<path>.tmp`, created with
    /// `mode`), an atomic rename and a synced directory.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: UInt32 = 0o644) throws(WALError) {
        let temporary = path + ".tmp"
        try write(temporary, bytes, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: mode_t(mode))
        try rename(temporary, path)
        try syncDirectory(directory(of: path))
    }

    /// Appends `bytes` to `path` (creating it) and fsyncs.
    static func append(_ path: String, _ bytes: [UInt8]) throws(WALError) {
        try write(path, bytes, flags: O_WRONLY | O_CREAT | O_APPEND)
    }

    private static func write(_ path: String, _ bytes: [UInt8], flags: Int32, mode: mode_t = 0o644) throws(WALError) {
        let fd = unsafe open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WALError(.io, "cannot open for writing: \(systemError())", path: path) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = unsafe bytes.withUnsafeBytes { unsafe Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WALError(.io, "cannot write: \(systemError())", path: path)
            }
            done += n
        }
        guard fsync(fd) == 0 else { throw WALError(.io, "cannot fsync: \(systemError())", path: path) }
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
