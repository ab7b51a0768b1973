/// What a ``CommandRunner`` runs and when (the `exec` task, docs/control.md).
public struct ExecOptions: Sendable {
    /// The command.
    public enum Command: Sendable, Equatable {
        /// A program and its arguments, run as they are (no shell). A program name without `/`
        /// is looked up in the `PATH` of the environment it runs with.
        case arguments([String])
        /// A command line for `/bin/sh -c`.
        case shell(String)
    }

    /// When the command runs.
    public enum Schedule: Sendable, Equatable {
        /// Once; a task whose checkpoint says it ran does not run it again.
        case once
        /// Every interval, counted from the start of the previous run. A run still going when
        /// the next is due delays it: runs never overlap, and missed ones are skipped.
        case every(Duration)
        /// All the time: when it exits it is started again after a back-off (1 s, doubling up
        /// to ``ExecOptions/maxRestartDelay``; back to 1 s after a run that lasted a minute).
        case keepRunning
    }

    public var command: Command
    public var schedule: Schedule
    /// The `host` of every record.
    public var host: String
    /// How long one run may take; past it its process group gets SIGTERM, then SIGKILL after
    /// ``killGrace``. `nil`: no limit.
    public var timeout: Duration?
    /// Variables set (or replaced) in the agent's environment for the command.
    public var environment: [String: String]
    /// The command's working directory; `nil`: the agent's.
    public var workingDirectory: String?
    /// The longest record, in bytes; longer lines are split into pieces marked `partial=true`.
    public var maxLineBytes: Int
    /// How long a command asked to stop (timeout, ``CommandRunner/stop()``) has before SIGKILL.
    public var killGrace: Duration
    /// How long the output may stay open after the command exited (a process it started in the
    /// background holds it) before its process group is killed.
    public var drainGrace: Duration
    /// The longest wait before a kept-running command is started again.
    public var maxRestartDelay: Duration

    public init(command: Command, schedule: Schedule = .once, host: String) {
        self.command = command
        self.schedule = schedule
        self.host = host
        timeout = nil
        environment = [:]
        workingDirectory = nil
        maxLineBytes = 64 * 1024
        killGrace = .seconds(5)
        drainGrace = .seconds(1)
        maxRestartDelay = .seconds(60)
    }

    /// The options of an `exec` task: `command` (with `shell: true` a shell command line;
    /// otherwise a JSON array of strings, or words separated by spaces), `mode` (`once`,
    /// `interval`, `keep_running`; default `interval` when `interval_seconds` is given, else
    /// `once`), `interval_seconds`, `timeout_seconds`.
    /// - Throws: ``InputError/Code/invalidParameter`` naming the parameter.
    public init(parameters: [String: String], host: String) throws(InputError) {
        let p = TaskParameters(parameters, kind: "exec")
        let text = try p.required("command")
        let command: Command
        if try p.flag("shell", default: false) {
            command = .shell(text)
        } else if text.first == "[" {
            guard let words = FlatJSON.stringArray(text), !words.isEmpty, !words[0].isEmpty else {
                throw InputError(.invalidParameter, "command \(text) is not a JSON array of strings naming a program", subject: "command")
            }
            command = .arguments(words)
        } else {
            let words = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard !words.isEmpty else { throw InputError(.invalidParameter, "an exec task needs parameter command", subject: "command") }
            command = .arguments(words)
        }
        let interval = try p.integer("interval_seconds", in: 1 ... 86_400)
        let mode = try p.choice("mode", ["once", "interval", "keep_running"], default: interval == nil ? "once" : "interval")
        let schedule: Schedule
        switch (mode, interval) {
        case ("interval", let seconds?): schedule = .every(.seconds(seconds))
        case ("interval", nil): throw InputError(.invalidParameter, "mode interval needs interval_seconds", subject: "interval_seconds")
        case (_, .some): throw InputError(.invalidParameter, "interval_seconds applies to mode interval only; mode is \(mode)", subject: "interval_seconds")
        case ("keep_running", nil): schedule = .keepRunning
        default: schedule = .once
        }
        self.init(command: command, schedule: schedule, host: host)
        if let seconds = try p.integer("timeout_seconds", in: 1 ... 86_400) {
            guard schedule != .keepRunning else {
                throw InputError(.invalidParameter, "timeout_seconds does not apply to mode keep_running", subject: "timeout_seconds")
            }
            timeout = .seconds(seconds)
        }
    }

    /// The program's arguments as it gets them (`/bin/sh -c …` for a shell command).
    var argv: [String] {
        switch command {
        case .arguments(let words): words
        case .shell(let line): ["/bin/sh", "-c", line]
        }
    }

    /// The records' `app`: the program's name without its directory (for a shell command, that of
    /// its first word).
    var app: String {
        let program: Substring =
            switch command {
            case .arguments(let words): Substring(words.first ?? "")
            case .shell(let line): line.split(separator: " ").first ?? "sh"
            }
        return String(program.split(separator: "/").last ?? program)
    }
}
