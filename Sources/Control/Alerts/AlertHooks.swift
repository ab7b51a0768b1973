import Platform
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A hook that could not deliver (or be set up), with the reason.
public struct HookError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Backing: String, Sendable, Hashable { case open, write, launch, exitStatus, timedOut }
        private let backing: Backing
        private init(_ b: Backing) { backing = b }

        /// A file could not be opened.
        public static let open = Code(.open)
        /// A write or fsync failed.
        public static let write = Code(.write)
        /// A command could not be started.
        public static let launch = Code(.launch)
        /// A command exited with a non-zero status or a signal.
        public static let exitStatus = Code(.exitStatus)
        /// A command ran past its timeout and was killed.
        public static let timedOut = Code(.timedOut)

        /// The code's name.
        public var description: String { backing.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// The hook's name (``AlertHook/name``).
    public var hook: String
    /// Human-readable detail.
    public var message: String
    /// For errors from ``HookDispatcher/configure(_:)``: the index of the configuration.
    public var index: Int?

    /// An error of `hook`.
    public init(_ code: Code, hook: String, _ message: String, index: Int? = nil) {
        self.code = code
        self.hook = hook
        self.message = message
        self.index = index
    }

    /// `hook NAME: message`.
    public var description: String { "hook \(hook): \(message)" }
}

/// Something that receives alert notifications: the I/O edge of alerting.
///
/// ``deliver(_:)`` is called on one of the ``HookDispatcher``'s worker threads for this hook
/// (up to ``maxConcurrent`` at once) and may block; it is never called from the evaluation or
/// ingestion path. Implementations must be thread-safe when ``maxConcurrent`` is above 1.
public protocol AlertHook: Sendable {
    /// A short name for logs and counters (`stdout`, `file:/var/log/alerts.jsonl`, `exec:page`).
    var name: String { get }
    /// Deliveries running at the same time. Default 1 (in order).
    var maxConcurrent: Int { get }
    /// Notifications waiting for a worker; past this new ones are dropped and counted. Default 1024.
    var maxQueued: Int { get }
    /// Sends one notification. Throwing counts a failure; there is no retry.
    func deliver(_ notification: AlertNotification) throws(HookError)
    /// Reopens files (after logrotate). Default: nothing.
    func reopen()
}

extension AlertHook {
    /// One delivery at a time.
    public var maxConcurrent: Int { 1 }
    /// 1024 waiting notifications.
    public var maxQueued: Int { 1024 }
    /// Nothing to reopen.
    public func reopen() {}
}

/// Writes all of `text` to `fd`, retrying on EINTR and short writes; the errno on failure.
func writeAll(_ fd: Int32, _ text: String) -> Int32? {
    var text = text
    return text.withUTF8 { writeAll(fd, UnsafeRawBufferPointer($0)) }
}

/// Writes all of `bytes` to `fd`, retrying on EINTR and short writes; the errno on failure.
/// One `write` call unless the kernel writes less. Used by the file hook and the control store.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32? {
    var offset = 0
    while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n < 0 {
            if errno == EINTR { continue }
            return errno
        }
        offset += n
    }
    return nil
}


/// Writes each notification to standard output as JSON lines (one object per line).
public struct StdoutHook: AlertHook {
    /// `stdout`.
    public let name = "stdout"
    private let fd: Int32

    /// A hook writing to `fd` (standard output by default; tests pass a pipe).
    public init(fileDescriptor fd: Int32 = 1) { self.fd = fd }

    /// Delivers one notification (see the type's discussion); blocks until done.
    public func deliver(_ notification: AlertNotification) throws(HookError) {
        if let e = writeAll(fd, notification.jsonLines) {
            throw HookError(.write, hook: name, "write failed: \(SystemError.describe(errno: e))")
        }
    }
}

/// Appends each notification to a file as JSON lines and fsyncs it before returning.
///
/// ``reopen()`` (call it on SIGHUP, after logrotate renamed the file) only raises a flag and
/// never waits: the next delivery closes the old descriptor and opens `path` again, creating
/// it (mode 0640) when it is gone. A notification is written with one `write` on an
/// `O_APPEND` descriptor.
public final class FileHook: AlertHook {
    /// The file appended to.
    public let path: String
    /// `file:PATH`.
    public var name: String { "file:\(path)" }
    private let fd: Mutex<Int32>
    private let reopenRequested = Atomic<Bool>(false)

    /// Opens (creating) `path` for appending.
    /// - Throws: ``HookError/Code/open`` when it cannot, so a bad path is reported at load time.
    public init(path: String) throws(HookError) {
        self.path = path
        fd = Mutex(try Self.open(path))
    }

    deinit {
        let f = fd.withLock { $0 }
        if f >= 0 { close(f) }
    }

