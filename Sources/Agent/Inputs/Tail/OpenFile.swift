import Glibc
import Platform

/// One file opened for reading, read with `pread` at explicit offsets, closed on release.
///
/// A file stays readable through its descriptor after it is renamed or deleted, which is how
/// a rotated or deleted file is read to its end.
///
/// Thread: used by its follower's thread only.
final class OpenFile {
    let descriptor: Int32
    /// The name it was opened by, for messages.
    let path: String

    /// Opens `path` read-only; `nil` when it no longer exists (it was rotated away between the
    /// listing and the open).
    /// - Throws: ``InputError/Code/fileAccess`` for any other failure (permission denied).
    init?(path: String) throws(InputError) {
        let fd = unsafe open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw InputError(.fileAccess, "cannot open a followed file", subject: path, cause: SystemError(.io, "open(2) failed", errno: code))
        }
        descriptor = fd
        self.path = path
    }

    deinit { close(descriptor) }

    /// The file's status now (`fstat`).
    func status() throws(InputError) -> FileStatus {
        var st = stat()
        guard unsafe fstat(descriptor, &st) == 0 else {
            throw InputError(.fileAccess, "cannot stat a followed file", subject: path, cause: SystemError(.io, "fstat(2) failed", errno: errno))
        }
        return FileStatus(st)
    }

    /// Reads up to `count` bytes at `offset` into the start of `buffer` (which must hold
    /// `count`); how many were read, 0 at the end of the file.
    func read(into buffer: inout [UInt8], count: Int, at offset: Int64) throws(InputError) -> Int {
        precondition(count <= buffer.count, "read past the buffer")
        var done = 0
        while done < count {
            let n = unsafe buffer.withUnsafeMutableBytes { raw in
                unsafe pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            }
            if n > 0 {
                done += n
                continue
            }
            if n == 0 { break }
            if errno == EINTR { continue }
            throw InputError(.fileAccess, "cannot read a followed file at offset \(offset + Int64(done))", subject: path, cause: SystemError(.io, "pread(2) failed", errno: errno))
        }
        return done
    }

    /// CRC32C of the first `length` bytes, `nil` when the file is shorter.
    func fingerprint(length: Int, scratch: inout [UInt8]) throws(InputError) -> UInt32? {
        if length == 0 { return 0 }
        if scratch.count < length { scratch = [UInt8](repeating: 0, count: length) }
        guard try read(into: &scratch, count: length, at: 0) == length else { return nil }
        return CRC32C.checksum(scratch[0 ..< length])
    }
}

extension FileStatus {
    init(_ st: stat) {
        identity = FileIdentity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        size = Int64(st.st_size)
        links = UInt64(st.st_nlink)
        modified = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        isRegularFile = (st.st_mode & S_IFMT) == S_IFREG
    }

    /// `stat` of `path` (following symbolic links); `nil` when it does not exist or cannot be
    /// looked at.
    static func of(_ path: String) -> FileStatus? {
        var st = stat()
        guard unsafe stat(path, &st) == 0 else { return nil }
        return FileStatus(st)
    }
}
