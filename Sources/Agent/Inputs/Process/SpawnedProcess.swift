import CShims
import Glibc
import Platform

/// A child process started with posix_spawn(3), with its stdout and stderr on pipes that its
/// owner reads without blocking: the one child-process helper of the agent's readers.
///
/// - The child leads a process group of its own, so ``signalGroup(_:)`` reaches whatever it
///   started (a shell's children too).
/// - It gets `/dev/null` as stdin, every signal at its default action, an empty signal mask,
///   the given environment (`NAME=value` entries) and working directory.
/// - Only the pipes' read ends stay here, non-blocking and close-on-exec; the write ends are the
///   child's alone, so a pipe ends when the child and everything it started have closed it.
/// - Releasing it while the child runs kills the group with SIGKILL and reaps the child: no
///   process is left behind and no zombie stays.
///
/// Thread: its owner's thread (not `Sendable`). ``terminate(grace:)`` and the release block for
/// at most the grace period.
final class SpawnedProcess {
    /// The child's process id (and process group id).
    let pid: pid_t
    /// The command line, for messages.
    let command: String
    /// The read end of the child's stdout, and of its stderr.
    let output: Int32
    let errors: Int32
    /// How the child ended, once reaped.
    private(set) var exit: ProcessExit?

    /// Starts `executable` (a path: resolve names with ``ProgramLookup``) with `arguments`
    /// (`arguments[0]` is the program's name as it sees it).
    /// - Throws: ``InputError/Code/commandFailed`` naming the command and the `errno`.
    init(executable: String, arguments: [String], environment: [String], workingDirectory: String?) throws(InputError) {
        command = arguments.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let out = try Self.pipe(for: command)
        let err: (read: Int32, write: Int32)
        do { err = try Self.pipe(for: command) } catch {
            close(out.read)
            close(out.write)
            throw error
        }
        var actions = unsafe posix_spawn_file_actions_t()
        unsafe posix_spawn_file_actions_init(&actions)
        defer { unsafe posix_spawn_file_actions_destroy(&actions) }
        unsafe posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        unsafe posix_spawn_file_actions_adddup2(&actions, out.write, 1)
        unsafe posix_spawn_file_actions_adddup2(&actions, err.write, 2)
        if let workingDirectory { _ = unsafe hy_spawn_addchdir(&actions, workingDirectory) }
        var attributes = posix_spawnattr_t()
        unsafe posix_spawnattr_init(&attributes)
        defer { unsafe posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        unsafe sigfillset(&all)
        unsafe posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        unsafe sigemptyset(&none)
        unsafe posix_spawnattr_setsigmask(&attributes, &none)
        unsafe posix_spawnattr_setpgroup(&attributes, 0)
        unsafe posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let argv = unsafe arguments.map { unsafe strdup($0) } + [nil]
        let envp = unsafe environment.map { unsafe strdup($0) } + [nil]
        defer { for unsafe p in unsafe argv + envp { unsafe free(p) } }
        var child: pid_t = 0
        let spawned = unsafe posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        close(out.write)
        close(err.write)
        guard spawned == 0 else {
            close(out.read)
            close(err.read)
            let place = workingDirectory.map { " in \($0)" } ?? ""
            throw InputError(.commandFailed, "cannot start \(command)\(place)", subject: executable, cause: SystemError(.io, "posix_spawn(3) failed", errno: spawned))
        }
        pid = child
        output = out.read
        errors = err.read
    }

    deinit {
        if exit == nil {
            kill(-pid, SIGKILL)
            var status: Int32 = 0
            while unsafe waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        close(output)
        close(errors)
    }

    /// Reaps the child if it has exited (without blocking); how it ended, `nil` while it runs.
    @discardableResult
    func reap() -> ProcessExit? {
        if let exit { return exit }
        var status: Int32 = 0
        let r = unsafe waitpid(pid, &status, WNOHANG)
        if r == pid { exit = ProcessExit(waitStatus: status) }
        return exit
    }

    /// Sends `signal` to the child's process group (what the child started too); nothing once
    /// the group is gone.
    func signalGroup(_ signal: Int32) {
        kill(-pid, signal)
    }

    /// Ends the child: SIGTERM to its group, then SIGKILL if it has not exited after `grace`;
    /// returns once it is reaped.
    @discardableResult
    func terminate(grace: Duration) -> ProcessExit {
        if let exit = reap() {
            signalGroup(SIGKILL)  // what it left behind
            return exit
        }
        signalGroup(SIGTERM)
        let deadline = MonotonicClock.nanoseconds() &+ grace.clampedNanoseconds
        while reap() == nil, MonotonicClock.nanoseconds() < deadline {
            var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            unsafe nanosleep(&pause, nil)
        }
        signalGroup(SIGKILL)
        var status: Int32 = 0
        while exit == nil {
            let r = unsafe waitpid(pid, &status, 0)
            if r == pid { exit = ProcessExit(waitStatus: status) } else if errno != EINTR { exit = .signalled(SIGKILL) }
        }
        return exit!
    }

    /// A pipe whose read end is non-blocking; both ends close-on-exec (the child gets its end
    /// through dup2, which clears the flag).
    private static func pipe(for command: String) throws(InputError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard unsafe hy_pipe2(&fds, O_CLOEXEC) == 0 else {
            throw InputError(.commandFailed, "cannot create a pipe for \(command)", cause: SystemError(.io, "pipe2(2) failed", errno: errno))
        }
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        return (fds[0], fds[1])
    }
}

@available(*, unavailable)
extension SpawnedProcess: Sendable {}
