#if !os(Linux)
#error("Hypha runs on Linux only: it needs Glibc, fallocate, epoll and /proc")
#endif

// What the host gives Hypha, in one small module: files (``FileSystem``), the data-directory
// lock (``DataDirectoryLock``), worker threads (``WorkerThread``), clocks (``WallClock``,
// ``MonotonicClock``), checksums (``CRC32C``), borrowed bytes (``ByteView``) and the byte codec
// (``LEB128``, ``ByteReader``), with one error type that keeps `errno` and its cause
// (``SystemError``). Its DocC catalog is Platform.docc.
