import Foundation

/// How a finished child process ended, and everything it printed.
public struct ProcessOutput: Sendable, CustomStringConvertible {
    /// The program and its arguments, for messages.
    public var command: String
    /// The exit status; when a signal ended the child, the signal's number (as Foundation's
    /// `Process.terminationStatus` reports it).
    public var status: Int32
    /// The signal that ended the child, or `nil` when it exited.
    public var signal: Int32?
    public var stdout: String
    public var stderr: String

    public var description: String {
        let ending = signal.map { "killed by signal \($0)" } ?? "exit \(status)"
        return "\(command): \(ending)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)"
    }
}

/// Why running a child failed: it could not start, or it ran past its timeout (then it was
/// killed, and ``output`` holds what it printed until then).
public struct ProcessError: Error, CustomStringConvertible {
    public var message: String
    /// What the child printed before it was killed; `nil` when it never started.
    public var output: ProcessOutput?

    public var description: String { output.map { "\(message)\n\($0)" } ?? message }
}

/// A child process whose stdout and stderr are read continuously, both at once, by one
/// thread (a `poll` loop), from the start until it exits. A child that fills one pipe while
/// the test waits on the other can therefore never block, and a long-running child (a
/// `hypha serve` node) can log as much as it likes while a test runs. What it printed stays
/// available (``stdout``, ``stderr``) during and after its life.
///
/// Standard input is the given bytes (then end of file), or `/dev/null`. The child inherits
/// the environment, and gets SIGPIPE's default action and no blocked signals whatever the test
/// process uses. Deinitialising a child that still runs kills it with SIGKILL: no test leaves
/// a process behind.
///
/// Thread-safe.
public final class ChildProcess: @unchecked Sendable {
    /// The program and its arguments, for messages.
    public let command: String
    /// The child's process id.
    public let pid: Int32
    private let shared: Shared

