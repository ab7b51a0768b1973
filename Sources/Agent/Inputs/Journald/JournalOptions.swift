/// What a ``JournalFollower`` reads (the `journald` task, docs/control.md).
public struct JournalOptions: Sendable {
    /// The `host` of entries that have no `_HOSTNAME`.
    public var host: String
    /// Where a task with no checkpoint starts: the oldest entry, or new entries only.
    public var from: ReadStart
    /// Only entries of these systemd units (`journalctl --unit`); empty: every entry.
    public var units: [String]
    /// The journalctl program: a path, or a name looked up in ``searchPath``.
    public var journalctl: String
    /// Where a program name is looked up (a `PATH` value); `nil`: the agent's `PATH`.
    public var searchPath: String?
    /// The longest entry (one JSON line) taken; longer ones are rejected and skipped.
    public var maxEntryBytes: Int
    /// The places whose presence shows that the host has a journal: the journald socket (a
    /// running journald), or a journal directory with something in it. When none does, the
    /// follower fails at once instead of waiting on a journal that will never come.
    public var journalLocations: [String]
    /// How long journalctl has to exit after SIGTERM before SIGKILL.
    public var stopGrace: Duration

    public init(host: String, from: ReadStart = .end) {
        self.host = host
        self.from = from
        units = []
        journalctl = "journalctl"
        searchPath = nil
        maxEntryBytes = 1 << 20
        journalLocations = ["/run/systemd/journal/socket", "/run/log/journal", "/var/log/journal"]
        stopGrace = .seconds(2)
    }

    /// The options of a `journald` task: `from` (`start` or `end`), `units` (a comma list of
    /// systemd units).
    /// - Throws: ``InputError/Code/invalidParameter`` naming the parameter.
    public init(parameters: [String: String], host: String) throws(InputError) {
        let p = TaskParameters(parameters, kind: "journald")
        self.init(host: host, from: ReadStart(rawValue: try p.choice("from", ["start", "end"], default: "end"))!)
        units = (p["units"] ?? "").split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
    }

    /// journalctl's arguments (after its name) to follow on from `cursor`.
    func arguments(after cursor: String?) -> [String] {
        var arguments = ["--output=json", "--follow", "--all", "--quiet", "--no-pager"]
        if let cursor {
            arguments += ["--after-cursor=\(cursor)", "--no-tail"]
        } else {
            arguments.append(from == .start ? "--no-tail" : "--lines=0")
        }
        return arguments + units.map { "--unit=\($0)" }
    }
}