    private static func open(_ path: String) throws(HookError) -> Int32 {
        let f = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard f >= 0 else { throw HookError(.open, hook: "file:\(path)", "cannot open \(path): \(SystemError.describe(errno: errno))") }
        return f
    }

    /// Makes the next delivery reopen ``path``; returns at once.
    public func reopen() { reopenRequested.store(true, ordering: .releasing) }

    /// Delivers one notification (see the type's discussion); blocks until done.
    public func deliver(_ notification: AlertNotification) throws(HookError) {
        let text = notification.jsonLines
        try fd.withLock { (f: inout Int32) throws(HookError) in
            if reopenRequested.exchange(false, ordering: .acquiring) || f < 0 {
                if f >= 0 { close(f) }
                f = -1
                f = try Self.open(path)
            }
            if let e = writeAll(f, text) { throw HookError(.write, hook: name, "write to \(path) failed: \(SystemError.describe(errno: e))") }
            if fsync(f) != 0 { throw HookError(.write, hook: name, "fsync of \(path) failed: \(SystemError.describe(errno: errno))") }
        }
    }
}

/// Runs a command per notification with its JSON lines on standard input.
///
/// - The program is `command[0]` (looked up in `PATH` when it has no `/`), with the rest as
///   arguments; no shell. Its standard output goes to `/dev/null`, its standard error to the
///   server's.
/// - Standard input is one end of a Unix socket pair (written with `MSG_NOSIGNAL`, so a
///   command that exits without reading cannot raise SIGPIPE in the server).
/// - Past ``ExecHookOptions/timeout`` the command's process group is killed (SIGKILL) and the
///   delivery fails with ``HookError/Code/timedOut``. A non-zero exit fails with
///   ``HookError/Code/exitStatus``.
/// - Up to ``ExecHookOptions/maxConcurrent`` runs at once; ``ExecHookOptions/maxQueued``
///   notifications wait, the rest are dropped by the dispatcher and counted.
public struct ExecHook: AlertHook {
    /// The command and its limits.
    public let options: ExecHookOptions
    /// `exec:PROGRAM` (the program's base name).
    public var name: String { "exec:\((options.command.first ?? "").split(separator: "/").last.map(String.init) ?? "")" }
    /// ``ExecHookOptions/maxConcurrent``.
    public var maxConcurrent: Int { options.maxConcurrent }
    /// ``ExecHookOptions/maxQueued``.
    public var maxQueued: Int { options.maxQueued }

    /// A hook running `options.command`.
    public init(options: ExecHookOptions) { self.options = options }

    /// Delivers one notification (see the type's discussion); blocks until done.
    public func deliver(_ notification: AlertNotification) throws(HookError) {
        let deadline = DispatchTime.now() + .nanoseconds(Int(clamping: options.timeout))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.resolve(options.command[0]))
        process.arguments = Array(options.command.dropFirst())
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else {
            throw HookError(.launch, hook: name, "socketpair failed: \(SystemError.describe(errno: errno))")
        }
        let parentEnd = fds[0]
        defer { close(parentEnd) }
        let childEnd = FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
        process.standardInput = childEnd
        process.standardOutput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        do {
            try process.run()
        } catch {
            throw HookError(.launch, hook: name, "cannot run \(options.command[0]): \(error)")
        }
        try? childEnd.close()
        let pid = process.processIdentifier
        // Bound the write by the timeout too: a command that never reads must not hang us.
        var tv = timeval(tv_sec: Int(options.timeout / 1_000_000_000), tv_usec: Int(options.timeout % 1_000_000_000 / 1000))
        setsockopt(parentEnd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var payload = notification.jsonLines
        payload.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = send(parentEnd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    return  // EPIPE (it exited) or EAGAIN (timeout): the exit status tells
                }
                offset += n
            }
        }
        shutdown(parentEnd, Int32(SHUT_WR))
        if exited.wait(timeout: deadline) == .timedOut {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            _ = exited.wait(timeout: .now() + .seconds(5))
            throw HookError(.timedOut, hook: name, "\(options.command[0]) ran past \(AlertDuration.format(options.timeout)) and was killed")
        }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how = process.terminationReason == .exit ? "exited with status" : "was killed by signal"
            throw HookError(.exitStatus, hook: name, "\(options.command[0]) \(how) \(process.terminationStatus)")
        }
    }

    /// `program` itself when it contains `/`, else the first executable of that name on `PATH`.
    static func resolve(_ program: String) -> String {
        guard !program.contains("/") else { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(program)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return program
    }
}

/// Builds the hook for a configuration.
/// - Throws: ``HookError`` when a file hook cannot open its file.
func makeHook(_ configuration: HookConfiguration) throws(HookError) -> any AlertHook {
    switch configuration {
    case .stdout: StdoutHook()
    case .file(let path): try FileHook(path: path)
    case .exec(let options): ExecHook(options: options)
    }
}
