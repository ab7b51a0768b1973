#if !os(Linux)
#error("Hypha runs on Linux only: it needs Glibc, fallocate, epoll and /proc")
#endif
