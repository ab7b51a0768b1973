import CShims
import Glibc

/// The file-system operations the WAL, the control store and the alert state need, with errors
/// that name the path and keep `errno` (``SystemError``).
///
/// Every function is a thin wrapper around one or two system calls and may be called from any
/// thread; none of them retries beyond `EINTR`.
public enum FileSystem {
    /// Creates `path` and its parents (like `mkdir -p`).
    public static func makeDirectory(_ path: String) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if unsafe mkdir(current, 0o755) != 0 && Glibc.errno != EEXIST {
                throw .lastError("cannot create directory", path: current)
            }
        }
    }

    /// Names in a directory (without `.` and `..`), sorted.
    public static func list(_ path: String) throws(SystemError) -> [String] {
        guard let dir = unsafe opendir(path) else { throw .lastError("cannot list directory", path: path) }
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

    /// Whether anything exists at `path`.
    public static func exists(_ path: String) -> Bool { unsafe access(path, F_OK) == 0 }

    /// Whether `path` is a directory.
    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return unsafe stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Size and modification time (seconds since the epoch) of a file, `nil` when it cannot be
    /// read.
    public static func attributes(_ path: String) -> (size: Int, modified: Int64)? {
        var st = stat()
        guard unsafe stat(path, &st) == 0 else { return nil }
        return (Int(st.st_size), Int64(st.st_mtim.tv_sec))
    }

    /// Renames `from` to `to` (atomically replacing `to`).
    public static func rename(_ from: String, _ to: String) throws(SystemError) {
        guard unsafe Glibc.rename(from, to) == 0 else { throw .lastError("cannot rename to \(to)", path: from) }
    }

    /// Removes `path`; a missing file is not an error.
    public static func remove(_ path: String) throws(SystemError) {
        guard unsafe unlink(path) == 0 || Glibc.errno == ENOENT else { throw .lastError("cannot remove", path: path) }
    }

    /// Makes the directory's entries (creations, renames, removals) durable.
    public static func syncDirectory(_ path: String) throws(SystemError) {
        guard unsafe hy_fsync_directory(path) == HY_OK else { throw .lastError("cannot sync directory", path: path) }
    }

    /// Reads a whole (small) file; `nil` when it does not exist.
    public static func read(_ path: String) throws(SystemError) -> [UInt8]? {
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if Glibc.errno == ENOENT { return nil }
            throw .lastError("cannot open", path: path)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = unsafe chunk.withUnsafeMutableBytes { unsafe Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw .lastError("cannot read", path: path)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0 ..< n])
        }
    }

    /// Writes `bytes` to `path` through a synced temporary file (`<path>.tmp`, created with
    /// `mode`), an atomic rename and a synced directory: after a crash the file holds either the
    /// old or the new bytes, never a mix.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: UInt32 = 0o644) throws(SystemError) {
        let temporary = path + ".tmp"
        try write(temporary, bytes, flags: O_WRONLY | O_CREAT | O_TRUNC, mode: mode_t(mode))
        try rename(temporary, path)
        try syncDirectory(directory(of: path))
    }

    /// Appends `bytes` to `path` (creating it) and fsyncs.
    public static func append(_ path: String, _ bytes: [UInt8]) throws(SystemError) {
        try write(path, bytes, flags: O_WRONLY | O_CREAT | O_APPEND)
    }

    private static func write(_ path: String, _ bytes: [UInt8], flags: Int32, mode: mode_t = 0o644) throws(SystemError) {
        let fd = unsafe open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .lastError("cannot open for writing", path: path) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = unsafe bytes.withUnsafeBytes { unsafe Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw .lastError("cannot write", path: path)
            }
            done += n
        }
        guard fsync(fd) == 0 else { throw .lastError("cannot fsync", path: path) }
    }

    /// The directory part of `path` (`.` when there is none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of `path`.
    public static func name(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