    /// Starts `executable` with `arguments`.
    /// - Parameter input: written to the child's standard input, which is then closed;
    ///   `nil` connects standard input to `/dev/null`.
    /// - Throws: ``ProcessError`` when the program cannot be started.
    public init(_ executable: String, _ arguments: [String], input: [UInt8]? = nil) throws(ProcessError) {
        command = ([executable] + arguments).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        // Socket pairs rather than pipes: they are created close-on-exec atomically, so a
        // child started at the same moment on another thread never inherits (and holds open)
        // this child's output.
        func pair() throws(ProcessError) -> (ours: Int32, theirs: Int32) {
            var fds: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                throw ProcessError(message: "socketpair for \(executable) failed: errno \(errno)")
            }
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            return (fds[0], fds[1])
        }
        let out = try pair()
        let err: (ours: Int32, theirs: Int32)
        do { err = try pair() } catch {
            close(out.ours); close(out.theirs)
            throw error
        }
        var inp: (ours: Int32, theirs: Int32)? = nil
        if input != nil {
            do { inp = try pair() } catch {
                for fd in [out.ours, out.theirs, err.ours, err.theirs] { close(fd) }
                throw error
            }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let inp {
            posix_spawn_file_actions_adddup2(&actions, inp.theirs, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, out.theirs, 1)
        posix_spawn_file_actions_adddup2(&actions, err.theirs, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        // The child has its copies; ours of its ends must go, or its output never ends.
        close(out.theirs)
        close(err.theirs)
        if let inp { close(inp.theirs) }
        guard spawned == 0 else {
            close(out.ours)
            close(err.ours)
            if let inp { close(inp.ours) }
            throw ProcessError(message: "cannot start \(command): errno \(spawned) (\(String(cString: strerror(spawned))))")
        }
        pid = child
        let shared = Shared()
        self.shared = shared
        let io = ChildIO(pid: child, stdout: out.ours, stderr: err.ours, stdin: inp?.ours, input: input ?? [], shared: shared)
        let thread = Thread { io.run() }
        thread.name = "child-\(child)"
        thread.start()
    }

    deinit {
        // Never leave a child behind, even when a test stops early. The I/O thread reaps it.
        if isRunning { kill(pid, SIGKILL) }
    }

    /// Whether the child has not exited yet.
    public var isRunning: Bool { shared.read { $0.waitStatus == nil } }

    /// What the child wrote to stdout so far.
    public var stdout: String { shared.read { String(decoding: $0.stdout, as: UTF8.self) } }

    /// What the child wrote to stderr so far.
    public var stderr: String { shared.read { String(decoding: $0.stderr, as: UTF8.self) } }

    /// Sends `signal` to the child (when it still runs).
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits until `condition` holds for what the child printed to stdout so far, the child has
    /// exited, or `timeout` passed; whether the condition held.
    public func waitForStdout(timeout: Duration, _ condition: (String) -> Bool) -> Bool {
        var held = false
        shared.wait(timeout: timeout) { state in
            held = condition(String(decoding: state.stdout, as: UTF8.self))
            return held || state.finished
        }
        return held
    }

    /// Waits for the child to exit and for its output to end, at most `timeout`.
    /// - Throws: ``ProcessError`` when it is still running then: it is killed with SIGKILL,
    ///   and the error carries what it printed.
    public func wait(timeout: Duration) throws(ProcessError) -> ProcessOutput {
        if shared.wait(timeout: timeout, until: { $0.finished }) { return output }
        kill(pid, SIGKILL)
        _ = shared.wait(timeout: .seconds(10), until: { $0.finished })
        throw ProcessError(message: "\(command) did not finish within \(timeout); killed it", output: output)
    }

    /// Sends `signal` and waits for the child to end (see ``wait(timeout:)``).
    @discardableResult
    public func stop(_ signal: Int32 = 15 /* SIGTERM */, timeout: Duration = .seconds(30)) throws(ProcessError) -> ProcessOutput {
        send(signal)
        return try wait(timeout: timeout)
    }

    /// The child's output so far and, once it ended, how it ended.
    public var output: ProcessOutput {
        shared.read { state in
            let raw = state.waitStatus ?? 0
            let signalled = state.waitStatus != nil && (raw & 0x7F) != 0
            return ProcessOutput(
                command: command, status: signalled ? raw & 0x7F : (raw >> 8) & 0xFF, signal: signalled ? raw & 0x7F : nil,
                stdout: String(decoding: state.stdout, as: UTF8.self), stderr: String(decoding: state.stderr, as: UTF8.self))
        }
    }
}

/// Runs `executable` with `arguments` to completion and returns how it ended and what it printed.
/// - Parameters:
///   - input: the child's standard input (then end of file); `nil`: `/dev/null`.
///   - timeout: how long it may run; past it the child is killed and the error shows what it
///     printed.
/// - Throws: ``ProcessError`` when it cannot start or runs past `timeout`.
public func runProcess(
    _ executable: String, _ arguments: [String], input: [UInt8]? = nil, timeout: Duration = .seconds(120)
) throws(ProcessError) -> ProcessOutput {
    try ChildProcess(executable, arguments, input: input).wait(timeout: timeout)
}

/// The `hypha` executable built beside the test bundle (`swift build` puts both in one
/// directory).
public func hyphaBinary() -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let path = (exe as NSString).deletingLastPathComponent + "/hypha"
    precondition(FileManager.default.isExecutableFile(atPath: path), "hypha binary not found at \(path); run swift build first")
    return path
}

/// Runs `hypha arguments…` to completion: ``runProcess(_:_:input:timeout:)`` on ``hyphaBinary()``.
public func runHypha(_ arguments: [String], input: [UInt8]? = nil, timeout: Duration = .seconds(120)) throws(ProcessError) -> ProcessOutput {
    try runProcess(hyphaBinary(), arguments, input: input, timeout: timeout)
}

// MARK: - The I/O thread

/// What the I/O thread tells the test: output so far, the wait status once reaped, and
/// whether everything is over (reaped, and the output ended or was given up on).
private struct ChildState {
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var waitStatus: Int32?
    var finished = false
}

private final class Shared: @unchecked Sendable {
    private let condition = NSCondition()
    private var state = ChildState()

