import Platform

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor, closed when the handle goes away. Errors name the path and errno.
final class ControlFileHandle {
    let path: String
    private let fd: Int32

    /// Opens `path` with `flags` (`O_CLOEXEC` is added); new files get mode 0644.
    init(path: String, flags: Int32) throws(ControlStoreError) {
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ControlFiles.failure(path, "cannot open") }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes all of `bytes`: one `write` call unless the kernel writes less.
    func writeAll(_ bytes: [UInt8]) throws(ControlStoreError) {
        let failure = bytes.withUnsafeBytes { Control.writeAll(fd, $0) }
        if let failure { throw ControlStoreError(SystemError(.io, "cannot write \(bytes.count) bytes", path: path, errno: failure), path: path) }
    }

    /// `fdatasync`: the data and the size, not the timestamps.
    func syncData() throws(ControlStoreError) {
        #if canImport(Glibc)
        guard fdatasync(fd) == 0 else { throw ControlFiles.failure(path, "cannot fdatasync") }
        #else
        guard fsync(fd) == 0 else { throw ControlFiles.failure(path, "cannot fsync") }
        #endif
    }

    /// `fsync`.
    func sync() throws(ControlStoreError) {
        guard fsync(fd) == 0 else { throw ControlFiles.failure(path, "cannot fsync") }
    }

    /// Cuts the file to `size` bytes.
    func truncate(to size: Int) throws(ControlStoreError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw ControlFiles.failure(path, "cannot truncate to \(size) bytes") }
    }

    /// The file's size.
    func size() throws(ControlStoreError) -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ControlFiles.failure(path, "cannot stat") }
        return Int(st.st_size)
    }

    /// The whole file, read from the start with `pread`.
    func readAll() throws(ControlStoreError) -> [UInt8] {
        let size = try size()
        var failure: Int32?
        var got = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            while got < size {
                let n = pread(fd, buffer.baseAddress! + got, size - got, off_t(got))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }
                got += n
            }
            count = got
        }
        if let failure { throw ControlStoreError(SystemError(.io, "cannot read", path: path, errno: failure), path: path) }
        guard got == size else {
            throw ControlStoreError(.io, path: path, "file shrank while reading (\(got) of \(size) bytes)")
        }
        return bytes
    }
}

/// Directory operations of the control store.
enum ControlFiles {
    /// An ``ControlStoreError/Code/io`` error carrying the current `errno`.
    static func failure(_ path: String, _ message: String) -> ControlStoreError {
        ControlStoreError(.lastError(message, path: path), path: path)
    }

    // Directory operations are Platform's (one implementation for the WAL and the store), with
    // their errors (and errno) carried over as the cause of the store's I/O errors.

    /// Creates `path` and its parents (like `mkdir -p`).
    static func makeDirectory(_ path: String) throws(ControlStoreError) { try io { () throws(SystemError) in try FileSystem.makeDirectory(path) } }

    /// Names in `path`, without `.` and `..`, sorted.
    static func list(_ path: String) throws(ControlStoreError) -> [String] { try io { () throws(SystemError) in try FileSystem.list(path) } }

    /// Makes the directory's entries (creations, renames, removals) durable.
    static func syncDirectory(_ path: String) throws(ControlStoreError) { try io { () throws(SystemError) in try FileSystem.syncDirectory(path) } }

    static func rename(_ from: String, _ to: String) throws(ControlStoreError) { try io { () throws(SystemError) in try FileSystem.rename(from, to) } }

    /// Removes `path`; a missing file is not an error.
    static func remove(_ path: String) throws(ControlStoreError) { try io { () throws(SystemError) in try FileSystem.remove(path) } }

    private static func io<T>(_ body: () throws(SystemError) -> T) throws(ControlStoreError) -> T {
        do { return try body() } catch { throw ControlStoreError(error, path: error.path ?? "") }
    }

    /// Writes `bytes` to a new `path` (replacing it) and fsyncs it.
    static func writeSynced(_ path: String, _ bytes: [UInt8]) throws(ControlStoreError) {
        let file = try ControlFileHandle(path: path, flags: O_WRONLY | O_CREAT | O_TRUNC)
        try file.writeAll(bytes)
        try file.sync()
    }
}
