import Glibc

/// An exclusive lock on a data directory (`flock` on `<data>/hypha.lock`), held for as long as
/// this object lives, so two nodes never write the same WAL and control store. The kernel drops
/// it when the process dies, SIGKILL included, so a crashed node never leaves it behind.
///
/// The file holds the pid of the holder, for the error a second node reports.
public final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Creates the directory if needed and takes the lock.
    /// - Throws: ``SystemError`` (``SystemError/Code/busy``) naming the directory and the
    ///   holder's pid when another process holds it, or the system error.
    public init(directory: String) throws(SystemError) {
        try FileSystem.makeDirectory(directory)
        let path = directory + "/hypha.lock"
        let fd = unsafe open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .lastError("cannot open the lock file", path: path) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.pid(in: fd)
            close(fd)
            throw SystemError(
                .busy,
                "the data directory is in use by another hypha process\(holder.map { " (pid \($0))" } ?? ""); stop it or choose another --data",
                path: directory)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = unsafe pid.withUnsafeBytes { unsafe pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    private static func pid(in fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = unsafe buffer.withUnsafeMutableBytes { unsafe pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int(String(decoding: buffer[0 ..< n], as: UTF8.self).trimmingPrefix(" ").split(separator: "\n").first ?? "")
    }
}