    func read<R>(_ body: (ChildState) -> R) -> R {
        condition.lock()
        defer { condition.unlock() }
        return body(state)
    }

    func update(_ body: (inout ChildState) -> Void) {
        condition.lock()
        body(&state)
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until `predicate` holds (checked at every change) or `timeout` passes; whether it held.
    @discardableResult
    func wait(timeout: Duration, until predicate: (ChildState) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.timeInterval)
        condition.lock()
        defer { condition.unlock() }
        while !predicate(state) {
            if !condition.wait(until: deadline) { return predicate(state) }
        }
        return true
    }
}

/// One `poll` loop for a child: writes its input, reads stdout and stderr as data arrives, and
/// reaps it. Once the child exited, output that does not end within a grace period (a
/// grandchild kept the pipe open) is given up on, so a test never hangs on someone else's
/// process.
private final class ChildIO: @unchecked Sendable {
    static let grace: Duration = .seconds(2)

    let pid: pid_t
    var stdout: Int32
    var stderr: Int32
    var stdin: Int32
    let input: [UInt8]
    var written = 0
    let shared: Shared

    init(pid: pid_t, stdout: Int32, stderr: Int32, stdin: Int32?, input: [UInt8], shared: Shared) {
        self.pid = pid
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin ?? -1
        self.input = input
        self.shared = shared
    }

    func run() {
        var exitedAt: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 65_536)
        if stdin >= 0, input.isEmpty { closeInput() }
        while true {
            var fds: [pollfd] = []
            if stdout >= 0 { fds.append(pollfd(fd: stdout, events: Int16(POLLIN), revents: 0)) }
            if stderr >= 0 { fds.append(pollfd(fd: stderr, events: Int16(POLLIN), revents: 0)) }
            if stdin >= 0 { fds.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0)) }
            // Until the child is reaped, wake every 20 ms to check on it (its output may have
            // ended long before it exits).
            _ = poll(&fds, nfds_t(fds.count), 20)
            for p in fds where p.revents != 0 {
                if p.fd == stdin {
                    writeInput()
                } else {
                    drain(p.fd, into: &buffer)
                }
            }
            if exitedAt == nil {
                var status: Int32 = 0
                let r = waitpid(pid, &status, WNOHANG)
                if r == pid || (r < 0 && errno == ECHILD) {
                    exitedAt = .now
                    shared.update { $0.waitStatus = r == pid ? status : 0 }
                    if stdin >= 0 { closeInput() }
                }
            }
            if let exitedAt, (stdout < 0 && stderr < 0) || ContinuousClock.now - exitedAt > Self.grace { break }
        }
        for fd in [stdout, stderr, stdin] where fd >= 0 { close(fd) }
        shared.update { $0.finished = true }
    }

    /// Reads what `fd` has; at end of file closes it.
    private func drain(_ fd: Int32, into buffer: inout [UInt8]) {
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                let chunk = buffer[0 ..< n]
                shared.update { if fd == self.stdout { $0.stdout += chunk } else { $0.stderr += chunk } }
                continue
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
            // End of file (or an error: nothing more will come either way).
            close(fd)
            if fd == stdout { stdout = -1 } else { stderr = -1 }
            return
        }
    }

    private func writeInput() {
        while written < input.count {
            let n = input.withUnsafeBytes { Glibc.send(stdin, $0.baseAddress! + written, $0.count - written, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if n > 0 {
                written += n
                continue
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
            break  // the child closed its input: it wants no more
        }
        closeInput()
    }

    private func closeInput() {
        shutdown(stdin, Int32(SHUT_WR))
        close(stdin)
        stdin = -1
    }
}
