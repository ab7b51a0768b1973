/// What a ``FileFollower`` follows and how (the `tail` task, docs/control.md).
public struct TailOptions: Sendable {
    /// An absolute path pattern (glob(3) with `*`, `?`, `[...]`, `{a,b}`); new matches are
    /// picked up at every rescan.
    public var path: String
    /// Where files found at the first look of a fresh task start: their first byte, or after
    /// their last complete line. Files that appear later, and every file once the task has a
    /// checkpoint, start at their first byte.
    public var from: ReadStart
    /// The `host` of every record.
    public var host: String
    /// A POSIX extended regular expression marking the first line of a multiline record
    /// (``RecordFramer``); `nil`: one record per line.
    public var multilineStart: String?
    /// How long a multiline record may wait for the line that would close it before it is
    /// emitted as it stands.
    public var multilineTimeout: Duration
    /// The longest message, in bytes; longer records are split into pieces marked
    /// `partial=true`.
    public var maxLineBytes: Int
    /// The most files held open at once. When a file must be opened beyond it, the open file
    /// idle the longest, among those read to their end, is closed (it is reopened when it
    /// grows); when every open file still has unread bytes, the new file waits.
    public var maxOpenFiles: Int
    /// How often the path pattern is expanded again and the files' names checked: new files and
    /// renames are noticed this late at most.
    public var rescanInterval: Duration
    /// How long a file that was renamed away or deleted is kept open after it stopped growing:
    /// a writer may still append to it until it reopens its log.
    public var rotateWait: Duration

    /// The defaults: start at the end, one record per line, 64 KiB lines, 256 open files, a
    /// rescan every second, rotated files kept 5 s, multiline records flushed after 2 s.
    public init(path: String, host: String, from: ReadStart = .end) {
        self.path = path
        self.host = host
        self.from = from
        multilineStart = nil
        multilineTimeout = .seconds(2)
        maxLineBytes = 64 * 1024
        maxOpenFiles = 256
        rescanInterval = .seconds(1)
        rotateWait = .seconds(5)
    }

    /// The options of a `tail` task: `path`, `from`, `multiline_start`, `max_line_kib`.
    /// - Throws: ``InputError/Code/invalidParameter`` naming the parameter.
    public init(parameters: [String: String], host: String) throws(InputError) {
        let p = TaskParameters(parameters, kind: "tail")
        let path = try p.required("path")
        guard path.hasPrefix("/") else { throw InputError(.invalidParameter, "path \"\(path)\" is not absolute", subject: "path") }
        self.init(path: path, host: host, from: ReadStart(rawValue: try p.choice("from", ["start", "end"], default: "end"))!)
        multilineStart = p["multiline_start"]
        maxLineBytes = try p.integer("max_line_kib", in: Self.maxLineKiBRange, default: 64)! * 1024
    }

    /// The range `max_line_kib` accepts.
    public static let maxLineKiBRange = 1 ... 1024
}
